"""Text normalisation: one canonical form for every way of spelling the same words.

Text signals (and entity matching) compare *normalised* text, so that trivial re-spellings of a
banked post - other case, other punctuation, invisible characters, look-alike letters, Arabic
spelling variants, other digit shapes - still match. :func:`normalize_text` applies, in order:

1. **NFKC**, which folds compatibility forms: fullwidth and mathematical alphanumerics, ligatures,
   Arabic presentation forms, circled letters, superscripts.
2. **Case folding** (``str.casefold``, e.g. ``ß`` -> ``ss``).
3. **One translate table** (precompiled at import, so the whole step is a C loop):

   * *removed*: format characters (category Cf: zero-width space/joiners, bidi controls and
     isolates, soft hyphen, BOM, word joiner, tags), variation selectors, the combining grapheme
     joiner, Arabic tatweel ``ـ``, harakat U+064B-U+065F, superscript alef U+0670 and Quranic
     marks U+06D6-U+06ED, and the Devanagari nukta U+093C (see below). Removed rather than made
     spaces, because inserting one inside a word is the usual way to break naive matching.
   * *Arabic letters folded* so that Arabic, Persian and Urdu spellings of a word meet (the Arabic
     code point is the canonical one): alef forms ``أ إ آ ٱ`` (and wavy/high-hamza alefs) -> ``ا``;
     ``ى`` and Persian/Urdu ``ی`` -> ``ي``; ``ة``, ``ۀ``, Urdu ``ہ ۂ ۃ`` and ``ھ`` -> ``ه``;
     Persian/Urdu ``ک`` and swash ``ڪ`` -> ``ك``; hamza on waw/ya ``ؤ ئ`` -> ``و ي``. These merge a
     few distinct words (``ھ`` is aspiration in Urdu, a separate letter in Sorani Kurdish), which
     is the price of matching across the spellings people actually type.
   * *Devanagari*: the nukta is dropped (NFKC has already split the precomposed nukta letters
     such as ``ज़`` into letter + nukta; ``ऩ ऱ ऴ``, which NFKC keeps composed, are mapped to their
     base letters). Informal Hindi routinely omits the nukta, so ``ज़मीन`` and ``जमीन`` must
     meet; no two common words are told apart by the nukta alone.
   * *digits*: every decimal digit (category Nd: Arabic-Indic ``٠-٩``, extended ``۰-۹``,
     Devanagari ``०-९`` and the other scripts' digits) -> ASCII ``0-9``.
   * *punctuation and most symbols -> a space*: every character of categories P* (including the
     Arabic comma, semicolon and question mark ``، ؛ ؟``, all quotes, dashes and apostrophes, and
     the modifier letters typed as apostrophes such as ``ʼ ʻ``) and
     Sm, Sc, Sk (math, currency, modifier symbols, emoji skin tones). Apostrophes are *not* kept
     inside words: ``don't`` becomes ``don t`` and ``al-Qaeda`` becomes ``al qaeda``, because
     the same word is typed with ``'``, ``’``, ``ʼ`` or no apostrophe at all, and a space is the
     only choice that makes all of those agree token by token except the last.
   * *other symbols* (category So: emoji, pictographs, dingbats) become tokens of their own
     (spaces are put around them): a flag or an emoji glued to a word must not change the word.
   * *whitespace and control characters* -> a space.

4. **Look-alike letters in mixed-script words.** A word (after step 3) that mixes Latin letters
   with Cyrillic or Greek ones is a disguise, never real spelling. If Latin letters are at least
   half of its Latin/Cyrillic/Greek letters and every Cyrillic/Greek letter in it has a Latin
   look-alike (``а е о р с х у і ј ѕ``..., ``α ο ι κ ρ τ υ χ``...), those are replaced by
   their ASCII skeleton (``jihаd`` with a Cyrillic ``а`` -> ``jihad``). Symmetrically, a word
   that is mostly Cyrillic with Latin look-alikes inside (``теppор``) gets Cyrillic letters.
   Words in one script only are never touched, so Russian and Greek text stays as it is (only
   lower-cased).
5. **Whitespace collapsed** to single spaces, none at either end.

Latin accents are kept (``é`` is not ``e``): they tell words apart, and a copy that drops them
changes only some words, which the near-duplicate signals tolerate. Leetspeak is out of scope.

The result is idempotent: ``normalize_text(normalize_text(x)) == normalize_text(x)`` (steps 1-3
repeat until the text is stable, which is one pass for almost every input).

:func:`shingles` turns tokens into stable 64-bit hashes of word n-grams (see its docstring for
the exact definition, which is part of the stored ``text_minhash``/``text_shingles`` formats).
"""

# This module is about look-alike characters, so its text is full of them on purpose.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["SHINGLE_SIZE", "normalize_text", "normalized_tokens", "shingle_array", "shingles"]

SHINGLE_SIZE = 5
"""Words per shingle for the text signals."""

# --- step 3: the translate table -------------------------------------------------------------

