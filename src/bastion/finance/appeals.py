"""Donation-appeal wording: "support the mujahideen", "جهزوا غازيا", "jihad with your wealth".

A payment instrument alone is not a reason to review a post (charities, shops and creators post
IBANs and wallets all day). What turns it into a terrorist-financing signal is what surrounds it:
an appeal to fund fighters, the material-support category of the text classifier (``tvec4``), a
designated group named beside it, or a sanctions list. This module finds the appeal wording, in
the languages of ``data/appeal_phrases.json`` (a maintained data file), and scores it:
``1 - Π(1 - weight)`` over the distinct phrases found, so one strong phrase (0.8) is an appeal on
its own, and generic charity words (0.3) are one only in numbers.

Text is compared after case folding, removing diacritics and Arabic short vowels and tatweel, and
unifying Arabic letter variants (أ/إ/آ → ا, ة → ه, ى → ي), so spelling variants match; phrases
only match at word boundaries. Offsets of each phrase point into the original text.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Final

import ahocorasick  # type: ignore[import-not-found]  # compiled module without type stubs

APPEAL_THRESHOLD: Final = 0.5
MAX_PHRASES: Final = 50

_ARABIC_VARIANTS: Final = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ة": "ه",
    "ى": "ي",
    "ؤ": "و",
    "ئ": "ي",
    "ـ": "",  # tatweel: stretches a word, means nothing
    "ı": "i",  # Turkish dotless i, which NFKD keeps
}


@dataclass(frozen=True, slots=True)
class AppealPhrase:
    text: str  # as found in the original text
    phrase: str  # the listed phrase it matched
    language: str
    weight: float
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "phrase": self.phrase,
            "language": self.language,
            "weight": self.weight,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True, slots=True)
class AppealFinding:
    """The appeal wording of one text: ``score`` 0-1, ``appeal`` when at or over the threshold;
    ``language`` is the language of the strongest phrase."""

    score: float
    phrases: list[AppealPhrase] = field(default_factory=list)
    language: str | None = None

    @property
    def appeal(self) -> bool:
        return self.score >= APPEAL_THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 3),
            "appeal": self.appeal,
            "language": self.language,
            "phrases": [phrase.to_dict() for phrase in self.phrases],
        }


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    mapped = _ARABIC_VARIANTS.get(char)
    if mapped is not None:
        return mapped
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.casefold()


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """``text`` compared as phrases are, and for each character of it the offset in ``text``
    of the character it came from."""
    parts: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = char.casefold() if char.isascii() else _fold_char(char)
        if folded:
            parts.append(folded)
            origin.extend([index] * len(folded))
    return "".join(parts), origin


@lru_cache(maxsize=1)
def _automaton() -> Any:
    raw = resources.files("bastion.finance").joinpath("data/appeal_phrases.json").read_text()
    automaton = ahocorasick.Automaton()
    for item in json.loads(raw)["phrases"]:
        phrase, _ = normalize_with_offsets(str(item["text"]))
        automaton.add_word(phrase, (phrase, str(item["lang"]), float(item["weight"])))
    automaton.make_automaton()
    return automaton


# Arabic writes "and", "so", "with", "for" as one letter joined to the next word (وجهزوا).
_ARABIC_PROCLITICS: Final = frozenset("وفبل")


def _boundary(normalized: str, start: int, end: int) -> bool:
    before = normalized[start - 1] if start > 0 else " "
    if before in _ARABIC_PROCLITICS and (start < 2 or not normalized[start - 2].isalnum()):
        before = " "
    after = normalized[end] if end < len(normalized) else " "
    return not before.isalnum() and not after.isalnum()


def _outermost(phrases: list[AppealPhrase]) -> list[AppealPhrase]:
    """Phrases not inside a longer phrase found (``ادعموا`` within ``ادعموا المجاهدين``)."""
    return [
        inner
        for inner in phrases
        if not any(
            outer is not inner
            and outer.start <= inner.start
            and inner.end <= outer.end
            and (outer.end - outer.start) > (inner.end - inner.start)
            for outer in phrases
        )
    ]


def find_appeal(text: str) -> AppealFinding:
    """The donation-appeal wording in ``text``."""
    if not text:
        return AppealFinding(0.0)
    normalized, origin = normalize_with_offsets(text)
    found: dict[str, AppealPhrase] = {}
    for end_index, (phrase, language, weight) in _automaton().iter(normalized):
        start = end_index - len(phrase) + 1
        if not _boundary(normalized, start, end_index + 1):
            continue
        if phrase in found or len(found) >= MAX_PHRASES:
            continue
        original_start = origin[start]
        original_end = origin[end_index] + 1
        found[phrase] = AppealPhrase(
            text[original_start:original_end],
            phrase,
            language,
            weight,
            original_start,
            original_end,
        )
    if not found:
        return AppealFinding(0.0)
    phrases = sorted(_outermost(list(found.values())), key=lambda item: item.start)
    remaining = 1.0
    for item in phrases:
        remaining *= 1.0 - item.weight
    strongest = max(phrases, key=lambda item: item.weight)
    return AppealFinding(1.0 - remaining, phrases, strongest.language)
