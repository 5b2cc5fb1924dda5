"""Text signals: exact, near-duplicate and excerpt matching of posts, manifestos and statements.

All three are computed from the *normalised* text (:mod:`bastion.signals.text_normalize`), so
case, punctuation, invisible characters, look-alike letters and Arabic spelling variants never
matter. A shingle is the stable 64-bit hash of five consecutive words
(:func:`~bastion.signals.text_normalize.shingles`).

* ``text_sha256``: SHA-256 (lower-case hex) of the UTF-8 normalised text. Only identical
  wording matches, but it is cheap, exchangeable and works for texts of any length, including
  the one- and two-word texts that get no other signal.
* ``text_minhash`` (near duplicates): ``mh1:`` then base64 of :data:`MINHASH_SIZE` (128)
  little-endian uint32, the minimum over the text's shingles of 128 fixed hash functions
  ``h_k(x) = ((a_k * x + b_k) mod 2**64) >> 32`` with ``a_k`` (odd) and ``b_k`` taken from
  BLAKE2b digests of fixed labels (so they never depend on a library's random stream). The
  share of equal positions estimates the Jaccard similarity ``J`` of the two shingle sets;
  distance is ``round(100 * (1 - J))``. It answers "is this the same text, lightly edited?"
  and is symmetric, so it cannot find a short excerpt of a long text (that is far in Jaccard).
* ``text_shingles`` (excerpts): ``sh1:`` then base64 of the text's sorted unique shingles as
  little-endian uint64, at most :data:`MAX_SHINGLES` (the first ones in text order: a longer
  text should be banked in parts). Distance from a query ``a`` to a banked text ``b`` is
  ``round(100 * (1 - |A & B| / |A|))``, one minus the *containment* of the query in the banked
  text, so a quoted paragraph of a banked manifesto is at distance ~0. A query with fewer than
  :data:`MIN_QUERY_SHINGLES` shingles is too short to be evidence and is at distance 100.

**Thresholds** (measured on generated texts; the tests keep the measurements honest): five-word
shingles make every edited word cost up to five shingles, so a text of ``n`` words with ``e``
scattered word edits (insertions, deletions, swaps) keeps roughly ``J = (n - 5e) / (n + 5e)``.
Median (max over 40 texts) ``text_minhash`` distance of edited copies:

=========  ========  ========  ========  ========
words      1 edit    2 edits   4 edits   6 edits
=========  ========  ========  ========  ========
30         28 (42)   43 (63)   66 (83)   78 (90)
60         15 (23)   27 (33)   41 (55)   53 (63)
150        6 (10)    11 (18)   23 (32)   30 (41)
400        2 (5)     5 (9)     9 (15)    14 (18)
=========  ========  ========  ========  ========

Shuffling the sentences (~12 words each) of a text costs the shingles spanning sentence
boundaries: 38-46 median, 57 max. Unrelated texts of the same genre and a 70-word vocabulary
were never closer than 94 (200 pairs per length). The default ``text_minhash`` threshold is
therefore 50 (J >= 0.5, half of all five-word runs shared): 44 points from unrelated text,
and it catches one edit in a 30-word post, a few in 60 words, shuffled sentences and most
copies with one word in 20 edited. ``text_shingles`` defaults to 20 (80% of the query's
five-word runs occur in the banked text): a 60-word excerpt of a 5,000-word text is at 0
unedited, 8 (max 11) with one edit and 15 (max 21) with two, while unrelated 20-60-word texts
of the same (deliberately small) vocabulary were never under 56.

**Cost.** ``text_signals`` (normalisation included) of ~30-word posts runs at ~15,000 posts/s on
one idle core and ~4,000-5,000 on a loaded 2-core machine (``python -m
tests.signals.test_text_signals`` measures it); a 100,000-word text takes ~0.08 s.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from bastion.errors import InvalidSignal
from bastion.signals.base import DistanceSignal, Signal, SignalType
from bastion.signals.text_normalize import SHINGLE_SIZE, normalized_tokens, shingle_array

MINHASH_SIZE = 128
"""Hash functions (uint32 values) in a ``text_minhash`` value."""

MAX_SHINGLES = 500_000
"""Most shingles a ``text_shingles`` value holds (about a 500,000-word book)."""

MIN_QUERY_SHINGLES = 15
"""Fewest shingles (about 19 words) a query needs for a containment score at all."""

MIN_TOKENS_FOR_NEAR_DUPLICATES = 3
"""Texts with fewer words get only ``text_sha256``: two words are no fingerprint."""

MINHASH_PREFIX = "mh1:"
SHINGLES_PREFIX = "sh1:"

_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# Shingles per step of the MinHash computation: bounds the (128 x chunk) uint64 temporary to
# 8 MiB whatever the length of the text.
_MINHASH_CHUNK = 8192


def _parameter(label: str) -> int:
    return int.from_bytes(hashlib.blake2b(label.encode("ascii"), digest_size=8).digest(), "little")


_MULTIPLIERS = np.array(
    [_parameter(f"bastion text_minhash a {k}") | 1 for k in range(MINHASH_SIZE)], dtype=np.uint64
)[:, None]
_INCREMENTS = np.array(
    [_parameter(f"bastion text_minhash b {k}") for k in range(MINHASH_SIZE)], dtype=np.uint64
)[:, None]
# Distance of two MinHash values by the number of positions that differ, so the signal and the
# index share one rounding.
MINHASH_DISTANCE_BY_DIFFERENCES: tuple[int, ...] = tuple(
    round(100 * differing / MINHASH_SIZE) for differing in range(MINHASH_SIZE + 1)
)


# --- computing -----------------------------------------------------------------------------------


def minhash_of(shingle_hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    """The :data:`MINHASH_SIZE` minimum hash values of a non-empty array of shingles."""
    if len(shingle_hashes) == 0:
        raise ValueError("a MinHash needs at least one shingle")
    result = np.full(MINHASH_SIZE, np.iinfo(np.uint32).max, dtype=np.uint32)
    for start in range(0, len(shingle_hashes), _MINHASH_CHUNK):
        chunk = shingle_hashes[None, start : start + _MINHASH_CHUNK]
        hashed = (_MULTIPLIERS * chunk + _INCREMENTS) >> np.uint64(32)  # wraps mod 2**64
        np.minimum(result, hashed.min(axis=1).astype(np.uint32), out=result)
    return result


def capped_unique_shingles(shingle_hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Sorted unique shingles: the first :data:`MAX_SHINGLES` distinct ones in text order."""
    unique, first_seen = np.unique(shingle_hashes, return_index=True)
    if len(unique) <= MAX_SHINGLES:
        return unique
    kept = np.sort(first_seen[np.argsort(first_seen, kind="stable")[:MAX_SHINGLES]])
    capped: npt.NDArray[np.uint64] = np.sort(shingle_hashes[kept])
    return capped


