"""Chromaprint items: their stored form, and how two sequences of them are aligned and compared.

Kept apart from decoding (:mod:`bastion.signals.audio`) because the index
(:mod:`bastion.index.audio`) and the signal type both compare items, and neither decodes audio.
See :mod:`bastion.signals.audio` for what the items are and why the comparison works as it does.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass

import numpy as np

from bastion.errors import InvalidSignal

Items = np.ndarray  # uint32 raw Chromaprint items

SAMPLE_RATE = 11025
ITEM_SAMPLES = 1365
ITEM_SECONDS = ITEM_SAMPLES / SAMPLE_RATE
# Audio one item describes, and so the audio the first item needs (measured, see above).
ITEM_SPAN_SAMPLES = 4096 + 19 * ITEM_SAMPLES
MAX_AUDIO_SECONDS = 4 * 3600.0
MAX_ITEMS = math.ceil(MAX_AUDIO_SECONDS * SAMPLE_RATE / ITEM_SAMPLES)

VALUE_PREFIX = "cp1:"
# Longest canonical value: base64 of MAX_ITEMS * 4 bytes.
_MAX_VALUE_LENGTH = len(VALUE_PREFIX) + 4 * math.ceil(MAX_ITEMS * 4 / 3)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")

# Top bits of an item that must be equal for it to vote (see the module docstring).
KEY_BITS = 16
# A key this frequent within one fingerprint is a stationary sound, not a landmark.
MAX_KEY_REPEATS = 16
# Baseline offsets, in items: 24 and 40 items are 3.0 and 5.0 s.
_BASELINE_SHIFTS = (-40, -24, 24, 40)
# Two values with no distinct alignment at all (silence, hum, noise, or too short) are as far
# apart as unrelated audio.
NO_EVIDENCE_PERCENT = 50.0
# Float slack in threshold comparisons, so ``distance`` (whole percent) and the index agree.
EPSILON = 1e-9


# --- the value format ----------------------------------------------------------------------------


def format_items(items: Items) -> str:
    """The canonical ``cp1:`` value of raw items (see the module docstring)."""
    data = np.ascontiguousarray(items, dtype="<u4").tobytes()
    return VALUE_PREFIX + base64.b64encode(data).decode("ascii")


def parse_items(value: str) -> Items:
    """The items of a ``cp1:`` value; ``InvalidSignal`` for anything but a canonical value."""
    if not isinstance(value, str):
        raise InvalidSignal("chromaprint value must be a string", signal_type="chromaprint")
    text = value.strip()
    if not text.startswith(VALUE_PREFIX):
        raise InvalidSignal(
            f"chromaprint value must start with {VALUE_PREFIX!r} (format version 1)",
            signal_type="chromaprint",
        )
    if len(text) > _MAX_VALUE_LENGTH:
        raise InvalidSignal(
            f"chromaprint value is longer than {MAX_ITEMS} items ({MAX_AUDIO_SECONDS:.0f} s)",
            signal_type="chromaprint",
        )
    body = text[len(VALUE_PREFIX) :]
    try:
        if not _BASE64.fullmatch(body):
            raise ValueError("characters outside standard base64")
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSignal(
            f"chromaprint value is not valid base64: {exc}", signal_type="chromaprint"
        ) from exc
    if not data or len(data) % 4:
        raise InvalidSignal(
            f"chromaprint value must hold a whole, non-zero number of 4-byte items, "
            f"not {len(data)} bytes",
            signal_type="chromaprint",
        )
    if base64.b64encode(data).decode("ascii") != body:
        raise InvalidSignal(
            "chromaprint value is not canonical base64 (padding bits set)",
            signal_type="chromaprint",
        )
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


# --- comparison ----------------------------------------------------------------------------------


def match_keys(items: Items) -> np.ndarray:
    """The top :data:`KEY_BITS` bits of each item: what must be equal for a vote."""
    keys: np.ndarray = (items >> np.uint32(32 - KEY_BITS)).astype(np.uint32)
    return keys


def voting_items(items: Items) -> np.ndarray:
    """Which items may vote: not a repeat of the previous item, not a too-frequent key."""
    usable = np.ones(len(items), dtype=bool)
    if len(items) > 1:
        usable[1:] = items[1:] != items[:-1]
    _, inverse, counts = np.unique(match_keys(items), return_inverse=True, return_counts=True)
    usable &= counts[inverse.reshape(-1)] <= MAX_KEY_REPEATS
    return usable


def expand_ranges(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For half-open ranges ``[starts[k], ends[k])``: (range number, position) of every member."""
    lengths = (ends - starts).astype(np.int64)
    owners = np.repeat(np.arange(len(lengths)), lengths)
    firsts = np.cumsum(lengths) - lengths
    positions = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(firsts, lengths)
    return owners, positions + np.repeat(starts.astype(np.int64), lengths)


