"""Turning the bytes of a text (or HTML) file into a ``str``, without ever failing.

Order of evidence, strongest first (the same order browsers use):

1. a byte order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE): a BOM is never an accident;
2. a declared charset (an HTTP ``charset=`` parameter, or an HTML ``<meta charset>``), unless it
   names a legacy code page and the bytes are valid UTF-8 with non-ASCII sequences in them:
   mislabelled UTF-8 is the most common charset bug on the web, and valid multi-byte UTF-8 by
   chance in Windows-1252 or Cyrillic text is vanishingly rare;
3. strict UTF-8;
4. only when UTF-8 fails, the legacy code pages extremist material most often arrives in:
   cp1256 (Arabic, also Urdu/Persian), cp1251 (Cyrillic), cp1252/latin-1 (Western). Every one of
   them decodes any byte string, so the choice is made by a cheap plausibility score (see
   :func:`implausibility`): words that mix scripts, case flips inside words, stray symbols and
   control characters all count against a candidate.

Undecodable sequences become U+FFFD; nothing here raises on bad input. The text is cut at
``max_chars`` and says so.
"""

from __future__ import annotations

import codecs
import itertools
import re
import unicodedata
from dataclasses import dataclass, field

# BOMs, longest first: the UTF-32 LE BOM begins with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Tried in this order when UTF-8 fails; on equal scores the earlier one wins.
FALLBACK_ENCODINGS: tuple[str, ...] = ("cp1256", "cp1251", "cp1252", "latin-1")
# How much of the input the plausibility score looks at: enough to decide, cheap on big files.
_SCORE_SAMPLE_BYTES = 64 * 1024
# No codec needs more than four bytes per character, so this many bytes always hold max_chars.
_BYTES_PER_CHAR = 4

