"""``/m/compare``: is one hash a match for another, and how far apart are they?

Answers as HMA does, ``[is_match, similarity]`` per signal type: PDQ gives ``{"distance": n}``
(a match at or under ``BASTION_PDQ_THRESHOLD``), vPDQ gives the two frame-match percentages (a
match when either reaches its ``BASTION_VPDQ_*_MATCH_PERCENT``, as Bastion's matcher decides),
exact hashes give ``{}`` (a match when identical).
"""

from __future__ import annotations

from typing import Any

from bastion.index.vpdq import VpdqIndex, VpdqMatchRule
from bastion.settings import Settings
from bastion.signals.base import DistanceSignal
from bastion.signals.registry import get_signal_type


def _vpdq(settings: Settings, left: str, right: str) -> list[Any]:
    # Percentages are wanted even below the match rule, so search with a rule that keeps all.
    index = VpdqIndex(
        VpdqMatchRule(
            min_quality=settings.pdq_min_quality, query_match_percent=0.0, bank_match_percent=0.0
        )
    )
    index.add([(1, right)])
    hits = index.search(left, settings.vpdq_frame_threshold)
    detail: dict[str, Any] = (hits[0].detail or {}) if hits else {}
    query = float(detail.get("query_match_percent", 0.0))
    compared = float(detail.get("bank_match_percent", 0.0))
    matched = (
        query >= settings.vpdq_query_match_percent or compared >= settings.vpdq_bank_match_percent
    )
    return [matched, {"query_match_percent": query, "compared_match_percent": compared}]


def compare(settings: Settings, bastion_type: str, left: str, right: str) -> list[Any]:
    """``[is_match, similarity]`` for two normalised values of ``bastion_type``."""
    if bastion_type == "vpdq":
        return _vpdq(settings, left, right)
    kind = get_signal_type(bastion_type)
    if issubclass(kind, DistanceSignal):
        distance = kind.distance(left, right)
        threshold = settings.pdq_threshold if bastion_type == "pdq" else kind.default_threshold
        return [distance <= threshold, {"distance": distance}]
    return [left == right, {}]
