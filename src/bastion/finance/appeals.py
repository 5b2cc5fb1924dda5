"""Donation-appeal wording: "support the mujahideen", "جهزوا غازيا", "jihad with your wealth".

A payment instrument alone is not a reason to review a post (charities, shops and creators post
IBANs and wallets all day). What turns it into a terrorist-financing signal is what surrounds it:
an appeal to fund fighters, the material-support category of the text classifier (``tvec4``), a
designated group named beside it, or a sanctions list. This module finds the appeal wording, in
the languages of ``data/appeal_phrases.json`` (a maintained data file), and scores it:
``1 - Π(1 - weight)`` over the distinct phrases found (a phrase inside a longer one found does
not count again). It is an appeal when the score reaches 0.5 *and* one phrase is strong (0.5 or
more): one strong phrase ("support the mujahideen", 0.8) is an appeal on its own, while generic
charity words (0.25-0.35), however many, never are, since every mosque and food bank uses them.

Phrases and text are compared in the normal form the designated-entity matcher uses
(:func:`bastion.signals.text_align.aligned_normal_form`), at word boundaries, and offsets point
into the original text. Arabic writes "and", "so", "with" and "for" as one letter joined to the
next word (وجهزوا): an Arabic phrase also matches with such a letter before it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Final

import ahocorasick  # type: ignore[import-not-found]  # compiled module without type stubs

from bastion.signals.text_align import aligned_normal_form
from bastion.signals.text_normalize import normalize_text

APPEAL_THRESHOLD: Final = 0.5
# A phrase at least this strong must be among those found: charity words alone ("donate",
# "zakat", "sadaqah"), however many, are how every mosque and food bank asks for money.
STRONG_WEIGHT: Final = 0.5
MAX_PHRASES: Final = 50
_ARABIC_PROCLITICS: Final = ("و", "ف", "ب", "ل")


@dataclass(frozen=True, slots=True)
class AppealPhrase:
    text: str  # as found in the original text
    phrase: str  # the listed phrase it matched (normal form)
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
        strong = any(phrase.weight >= STRONG_WEIGHT for phrase in self.phrases)
        return strong and self.score >= APPEAL_THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 3),
            "appeal": self.appeal,
            "language": self.language,
            "phrases": [phrase.to_dict() for phrase in self.phrases],
        }


@dataclass(frozen=True, slots=True)
class _Phrase:
    phrase: str
    language: str
    weight: float


@lru_cache(maxsize=1)
def _automaton() -> Any:
    """Keys are `` phrase `` padded with spaces: in the padded normal form, that is a match at
    word boundaries (the normal form turns every separator into one space)."""
    raw = resources.files("bastion.finance").joinpath("data/appeal_phrases.json").read_text()
    automaton = ahocorasick.Automaton()
    for item in json.loads(raw)["phrases"]:
        phrase, language = normalize_text(str(item["text"])), str(item["lang"])
        weight = float(item["weight"])
        automaton.add_word(f" {phrase} ", _Phrase(phrase, language, weight))
        if language == "ar":
            for letter in _ARABIC_PROCLITICS:
                automaton.add_word(f" {letter}{phrase} ", _Phrase(phrase, language, weight))
    automaton.make_automaton()
    return automaton


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
    automaton = _automaton()
    # Most posts carry no appeal: the offset map is built only when the plain form has one.
    if not any(True for _ in automaton.iter(f" {normalize_text(text)} ")):
        return AppealFinding(0.0)
    normal, starts, ends = aligned_normal_form(text)
    found: dict[str, AppealPhrase] = {}
    for last, target in automaton.iter(f" {normal} "):
        if target.phrase in found or len(found) >= MAX_PHRASES:
            continue
        # In the padded string the phrase ends at ``last - 1``; in ``normal`` one less.
        last_char = last - 2
        first_char = last_char - len(target.phrase) + 1
        start, end = starts[first_char], ends[last_char]
        found[target.phrase] = AppealPhrase(
            text[start:end], target.phrase, target.language, target.weight, start, end
        )
    phrases = sorted(_outermost(list(found.values())), key=lambda item: item.start)
    if not phrases:
        return AppealFinding(0.0)
    remaining = 1.0
    for item in phrases:
        remaining *= 1.0 - item.weight
    strongest = max(phrases, key=lambda item: item.weight)
    return AppealFinding(1.0 - remaining, phrases, strongest.language)