_ARABIC_FOLDS = {
    "\u0623": "\u0627",  # أ alef with hamza above
    "\u0625": "\u0627",  # إ alef with hamza below
    "\u0622": "\u0627",  # آ alef with madda
    "\u0671": "\u0627",  # ٱ alef wasla
    "\u0672": "\u0627",  # ٲ alef with wavy hamza above
    "\u0673": "\u0627",  # ٳ alef with wavy hamza below
    "\u0675": "\u0627",  # ٵ high hamza alef
    "\u0649": "\u064a",  # ى alef maqsura
    "\u06cc": "\u064a",  # ی Farsi yeh
    "\u0626": "\u064a",  # ئ yeh with hamza above
    "\u0678": "\u064a",  # ٸ high hamza yeh
    "\u0624": "\u0648",  # ؤ waw with hamza above
    "\u0676": "\u0648",  # ٶ high hamza waw
    "\u0677": "\u0648",  # ٷ u with hamza above
    "\u0629": "\u0647",  # ة teh marbuta
    "\u06c0": "\u0647",  # ۀ heh with yeh above
    "\u06c1": "\u0647",  # ہ heh goal (Urdu)
    "\u06c2": "\u0647",  # ۂ heh goal with hamza above
    "\u06c3": "\u0647",  # ۃ teh marbuta goal
    "\u06be": "\u0647",  # ھ heh doachashmee
    "\u06a9": "\u0643",  # ک keheh (Persian/Urdu kaf)
    "\u06aa": "\u0643",  # ڪ swash kaf
}

_DEVANAGARI_FOLDS = {
    "\u0929": "\u0928",  # ऩ -> न (NFKC keeps these three nukta letters composed)
    "\u0931": "\u0930",  # ऱ -> र
    "\u0934": "\u0933",  # ऴ -> ळ
}

# Modifier letters (category Lm, so not punctuation) that are typed as apostrophes and quotes.
_APOSTROPHE_LETTERS = "\u02b9\u02ba\u02bb\u02bc\u02bd\u02c8\u02ee\ua78c"

_REMOVED_RANGES = (
    (0x0640, 0x0640),  # Arabic tatweel
    (0x064B, 0x065F),  # harakat, hamza above/below and other Arabic combining marks
    (0x0670, 0x0670),  # superscript alef
    (0x06D6, 0x06ED),  # Quranic annotation marks
    (0x093C, 0x093C),  # Devanagari nukta
    (0x034F, 0x034F),  # combining grapheme joiner
    (0xFE00, 0xFE0F),  # variation selectors
    (0xE0100, 0xE01EF),  # variation selectors supplement
)

# Planes 0 and 1 hold every punctuation, symbol, digit and format character that matters here;
# plane 14 holds tags and the variation selectors supplement. Scanning only these keeps import
# fast (~0.1 s) while the table still covers every character a post realistically contains.
_SCANNED_RANGES = (range(0x0000, 0x20000), range(0xE0000, 0xE1000))


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for block in _SCANNED_RANGES:
        for code in block:
            char = chr(code)
            category = unicodedata.category(char)
            if category == "Cf":
                table[code] = None
            elif category[0] == "P" or category in ("Sm", "Sc", "Sk", "Zs", "Zl", "Zp", "Cc"):
                if char != " ":
                    table[code] = " "
            elif category == "So":
                table[code] = f" {char} "
            elif category == "Nd":
                table[code] = str(unicodedata.decimal(char))
    for first, last in _REMOVED_RANGES:
        for code in range(first, last + 1):
            table[code] = None
    for char in _APOSTROPHE_LETTERS:
        table[ord(char)] = " "
    for source, target in (*_ARABIC_FOLDS.items(), *_DEVANAGARI_FOLDS.items()):
        table[ord(source)] = target
    # ASCII digits and letters map to themselves: leave them out so translate's fast path holds.
    return {code: value for code, value in table.items() if value != chr(code)}


_TABLE = _build_table()

# --- step 4: look-alike letters ----------------------------------------------------------------

# Lower-case letters only: case folding has run. Several map by their capital's shape (Cyrillic
# в/н/м/т/к, Greek η/μ/ν) because disguises are typed in capitals as often as not.
_TO_LATIN = {
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "н": "h", "і": "i", "ј": "j",
    "к": "k", "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y",
    "ү": "y", "ԝ": "w", "х": "x", "ѵ": "v", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k", "μ": "m", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "y", "χ": "x", "ϲ": "c", "ϳ": "j",
}  # fmt: skip
_TO_CYRILLIC = {
    "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "i": "і", "j": "ј", "k": "к", "m": "м",
    "o": "о", "p": "р", "s": "ѕ", "t": "т", "x": "х", "y": "у",
}  # fmt: skip
_LATIN_FOLD_TABLE = str.maketrans(_TO_LATIN)
_CYRILLIC_FOLD_TABLE = str.maketrans(_TO_CYRILLIC)