def format_minhash(values: npt.NDArray[np.uint32]) -> str:
    return MINHASH_PREFIX + base64.b64encode(values.astype("<u4").tobytes()).decode("ascii")


def format_shingles(values: npt.NDArray[np.uint64]) -> str:
    return SHINGLES_PREFIX + base64.b64encode(values.astype("<u8").tobytes()).decode("ascii")


def text_signals(text: str) -> list[Signal]:
    """The ``text_sha256``, ``text_minhash`` and ``text_shingles`` signals of ``text``.

    Empty (or all-punctuation) text has none; texts of fewer than
    :data:`MIN_TOKENS_FOR_NEAR_DUPLICATES` words only ``text_sha256``.
    """
    tokens = normalized_tokens(text)
    if not tokens:
        return []
    digest = hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest()
    found = [Signal(TextSha256Signal.name, digest)]
    if len(tokens) < MIN_TOKENS_FOR_NEAR_DUPLICATES:
        return found
    hashes = shingle_array(tokens, SHINGLE_SIZE)
    found.append(Signal(TextMinHashSignal.name, format_minhash(minhash_of(hashes))))
    found.append(Signal(TextShinglesSignal.name, format_shingles(capped_unique_shingles(hashes))))
    return found


# --- parsing -------------------------------------------------------------------------------------


def _decode(value: object, signal_type: str, prefix: str, max_chars: int) -> bytes:
    """The bytes of a ``prefix``-tagged canonical base64 value; ``InvalidSignal`` otherwise."""
    if not isinstance(value, str):
        raise InvalidSignal(f"{signal_type} value must be a string", signal_type=signal_type)
    text = value.strip()
    if not text.startswith(prefix):
        raise InvalidSignal(
            f"{signal_type} value must start with {prefix!r} (format version 1)",
            signal_type=signal_type,
        )
    body = text[len(prefix) :]
    if len(body) > max_chars:
        raise InvalidSignal(f"{signal_type} value is too long", signal_type=signal_type)
    try:
        if not _BASE64.fullmatch(body):
            raise ValueError("characters outside standard base64")
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSignal(
            f"{signal_type} value is not valid base64: {exc}", signal_type=signal_type
        ) from exc
    if base64.b64encode(data).decode("ascii") != body:
        raise InvalidSignal(
            f"{signal_type} value is not canonical base64 (padding bits set)",
            signal_type=signal_type,
        )
    return data