_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{1,40})""", re.IGNORECASE
)
_WORD = re.compile(r"[^\W\d_]+")
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")


@dataclass(slots=True)
class DecodedText:
    """The decoded text, which codec produced it and what had to be given up."""

    text: str
    encoding: str
    truncated: bool = False
    notes: list[str] = field(default_factory=list)


def normalise_charset(name: str | None) -> str | None:
    """Python's name for a declared charset, or None for an unknown or unusable one."""
    if not name:
        return None
    cleaned = name.strip().strip("\"'").lower()
    # WHATWG: labels for latin-1 and ascii mean windows-1252 on the web.
    if cleaned in {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"}:
        cleaned = "cp1252"
    try:
        info = codecs.lookup(cleaned)
    except LookupError:
        return None
    # A declared UTF-16/32 without a BOM says nothing about byte order; Python's generic codecs
    # would then need a BOM anyway. And no text is encoded in a binary-to-binary codec.
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def charset_from_meta(head: bytes) -> str | None:
    """The charset an HTML document declares in a ``<meta>`` tag in its first 4 KB, if any."""
    match = _META_CHARSET.search(head[:4096])
    return normalise_charset(match.group(1).decode("ascii")) if match else None


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """(codec, BOM length) when the data starts with a byte order mark."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return None


def is_strict_utf8(data: bytes, *, final: bool = True) -> bool:
    """Whether the bytes are valid UTF-8 (with ``final=False``, a cut-off last character is ok)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        decoder.decode(data, final=final)
    except UnicodeDecodeError:
        return False
    return True


def _script(char: str) -> str:
    # The first word of a character's Unicode name is its script for every letter that matters
    # here: LATIN, CYRILLIC, ARABIC, GREEK, HEBREW...
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def implausibility(text: str) -> float:
    """How unlike real writing a decoded sample is, per non-ASCII character (lower is better)."""
    non_ascii = sum(1 for char in text if ord(char) > 0x7F)
    if non_ascii == 0:
        return 0.0
    penalty = 0.0
    for char in text:
        code = ord(char)
        # U+FFFD, C0 controls, and C1 controls (latin-1's reading of cp125x punctuation).
        if (
            code == 0xFFFD
            or (code < 0x20 and char not in _ALLOWED_CONTROLS)
            or 0x7F <= code <= 0x9F
        ):
            penalty += 5
        elif code > 0x7F and not char.isalpha() and not char.isspace():
            penalty += 0.5  # a symbol where letters were expected
    for word in _WORD.findall(text):
        if len(word) < 2 or word.isascii():
            continue
        scripts = {_script(char) for char in word}
        if len(scripts) > 1:
            penalty += 2 * (len(scripts) - 1)
        # Real words are lower case, Capitalised or UPPER CASE, not lOwEr-UpPeR mixes.
        flips = sum(1 for a, b in itertools.pairwise(word) if a.islower() and b.isupper())
        penalty += flips
    return penalty / non_ascii


def _decode_prefix(data: bytes, encoding: str, max_chars: int) -> tuple[str, bool]:
    limit = max_chars * _BYTES_PER_CHAR + _BYTES_PER_CHAR
    cut = len(data) > limit
    try:
        text = data[:limit].decode(encoding, errors="replace")
    except (UnicodeError, LookupError, ValueError, TypeError):
        # Codecs such as idna accept no error handler but "strict": read the bytes as UTF-8.
        text = data[:limit].decode("utf-8", errors="replace")
    if len(text) > max_chars:
        return text[:max_chars], True
    return text, cut


def guess_legacy_encoding(data: bytes) -> str:
    """The most plausible of :data:`FALLBACK_ENCODINGS` for bytes that are not UTF-8."""
    sample = data[:_SCORE_SAMPLE_BYTES]
    scores = [
        (implausibility(sample.decode(name, errors="replace")), index, name)
        for index, name in enumerate(FALLBACK_ENCODINGS)
    ]
    return min(scores)[2]


def choose_encoding(data: bytes, declared: str | None = None) -> tuple[str, int, str]:
    """(codec, bytes to skip, why) for the data; ``declared`` is a charset label or None."""
    bom = bom_encoding(data)
    if bom is not None:
        return bom[0], bom[1], "byte order mark"
    wanted = normalise_charset(declared)
    sample = data[:_SCORE_SAMPLE_BYTES]
    utf8 = is_strict_utf8(sample, final=len(data) <= _SCORE_SAMPLE_BYTES)
    if wanted is not None:
        if not wanted.startswith(("utf-8", "utf-16", "utf-32")) and utf8 and not sample.isascii():
            return "utf-8", 0, f"valid UTF-8 despite the declared {wanted}"
        if wanted.startswith(("utf-16", "utf-32")):
            # Without a BOM the byte order is unknown: little-endian is what Windows writes.
            wanted = wanted if wanted.endswith(("-le", "-be")) else wanted + "-le"
        return wanted, 0, "declared"
    if utf8:
        return "utf-8", 0, "valid UTF-8"
    return guess_legacy_encoding(data), 0, "not UTF-8; chosen by plausibility"


def decode_text(
    data: bytes, declared: str | None = None, max_chars: int = 2_000_000
) -> DecodedText:
    """Decode ``data`` (see the module docstring); never raises on any input."""
    encoding, skip, why = choose_encoding(data, declared)
    text, truncated = _decode_prefix(data[skip:], encoding, max_chars)
    notes = [f"decoded as {encoding} ({why})"]
    if declared and normalise_charset(declared) is None:
        notes.append(f"ignored the unknown declared charset {declared[:40]!r}")
    replaced = text.count("\ufffd")
    if replaced:
        notes.append(f"{replaced} undecodable sequence(s) replaced with U+FFFD")
    if truncated:
        notes.append(f"text cut at {max_chars} characters")
    return DecodedText(text=text, encoding=encoding, truncated=truncated, notes=notes)


def control_ratio(text: str) -> float:
    """The share of characters that no text contains: NULs, C0/C1 controls, U+FFFD."""
    if not text:
        return 0.0
    bad = sum(
        1
        for char in text
        if (ord(char) < 0x20 and char not in _ALLOWED_CONTROLS)
        or 0x7F <= ord(char) <= 0x9F
        or char == "\ufffd"
    )
    return bad / len(text)
