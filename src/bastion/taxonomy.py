"""TVEC labels, following the Christchurch Call Foundation's category policy.

Codes are stable (stored in banks, cases and model outputs); display names may change.
The one table of mappings to EU TCO Regulation Art. 2(7) points and DSA statement-of-reasons
categories lives here too, so reporting never re-derives them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bastion.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class TvecCategory:
    code: str
    display_name: str
    # EU TCO Regulation (2021/784) Art. 2(7) points this category falls under; empty if none.
    tco_points: tuple[str, ...]
    # DSA transparency database "category" value for statements of reasons.
    dsa_category: str
    always_review: bool = False
    escalate: bool = False


_DSA_ILLEGAL = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH"
_DSA_VIOLENCE = "STATEMENT_CATEGORY_VIOLENCE"

CATEGORIES: tuple[TvecCategory, ...] = (
    TvecCategory("tvec0", "Not TVEC", (), "", False),
    TvecCategory(
        "tvec01", "Educational, journalistic or research exception", (), "", always_review=True
    ),
    TvecCategory(
        "tvec1", "Branded or perpetrator-produced content", ("a", "b", "c"), _DSA_VIOLENCE
    ),
    TvecCategory("tvec2", "Credible threat to life", ("d",), _DSA_VIOLENCE, escalate=True),
    TvecCategory("tvec3", "Attack tactics detail", ("d",), _DSA_VIOLENCE),
    TvecCategory("tvec4", "Material support or financing", ("c",), _DSA_ILLEGAL),
    TvecCategory("tvec5", "Instructional material", ("d",), _DSA_VIOLENCE),
    TvecCategory("tvec6", "Recruitment", ("b", "c"), _DSA_ILLEGAL),
    TvecCategory("tvec7", "Support or praise", ("a",), _DSA_ILLEGAL),
    TvecCategory("tvec8", "Incitement", ("a", "e"), _DSA_VIOLENCE),
)

BY_CODE: dict[str, TvecCategory] = {c.code: c for c in CATEGORIES}


def normalize_labels(labels: Iterable[str]) -> list[str]:
    """Validate TVEC codes (case-insensitive, ``tvec.1`` and ``TVEC1`` accepted); sorted, unique."""
    result: set[str] = set()
    for raw in labels:
        code = raw.strip().lower().replace(".", "").replace("-", "").replace("_", "")
        if not code:
            continue
        if code not in BY_CODE:
            known = ", ".join(BY_CODE)
            raise InvalidInput(f"unknown label {raw!r}; use a TVEC code ({known})")
        result.add(code)
    return sorted(result)


def parse_label_list(text: str) -> list[str]:
    """Labels written in one CSV cell or CLI option: separated by ``;``, ``,``, ``|`` or spaces."""
    for separator in ";,|":
        text = text.replace(separator, " ")
    return normalize_labels(text.split())