_LATIN_CLASS = "a-z\u00c0-\u024f\u1e00-\u1eff"
_CYRILLIC_CLASS = "\u0400-\u052f\u1c80-\u1c8f\ua640-\ua69f"
_GREEK_CLASS = "\u0370-\u03ff\u1f00-\u1fff"
_LATIN = re.compile(f"[{_LATIN_CLASS}]")
_CYRILLIC = re.compile(f"[{_CYRILLIC_CLASS}]")
_GREEK = re.compile(f"[{_GREEK_CLASS}]")
_CYRILLIC_OR_GREEK = re.compile(f"[{_CYRILLIC_CLASS}{_GREEK_CLASS}]")


def _fold_word(word: str) -> str:
    """The word with look-alikes replaced, when it mixes scripts (see the module docstring)."""
    latin = _LATIN.findall(word)
    if not latin:
        return word
    cyrillic = _CYRILLIC.findall(word)
    greek = _GREEK.findall(word)
    foreign = cyrillic + greek
    if len(latin) >= len(foreign):
        if not all(char in _TO_LATIN for char in foreign):
            return word
        folded = word.translate(_LATIN_FOLD_TABLE)
    elif not greek and len(cyrillic) > len(latin) and all(char in _TO_CYRILLIC for char in latin):
        folded = word.translate(_CYRILLIC_FOLD_TABLE)
    else:
        return word
    # A swapped base letter may now compose with a following combining mark (e + U+0301 -> é),
    # so steps 1-3 run again to keep the result a fixed point.
    return _fold_characters(folded)


def _fold_lookalikes(text: str) -> str:
    if text.isascii() or not _CYRILLIC_OR_GREEK.search(text):
        return text  # the common case: nothing to disguise with
    return " ".join(
        _fold_word(word) if _LATIN.search(word) and _CYRILLIC_OR_GREEK.search(word) else word
        for word in text.split()
    )


# --- the pipeline --------------------------------------------------------------------------------

_MAX_PASSES = 4


def _fold_characters(text: str) -> str:
    """Steps 1-3, repeated until stable: case folding and removals can un-normalise NFKC text."""
    for _ in range(_MAX_PASSES):
        folded = unicodedata.normalize("NFKC", text).casefold().translate(_TABLE)
        if folded == text:
            break
        text = folded
        if unicodedata.is_normalized("NFKC", text) and text.casefold() == text:
            break
    return text


def normalize_text(text: str) -> str:
    """The canonical form of ``text`` (see the module docstring); ``""`` for blank text."""
    folded = _fold_characters(text)
    return " ".join(_fold_lookalikes(folded).split())


def normalized_tokens(text: str) -> list[str]:
    """The words of the normalised text."""
    return normalize_text(text).split()


# --- shingles ------------------------------------------------------------------------------------

_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1
_TOKEN_HASH_CACHE: dict[str, int] = {}
_TOKEN_CACHE_LIMIT = 200_000


def _token_hash(token: str) -> int:
    found = _TOKEN_HASH_CACHE.get(token)
    if found is None:
        digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
        found = int.from_bytes(digest, "little")
        if len(_TOKEN_HASH_CACHE) >= _TOKEN_CACHE_LIMIT:
            _TOKEN_HASH_CACHE.clear()  # crude bound: the cache only saves time
        _TOKEN_HASH_CACHE[token] = found
    return found


@functools.cache
def _position_multipliers(size: int) -> npt.NDArray[np.uint64]:
    return np.array([((2 * j + 1) * _GOLDEN) & _MASK64 for j in range(size)], dtype=np.uint64)


def mix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The SplitMix64 finaliser: spreads every input bit over every output bit."""
    x = values ^ (values >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    mixed: npt.NDArray[np.uint64] = x ^ (x >> np.uint64(31))
    return mixed


def shingle_array(tokens: Sequence[str], size: int = SHINGLE_SIZE) -> npt.NDArray[np.uint64]:
    """:func:`shingles` as a uint64 array (what the signals use)."""
    if size < 1:
        raise ValueError("shingle size must be at least 1")
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    hashes = np.fromiter((_token_hash(t) for t in tokens), dtype=np.uint64, count=len(tokens))
    width = min(size, len(hashes))
    count = len(hashes) - width + 1
    multipliers = _position_multipliers(width)
    total = np.zeros(count, dtype=np.uint64)
    for j in range(width):
        total += hashes[j : j + count] * multipliers[j]  # wraps mod 2**64, as intended
    return mix64(total)


def shingles(tokens: Sequence[str], size: int = SHINGLE_SIZE) -> list[int]:
    """Stable 64-bit hashes of the word ``size``-grams of ``tokens``, in text order.

    A text shorter than ``size`` words is one shingle of all its words. Definition (it is part of
    the stored signal formats, so never change it without a new value prefix): each token's hash
    ``t`` is its UTF-8 BLAKE2b digest of 8 bytes read little-endian; the n-gram of tokens
    ``t0..t(k-1)`` hashes to ``mix64(sum(t_j * (2j+1) * 0x9E3779B97F4A7C15) mod 2**64)``, where
    ``mix64`` is the SplitMix64 finaliser. Duplicates are kept (one hash per position).
    """
    return [int(value) for value in shingle_array(tokens, size).tolist()]
