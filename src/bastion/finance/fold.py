"""Folding look-alike characters back to the ASCII that payment identifiers are written in.

Posts hide addresses from filters by writing them with characters that look Latin but are not:
Cyrillic ``а``/``е``/``о``, Greek ``Ο``, full-width ``１２３``, mathematical ``𝟏𝐀``, Arabic-Indic
digits, or by slipping zero-width spaces and bidi controls inside. :func:`fold_text` undoes that
in one pass:

* one-to-one replacements (the table below, written by hand from the look-alikes of Unicode's
  confusables list; full-width, mathematical and letterlike forms whose NFKC form is one ASCII
  letter or digit; every Unicode decimal digit to its ASCII digit) go through ``str.translate``;
* invisible characters (zero-width space/joiners, word joiner, BOM, soft hyphen, bidi marks,
  embeddings, overrides and isolates) are removed. Only when a text holds any is an offset map
  built, so offsets into the folded text can be mapped back to the original one.

Only characters that are nearly indistinguishable from a Latin letter or digit are folded; a
Cyrillic ``п`` or ``и`` stays, so Russian text keeps most of its letters, and nothing becomes a
payment identifier that did not look like one.
"""

from __future__ import annotations

import bisect
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["FoldedText", "fold_char_table", "fold_text", "lower_same_length"]

# Look-alikes of Latin letters and digits: (code point, ASCII). Cyrillic, Greek, Armenian and a
# few Latin letters of other alphabets (dotless i, Latin alpha, script g) that read as ASCII.
_LOOKALIKES: Final[tuple[tuple[int, str], ...]] = (
    # Cyrillic capitals
    (0x0405, "S"),  # DZE
    (0x0406, "I"),  # BYELORUSSIAN-UKRAINIAN I
    (0x0408, "J"),  # JE
    (0x0410, "A"),
    (0x0412, "B"),  # VE
    (0x0415, "E"),
    (0x0417, "3"),  # ZE
    (0x041A, "K"),
    (0x041C, "M"),
    (0x041D, "H"),  # EN
    (0x041E, "O"),
    (0x0420, "P"),  # ER
    (0x0421, "C"),  # ES
    (0x0422, "T"),
    (0x0423, "Y"),  # U
    (0x0425, "X"),  # HA
    (0x04AE, "Y"),  # STRAIGHT U
    (0x04BA, "H"),  # SHHA
    (0x04C0, "I"),  # PALOCHKA
    (0x051A, "Q"),  # QA
    (0x051C, "W"),  # WE
    # Cyrillic small letters
    (0x0430, "a"),
    (0x0431, "6"),  # BE
    (0x0435, "e"),
    (0x043E, "o"),
    (0x0440, "p"),  # ER
    (0x0441, "c"),  # ES
    (0x0443, "y"),  # U
    (0x0445, "x"),  # HA
    (0x0455, "s"),  # DZE
    (0x0456, "i"),  # BYELORUSSIAN-UKRAINIAN I
    (0x0458, "j"),  # JE
    (0x04AF, "y"),  # STRAIGHT U
    (0x04BB, "h"),  # SHHA
    (0x04CF, "l"),  # PALOCHKA
    (0x0501, "d"),  # KOMI DE
    (0x051B, "q"),  # QA
    (0x051D, "w"),  # WE
    # Greek capitals
    (0x0391, "A"),
    (0x0392, "B"),
    (0x0395, "E"),
    (0x0396, "Z"),
    (0x0397, "H"),
    (0x0399, "I"),
    (0x039A, "K"),
    (0x039C, "M"),
    (0x039D, "N"),
    (0x039F, "O"),
    (0x03A1, "P"),
    (0x03A4, "T"),
    (0x03A5, "Y"),
    (0x03A7, "X"),
    (0x03F9, "C"),  # CAPITAL LUNATE SIGMA
    (0x037F, "J"),  # CAPITAL YOT
    # Greek small letters
    (0x03B1, "a"),
    (0x03B9, "i"),
    (0x03BA, "k"),
    (0x03BD, "v"),
    (0x03BF, "o"),
    (0x03C1, "p"),
    (0x03C5, "u"),
    (0x03C7, "x"),
    (0x03F2, "c"),  # LUNATE SIGMA
    (0x03F3, "j"),  # YOT
    # Armenian
    (0x054D, "U"),  # SEH
    (0x0555, "O"),  # OH
    (0x0566, "q"),  # ZA
    (0x0570, "h"),  # HO
    (0x0578, "n"),  # VO
    (0x057D, "u"),  # SEH
    (0x0581, "g"),  # CO
    (0x0585, "o"),  # OH
    # Latin letters of other alphabets
    (0x0131, "i"),  # DOTLESS I
    (0x0251, "a"),  # ALPHA
    (0x0261, "g"),  # SCRIPT G
    (0x026A, "I"),  # SMALL CAPITAL I
    (0x1D00, "A"),  # SMALL CAPITAL A
    (0x1D04, "C"),  # SMALL CAPITAL C
    (0x1D0F, "O"),  # SMALL CAPITAL O
    (0x1D1C, "U"),  # SMALL CAPITAL U
    (0x1D20, "V"),  # SMALL CAPITAL V
    (0x1D21, "W"),  # SMALL CAPITAL W
    (0x1D22, "Z"),  # SMALL CAPITAL Z
)