def pair_offsets(query: Items, bank: Items, limit: int = 3) -> list[int]:
    """The most voted offsets (bank item - query item), best first, at most ``limit``."""
    query_usable = np.flatnonzero(voting_items(query))
    bank_usable = np.flatnonzero(voting_items(bank))
    bank_keys = match_keys(bank[bank_usable])
    order = np.argsort(bank_keys, kind="stable")
    sorted_keys = bank_keys[order]
    query_keys = match_keys(query[query_usable])
    starts = np.searchsorted(sorted_keys, query_keys, side="left")
    ends = np.searchsorted(sorted_keys, query_keys, side="right")
    owners, members = expand_ranges(starts, ends)
    if not len(owners):
        return []
    offsets = bank_usable[order[members]] - query_usable[owners]
    values, counts = np.unique(offsets, return_counts=True)
    smoothed = smooth_votes(values, counts)
    best = np.argsort(-smoothed, kind="stable")[:limit]
    return [int(values[i]) for i in best]


def smooth_votes(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Votes for each sorted, unique ``values`` plus those of ``value - 1`` and ``value + 1``.

    A trim that does not fall on the item grid splits an alignment's votes between two
    neighbouring offsets.
    """
    smoothed = counts.astype(np.int64)
    for step in (-1, 1):
        at = np.searchsorted(values, values + step)
        found = at < len(values)
        found[found] = values[at[found]] == values[found] + step
        smoothed[found] += counts[at[found]]
    return smoothed


@dataclass(frozen=True, slots=True)
class Alignment:
    """Where two fingerprints match: ``query[query_start + k]`` lines up with
    ``bank[bank_start + k]`` for ``k`` in ``range(length)``."""

    query_start: int
    bank_start: int
    length: int
    error_percent: float  # bit error rate over the span
    contrast: float  # baseline BER minus error_percent, in points

    @property
    def offset(self) -> int:
        return self.bank_start - self.query_start


def align(
    query: Items,
    bank: Items,
    offset: int,
    *,
    max_percent: float,
    window: int,
    min_contrast: float,
) -> Alignment | None:
    """The matched span at ``offset`` (bank item - query item), or ``None``.

    A window of ``window`` aligned items qualifies when its BER is at most ``max_percent`` and
    its baseline (see the module docstring) is at least ``min_contrast`` points higher. The
    span is the run of qualifying windows around the best one; if the span as a whole misses
    the threshold (errors bunched at its ends), the best window alone is the span.
    """
    first = max(0, -offset)
    stop = min(len(query), len(bank) - offset)
    length = stop - first
    if window < 1 or length < window:
        return None
    query_part = query[first:stop]
    errors = np.bitwise_count(query_part ^ bank[first + offset : stop + offset]).astype(np.int64)
    baseline = np.zeros(length, dtype=np.int64)
    compared = np.zeros(length, dtype=np.int64)
    positions = np.arange(first, stop) + offset
    for shift in _BASELINE_SHIFTS:
        shifted = positions + shift
        valid = (shifted >= 0) & (shifted < len(bank))
        baseline[valid] += np.bitwise_count(query_part[valid] ^ bank[shifted[valid]])
        compared[valid] += 1

    def sums(values: np.ndarray) -> np.ndarray:
        running = np.concatenate(([0], np.cumsum(values)))
        window_sums: np.ndarray = running[window:] - running[:-window]
        return window_sums

    percent = sums(errors) * (100.0 / (32 * window))
    comparisons = sums(compared)
    with np.errstate(divide="ignore", invalid="ignore"):
        base_percent = np.where(
            comparisons >= window, sums(baseline) * 100.0 / (32 * comparisons), 0.0
        )
    qualifies = (percent <= max_percent + EPSILON) & (base_percent - percent >= min_contrast)
    if not qualifies.any():
        return None
    best = int(np.argmin(np.where(qualifies, percent, np.inf)))
    gaps = np.flatnonzero(~qualifies)
    left = int(gaps[gaps < best].max()) + 1 if (gaps < best).any() else 0
    right = int(gaps[gaps > best].min()) - 1 if (gaps > best).any() else len(qualifies) - 1
    span_start, span_stop = _trimmed(errors, left, right + window, max_percent, window)
    span_bits = 32 * (span_stop - span_start)
    span_percent = float(errors[span_start:span_stop].sum() * 100.0 / span_bits)
    span_compared = int(compared[span_start:span_stop].sum())
    span_base = float(baseline[span_start:span_stop].sum() * 100.0 / (32 * span_compared))
    if span_percent > max_percent + EPSILON or span_base - span_percent < min_contrast:
        span_start, span_stop = best, best + window
        span_percent = float(percent[best])
        span_base = float(base_percent[best])
    return Alignment(
        query_start=first + span_start,
        bank_start=first + span_start + offset,
        length=span_stop - span_start,
        error_percent=span_percent,
        contrast=span_base - span_percent,
    )


def _trimmed(
    errors: np.ndarray, start: int, stop: int, max_percent: float, window: int
) -> tuple[int, int]:
    """The part of ``[start, stop)`` with the most evidence, if it is ``window`` items or more.

    Each item scores the bits it is under the threshold (negative when over); the part is the
    run with the highest total (maximum subarray). It drops the ends where the two audios part
    (windows half in the matching audio qualify, so the run of windows overshoots), keeps short
    bad stretches between good ones, and its BER is at most ``max_percent`` by construction.
    """
    scores = max_percent * 32 / 100 - errors[start:stop]
    running = np.concatenate(([0.0], np.cumsum(scores)))
    lowest_before = np.minimum.accumulate(running)
    end = int(np.argmax(running - lowest_before))
    begin = int(np.argmin(running[: end + 1]))
    if end - begin < window:
        return start, stop
    return start + begin, start + end


def best_alignment(
    query: Items,
    bank: Items,
    offsets: list[int],
    *,
    max_percent: float,
    window: int,
    min_contrast: float,
) -> Alignment | None:
    """The lowest-BER alignment at any of ``offsets`` or a neighbour of one."""
    tried: set[int] = set()
    best: Alignment | None = None
    for centre in offsets:
        for offset in (centre, centre - 1, centre + 1):
            if offset in tried:
                continue
            tried.add(offset)
            found = align(
                query,
                bank,
                offset,
                max_percent=max_percent,
                window=window,
                min_contrast=min_contrast,
            )
            if found is not None and (best is None or found.error_percent < best.error_percent):
                best = found
    return best


def items_for_seconds(seconds: float) -> int:
    """How many items ``seconds`` of audio give (the window of a match of that overlap)."""
    samples = math.floor(seconds * SAMPLE_RATE + 1e-6)
    return max(0, (samples - ITEM_SPAN_SAMPLES) // ITEM_SAMPLES + 1)


def seconds_of_items(count: int) -> float:
    """The seconds of audio ``count`` consecutive items describe."""
    if count <= 0:
        return 0.0
    return ((count - 1) * ITEM_SAMPLES + ITEM_SPAN_SAMPLES) / SAMPLE_RATE
