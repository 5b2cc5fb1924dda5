"""Normalised text with a map back to the original: phrase finders work on the normal form
(:func:`bastion.signals.text_normalize.normalize_text`) and report offsets into what was written.

Used by the designated-entity matcher (:mod:`bastion.classify.entities`) and the donation-appeal
finder (:mod:`bastion.finance.appeals`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bastion.signals.text_normalize import normalize_text

MARK_CATEGORIES = frozenset({"Mn", "Mc", "Me"})


@dataclass(frozen=True, slots=True)
class _CharInfo:
    piece: str  # the character's normal form on its own
    mark: bool  # a combining mark: it belongs to the character before it
    separator: bool  # normalises to a word break (punctuation, space)


_CHAR_CACHE: dict[str, _CharInfo] = {}
_CLUSTER_CACHE: dict[str, str] = {}
_CACHE_LIMIT = 100_000


def _char_info(char: str) -> _CharInfo:
    info = _CHAR_CACHE.get(char)
    if info is None:
        piece, separator = _unit_piece(char)
        mark = unicodedata.category(char) in MARK_CATEGORIES
        info = _CharInfo(piece, mark, separator)
        if len(_CHAR_CACHE) < _CACHE_LIMIT:
            _CHAR_CACHE[char] = info
    return info


def _unit_piece(unit: str) -> tuple[str, bool]:
    """The normal form of one unit, and whether it is a word break.

    normalize_text strips the ends, so a lone separator comes back empty and an emoji loses the
    spaces put around it; between two letters both show, whereas removed characters (zero-width,
    tatweel) glue the word.
    """
    piece = normalize_text(unit)
    probe = normalize_text(f"x{unit}x")
    if not piece:
        return "", " " in probe
    before = " " if probe.startswith("x ") else ""
    after = " " if probe.endswith(" x") else ""
    return f"{before}{piece}{after}", False


def _cluster_piece(cluster: str) -> str:
    """A base character with its combining marks, normalised together (NFKC composes them)."""
    piece = _CLUSTER_CACHE.get(cluster)
    if piece is None:
        piece = _unit_piece(cluster)[0]
        if len(_CLUSTER_CACHE) >= _CACHE_LIMIT:
            _CLUSTER_CACHE.clear()
        _CLUSTER_CACHE[cluster] = piece
    return piece


_MIXED_SCRIPT = re.compile(
    r"[a-z\u00c0-\u024f].*[\u0370-\u052f]|[\u0370-\u052f].*[a-z\u00c0-\u024f]"
)


def aligned_normal_form(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` normalised, with each output character's original ``[start, end)``.

    The text is cut into units (a character and any combining marks after it), each unit is
    normalised on its own, and the pieces are joined with spaces collapsed exactly as
    :func:`normalize_text` does. For almost all text the result equals ``normalize_text(text)``;
    the one context-dependent step, look-alike folding in mixed-script words, is redone per word
    below (it maps letter to letter, so the offsets stay).
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    unit_start = 0
    unit_out = 0  # len(out) before the current unit's piece
    for index, char in enumerate(text):
        info = _char_info(char)
        if info.mark and index > 0 and unit_out <= len(out):
            # Re-normalise the unit with this mark attached (e + U+0301 -> é).
            del out[unit_out:], starts[unit_out:], ends[unit_out:]
            piece = _cluster_piece(text[unit_start : index + 1])
        else:
            unit_start, unit_out = index, len(out)
            if info.separator:
                if out and out[-1] != " ":
                    out.append(" ")
                    starts.append(index)
                    ends.append(index + 1)
                unit_out = len(out)
                continue
            piece = info.piece
        for piece_char in piece:
            if piece_char == " " and (not out or out[-1] == " "):
                continue
            out.append(piece_char)
            starts.append(unit_start)
            ends.append(index + 1)
    while out and out[-1] == " ":
        out.pop(), starts.pop(), ends.pop()
    normal = "".join(out)
    if not normal.isascii() and _MIXED_SCRIPT.search(normal):
        normal = _refold_words(normal)
    return normal, starts, ends


def _refold_words(normal: str) -> str:
    words = normal.split(" ")
    refolded = [normalize_text(word) for word in words]
    if all(len(a) == len(b) for a, b in zip(words, refolded, strict=True)):
        return " ".join(refolded)
    return normal  # a fold changed a length (very rare): keep the unfolded, aligned form