# Invisible characters removed: soft hyphen, Arabic letter mark, Mongolian vowel separator, zero
# width space/non-joiner/joiner, LRM/RLM, LRE..RLO (embeddings, PDF, overrides), word joiner and
# invisible operators, LRI..PDI (isolates), BOM / zero-width no-break space.
_REMOVED: Final = (
    "\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_REMOVED_RE: Final = re.compile(f"[{_REMOVED}]+")

# Blocks whose NFKC forms are single ASCII letters or digits: full-width forms, letterlike
# symbols, mathematical alphanumerics, enclosed/superscript digits are left alone (they are not
# written inside identifiers).
_NFKC_RANGES: Final = ((0xFF01, 0xFF5F), (0x2100, 0x2150), (0x1D400, 0x1D800))


@cache
def fold_char_table() -> dict[int, str | None]:
    """The ``str.translate`` table: code point to ASCII replacement, or None to remove."""
    table: dict[int, str | None] = {}
    for start, stop in _NFKC_RANGES:
        for code in range(start, stop):
            folded = unicodedata.normalize("NFKC", chr(code))
            if len(folded) == 1 and folded.isascii() and folded.isalnum():
                table[code] = folded
    # Every decimal digit of every script (Arabic-Indic, Persian, Devanagari, Bengali...).
    for code in range(0x80, min(sys.maxunicode, 0x1FBFF) + 1):
        char = chr(code)
        if code not in table and unicodedata.category(char) == "Nd":
            table[code] = str(unicodedata.decimal(char))
    for code, ascii_char in _LOOKALIKES:
        table[code] = ascii_char
    for char in _REMOVED:
        table[ord(char)] = None
    return table


@dataclass(frozen=True, slots=True)
class FoldedText:
    """A folded text and the way back to the original.

    ``text`` is the folded text. Offsets into it map back with :meth:`to_original` (a start) and
    :meth:`to_original_end` (an exclusive end: invisible characters right after a span are not
    taken into it, those inside are). :meth:`was_folded` tells whether a span of the folded text
    differs from what the original holds there; :attr:`changed` lists every such span.
    """

    original: str
    text: str
    # Parallel lists: the folded offset where each kept run of the original starts, and where
    # that run starts in the original. Empty when nothing was removed (offsets are equal).
    _folded_starts: list[int] = field(default_factory=list)
    _original_starts: list[int] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.text is self.original or self.text == self.original

    def to_original(self, offset: int) -> int:
        if not self._folded_starts:
            return offset
        run = bisect.bisect_right(self._folded_starts, offset) - 1
        return self._original_starts[run] + offset - self._folded_starts[run]

    def to_original_end(self, offset: int) -> int:
        if not self._folded_starts or offset <= 0:
            return offset
        return self.to_original(offset - 1) + 1

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if end <= start:
            begin = self.to_original(start)
            return begin, begin
        return self.to_original(start), self.to_original_end(end)

    def was_folded(self, start: int, end: int) -> bool:
        """Whether folded ``text[start:end]`` needed folding (replaced or removed characters)."""
        if self.text is self.original:
            return False
        begin, finish = self.original_span(start, end)
        return self.original[begin:finish] != self.text[start:end]

    @property
    def changed(self) -> list[tuple[int, int]]:
        """Spans of the ORIGINAL text whose characters were replaced or removed, merged."""
        if self.text is self.original:
            return []
        spans: list[tuple[int, int]] = []
        for match in _foldable_re().finditer(self.original):
            start, end = match.span()
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        return spans


@cache
def _foldable_re() -> re.Pattern[str]:
    chars = "".join(re.escape(chr(code)) for code in sorted(fold_char_table()))
    return re.compile(f"[{chars}]+")


@cache
def _replace_table() -> str:
    """The one-to-one replacements as a string indexed by code point (faster than a dict for
    ``str.translate``); code points past its end raise IndexError, which translate reads as
    "unchanged". Removed characters map to themselves here and are cut by ``_REMOVED_RE``."""
    table = fold_char_table()
    top = max(code for code, char in table.items() if char is not None) + 1
    chars = [chr(code) for code in range(top)]
    for code, char in table.items():
        if char is not None:
            chars[code] = char
    return "".join(chars)


_NUMPY_FROM: Final = 256  # shorter texts: str.translate (numpy's per-call cost dominates)
_TABLE_SIZE: Final = 0x20000  # code points past the table (planes 2+) are never folded
_REMOVE: Final = 0xFFFFFFFF


@cache
def _numpy_table() -> npt.NDArray[np.uint32]:
    """The fold table as an array indexed by code point: replacement, or ``_REMOVE``."""
    table = np.arange(_TABLE_SIZE, dtype=np.uint32)
    for code, char in fold_char_table().items():
        if code < _TABLE_SIZE:
            table[code] = _REMOVE if char is None else ord(char)
    return table


def fold_text(text: str) -> FoldedText:
    """Fold ``text``: look-alikes replaced, invisible characters removed (see the module doc).

    Long texts are folded with numpy (UTF-32 code points looked up in one array, removed
    characters masked out), about ten times faster than ``str.translate`` on Arabic or Cyrillic
    text; short ones with ``str.translate``. Both give the same result.
    """
    if text.isascii():
        return FoldedText(text, text)
    if len(text) >= _NUMPY_FROM:
        return _fold_numpy(text)
    folded = text.translate(_replace_table())
    if _REMOVED_RE.search(folded) is None:
        return FoldedText(text, text if folded == text else folded)
    folded = _REMOVED_RE.sub("", folded)
    folded_starts = [0]
    original_starts = [0]
    removed = 0
    for match in _REMOVED_RE.finditer(text):
        start, end = match.span()
        removed += end - start
        # The kept run after this removal starts at original ``end``; with a removal at the very
        # start of the text two runs share folded offset 0 and bisect_right picks the later one.
        folded_starts.append(end - removed)
        original_starts.append(end)
    return FoldedText(text, folded, folded_starts, original_starts)


def _fold_numpy(text: str) -> FoldedText:
    errors = "strict"
    try:
        data = text.encode("utf-32-le")
    except UnicodeEncodeError:  # lone surrogates
        errors = "surrogatepass"
        data = text.encode("utf-32-le", errors)
    codes = np.frombuffer(data, dtype="<u4")
    table = _numpy_table()
    if int(codes.max()) >= _TABLE_SIZE:
        folded_codes = np.where(
            codes < _TABLE_SIZE, table[np.minimum(codes, _TABLE_SIZE - 1)], codes
        )
    else:
        folded_codes = table[codes]
    removed = folded_codes == _REMOVE
    if not removed.any():
        folded = folded_codes.tobytes().decode("utf-32-le", errors)
        return FoldedText(text, text if folded == text else folded)
    kept = np.flatnonzero(~removed)
    folded = folded_codes[kept].tobytes().decode("utf-32-le", errors)
    if kept.size == 0:
        return FoldedText(text, folded, [0], [len(text)])
    # Kept runs: where the original position jumps by more than one, a removal came between.
    breaks = np.flatnonzero(np.diff(kept) > 1) + 1
    folded_starts = [0, *breaks.tolist()]
    original_starts = [int(kept[0]), *kept[breaks].tolist()]
    return FoldedText(text, folded, folded_starts, original_starts)


def lower_same_length(text: str) -> str:
    """``text.lower()``, but characters whose lower case is longer (``İ``) are kept as they are,
    so offsets into the result are offsets into ``text``."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)
