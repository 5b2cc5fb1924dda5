"""The blocking work behind /h and /m (fetch, hash, match), run by the routes in the threadpool.

Only translation happens here: HMA names and forms in, the library's fetcher, hasher and scanner
in the middle, HMA's response shapes out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bastion.api.hma.names import (
    DEFAULT_TYPES,
    HMA_NAME,
    NO_DISTANCE,
    HmaType,
    to_bastion,
    to_hma,
    types_for,
)
from bastion.api.inputs import MediaInput
from bastion.api.work import extract_media
from bastion.errors import InvalidInput
from bastion.match.records import Match
from bastion.runtime import Bastion
from bastion.signals.base import ContentKind, Signal
from bastion.signals.extract import Extraction

MatchesByBank = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class LookupOptions:
    """HMA's lookup filters: ``banks`` restricts the answer to those banks."""

    banks: set[str] | None = None


def extract(
    bastion: Bastion, media: MediaInput, hint: ContentKind | None, *, for_bank: bool = False
) -> Extraction:
    """Hash ``media``; when the client named a content type, the content must be of it."""
    extraction = extract_media(bastion, media, for_bank=for_bank)
    kind = extraction.media.kind
    if hint is not None and kind != hint:
        what = kind.value if kind == ContentKind.AUDIO else f"a {kind.value}"
        raise InvalidInput(f"content_type is {hint.value} but the content is {what}")
    return extraction


def _signal(extraction: Extraction, bastion_type: str) -> Signal | None:
    return next((s for s in extraction.signals if s.type == bastion_type), None)


def hash_content(
    bastion: Bastion, media: MediaInput, hint: ContentKind | None, requested: list[HmaType] | None
) -> dict[str, str]:
    """``GET/POST /h/hash``: signal type name to value, for the requested or default types."""
    extraction = extract(bastion, media, hint)
    found: dict[str, str] = {}
    for item in types_for(extraction.media.kind, requested):
        signal = _signal(extraction, item.bastion_type)
        if signal is not None:
            found[item.name] = to_hma(signal.type, signal.value)
    return found


def distance_text(match: Match) -> str:
    """A match's distance as HMA prints it: PDQ bits, vPDQ percentages, ``-`` for exact."""
    detail = match.detail or {}
    if match.signal_type == "vpdq" and "query_match_percent" in detail:
        return f"{detail['query_match_percent']:.0f}%[{detail['bank_match_percent']:.0f}%]"
    if match.signal_type == "pdq":
        return str(round(match.distance))
    return NO_DISTANCE


def _nearest(matches: Iterable[Match], banks: set[str] | None) -> list[Match]:
    """The nearest match per bank content (entry group), nearest first."""
    best: dict[tuple[str, int], Match] = {}
    for match in matches:
        if banks is not None and match.bank not in banks:
            continue
        key = (match.bank, match.group_id)
        if key not in best or match.distance < best[key].distance:
            best[key] = match
    return sorted(best.values(), key=lambda m: (m.distance, m.bank, m.group_id))


def _item(match: Match) -> dict[str, Any]:
    """HMA's two fields; a robust (variant) match adds Bastion's own, which HMA clients ignore."""
    item: dict[str, Any] = {"bank_content_id": match.group_id, "distance": distance_text(match)}
    if match.variant or match.bank_variant:
        item["bastion_variant"] = match.variant or "plain"
        item["bastion_bank_variant"] = match.bank_variant or match.signal_type
        if match.verification is not None:
            item["bastion_verification"] = match.verification
    return item


def _by_bank(matches: Iterable[Match], banks: set[str] | None) -> MatchesByBank:
    grouped: MatchesByBank = {}
    for match in _nearest(matches, banks):
        grouped.setdefault(match.bank, []).append(_item(match))
    return grouped


def _answer_name(entry_type: str, types: list[HmaType], explicit: bool) -> str | None:
    """Under which requested signal type a match on an ``entry_type`` entry is reported."""
    for item in types:
        if item.bastion_type == entry_type:
            return item.name
    if entry_type == "pdq":  # a banked photo found in a video's frames
        for item in types:
            if item.bastion_type == "vpdq":
                return item.name
    return None if explicit else HMA_NAME.get(entry_type)


def lookup_media(
    bastion: Bastion,
    media: MediaInput,
    hint: ContentKind | None,
    requested: list[HmaType] | None,
    options: LookupOptions,
    *,
    source: str,
) -> dict[str, MatchesByBank]:
    """``/m/lookup`` with content: signal type name -> bank -> matches; the scan is recorded.

    Every signal is matched and recorded; the answer covers the requested types, or without
    ``types`` HMA's defaults plus any exact-hash (MD5/SHA-256) match, so a banked hash list is
    never silently skipped.
    """
    extraction = extract(bastion, media, hint)
    kind = extraction.media.kind
    # Content HMA has no default types for (audio, other files) answers its exact-hash matches.
    types = types_for(kind, requested) if requested is not None or DEFAULT_TYPES[kind] else []
    result = bastion.scanner.scan_extraction(
        extraction, name=media.name, source=source, size=len(media.data), record=True
    )
    reported: dict[str, list[Match]] = {item.name: [] for item in types}
    for match in result.matches:
        if not match.actionable:
            continue
        name = _answer_name(match.signal_type, types, explicit=requested is not None)
        if name is not None:
            reported.setdefault(name, []).append(match)
    return {name: _by_bank(found, options.banks) for name, found in reported.items()}


def _signal_matches(bastion: Bastion, item: HmaType, value: str, *, record: bool) -> list[Match]:
    signal = Signal(item.bastion_type, to_bastion(item, value))
    return bastion.scanner.scan_signals([signal], record=record).matches


def lookup_signal(
    bastion: Bastion, item: HmaType, value: str, options: LookupOptions
) -> MatchesByBank:
    """``/m/lookup?signal_type=&signal=``: bank -> matches that may lead to action (recorded)."""
    matches = _signal_matches(bastion, item, value, record=True)
    return _by_bank((m for m in matches if m.actionable), options.banks)


def raw_lookup(
    bastion: Bastion, item: HmaType, value: str, banks: set[str] | None, include_distance: bool
) -> list[Any]:
    """``/m/raw_lookup``: every content id the index finds, nearest first; nothing recorded."""
    nearest = _nearest(_signal_matches(bastion, item, value, record=False), banks)
    if include_distance:
        return [_item(match) for match in nearest]
    return list(dict.fromkeys(match.group_id for match in nearest))