def _base64_chars(byte_count: int) -> int:
    return 4 * ((byte_count + 2) // 3)


def parse_minhash(value: str) -> npt.NDArray[np.uint32]:
    """The 128 values of a ``mh1:`` value; ``InvalidSignal`` for anything but a canonical one."""
    data = _decode(value, TextMinHashSignal.name, MINHASH_PREFIX, _base64_chars(4 * MINHASH_SIZE))
    if len(data) != 4 * MINHASH_SIZE:
        raise InvalidSignal(
            f"text_minhash value must hold {MINHASH_SIZE} 4-byte values, not {len(data)} bytes",
            signal_type=TextMinHashSignal.name,
        )
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


def parse_shingles(value: str) -> npt.NDArray[np.uint64]:
    """The shingles of a ``sh1:`` value: non-empty, sorted, unique, at most MAX_SHINGLES."""
    name = TextShinglesSignal.name
    data = _decode(value, name, SHINGLES_PREFIX, _base64_chars(8 * MAX_SHINGLES))
    if not data or len(data) % 8:
        raise InvalidSignal(
            f"text_shingles value must hold a whole, non-zero number of 8-byte shingles, "
            f"not {len(data)} bytes",
            signal_type=name,
        )
    values = np.frombuffer(data, dtype="<u8").astype(np.uint64)
    if len(values) > MAX_SHINGLES:
        raise InvalidSignal(f"text_shingles value holds over {MAX_SHINGLES}", signal_type=name)
    if len(values) > 1 and not bool(np.all(values[1:] > values[:-1])):
        raise InvalidSignal(
            "text_shingles value must hold sorted, unique shingles", signal_type=name
        )
    return values


# --- the signal types ----------------------------------------------------------------------------


class TextSha256Signal(SignalType):
    """SHA-256 of the normalised text: matches identical wording only."""

    name = "text_sha256"
    display_name = "Text SHA-256 (normalised)"

    @classmethod
    def normalize(cls, value: str) -> str:
        if not isinstance(value, str):
            raise InvalidSignal(f"{cls.name} value must be a string", signal_type=cls.name)
        text = value.strip().lower()
        if not _HEX64.fullmatch(text):
            raise InvalidSignal(
                f"{cls.name} value must be 64 hex digits, got {len(text)} characters",
                signal_type=cls.name,
            )
        return text


class TextMinHashSignal(SignalType, DistanceSignal):
    """MinHash of the five-word shingles: near-duplicate texts (edited copies)."""

    name = "text_minhash"
    display_name = "Text near-duplicate (MinHash)"
    default_threshold: ClassVar[int] = 50
    max_distance: ClassVar[int] = 100

    @classmethod
    def normalize(cls, value: str) -> str:
        return format_minhash(parse_minhash(value))

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        differing = int(np.count_nonzero(parse_minhash(a) != parse_minhash(b)))
        return MINHASH_DISTANCE_BY_DIFFERENCES[differing]


def containment_distance(matched: int, query_shingles: int) -> int:
    """``round(100 * (1 - matched / query_shingles))``; 100 for a query too short to score."""
    if query_shingles < MIN_QUERY_SHINGLES:
        return TextShinglesSignal.max_distance
    return round(100 * (1 - matched / query_shingles))


class TextShinglesSignal(SignalType, DistanceSignal):
    """Five-word shingles: finds a query that is an excerpt of a banked text (containment).

    Not symmetric: ``distance(query, banked)``.
    """

    name = "text_shingles"
    display_name = "Text excerpt (shingles)"
    default_threshold: ClassVar[int] = 20
    max_distance: ClassVar[int] = 100

    @classmethod
    def normalize(cls, value: str) -> str:
        return format_shingles(parse_shingles(value))

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        query, bank = parse_shingles(a), parse_shingles(b)
        matched = int(np.count_nonzero(np.isin(query, bank, assume_unique=True)))
        return containment_distance(matched, len(query))
