"""Audio fingerprints (Chromaprint) of a media file's soundtrack, and how two of them compare.

A screen recording or re-upload of a banked video that keeps the soundtrack is caught by its
audio even when the picture is cropped, overlaid or replaced, and when it starts elsewhere.

**Items.** Audio is decoded with PyAV, downmixed and resampled to mono 16-bit at 11025 Hz (the
rate Chromaprint works at, so it does not resample again) and fed to Chromaprint's default
algorithm (TEST2), whose raw fingerprint is a sequence of 32-bit *items*: one every 1365 samples
(:data:`ITEM_SECONDS`, ~0.1238 s). Item ``i`` describes the 30031 samples (~2.72 s: twenty
4096-sample frames, 1365 apart, through filters 20 frames wide) starting at
``i * ITEM_SECONDS``, so the first item exists only once 2.72 s of audio have been fed, and
``n`` seconds of audio give ``floor((n * 11025 - 30031) / 1365) + 1`` items (measured: 10 s give
59, 20 s give 140, 60 s give 463; see :func:`items_for_seconds`). Audio shorter than 2.72 s has
no fingerprint. Each item's bits come from 16 classifiers of 2 bits, the first classifier in the
top bits.

**Value format** (``chromaprint`` signal): ``cp1:`` then the items as little-endian uint32 in
standard base64 with padding, e.g. ``cp1:d/ltJQ==`` for the one item ``0x256df977``. ``cp1``
fixes the algorithm (TEST2), the rate (11025 Hz) and the item step; any change of those is a new
prefix. At most :data:`MAX_ITEMS` items (4 hours); longer audio is fingerprinted up to 4 hours.

**Comparison.** Two fingerprints are compared at an alignment (an offset in items): the bit
error rate (BER) of aligned items, in percent. Copies of the same audio re-encoded stay far under
10%, unrelated music is ~40-50%. But a low BER alone is no proof: stationary sound (silence, a
held tone, hum, noise, applause) gives near-constant items, and two different noises are only
~18% apart. So an alignment counts only where it is *distinct*: the same query audio compared
with the bank audio 3 and 5 s earlier and later (the *baseline*) must be at least
``min_contrast`` points worse. Real matches have a contrast of ~40 points; stationary sound has
none. Evidence is judged over windows of the items of ``min_overlap`` seconds of audio (10 s, 59
items, by default): a match is a window at or under the threshold with enough contrast, extended
over the neighbouring windows that qualify too, then trimmed to its part with the most evidence
(see :func:`_trimmed`). That *span* is the matched part that is reported.

Candidate alignments come from votes: items whose top :data:`KEY_BITS` bits are equal vote for
the offset between them. Re-encoding keeps most of those bits (measured on synthetic music, share
of items keeping their top 16 bits: AAC 96k 96%, AAC 48k 83%, Opus 32k 87%, a trim off the item
grid 62%, white noise added at 3 dB SNR 27%, other music mixed in at -6 dB 11%), so a true
alignment gets dozens of votes over 10 s. 16 bits find about 1.7 times the votes 20 bits do on
hard copies, for 16 times the chance collisions, which verification discards cheaply. Items
repeating their predecessor, and keys occurring more than :data:`MAX_KEY_REPEATS` times in one
fingerprint, do not vote: they are stationary sound, and would flood the vote with alignments of
silence against silence.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from os import PathLike
from typing import ClassVar

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.packet import Packet

from bastion.errors import BastionError, CorruptMedia, InvalidSignal, UnsupportedMedia
from bastion.signals.base import DistanceSignal, HashLimits, Signal, SignalType
from bastion.signals.chromaprint_lib import ChromaprintContext, require_chromaprint

AudioSource = bytes | str | PathLike[str]
DEFAULT_LIMITS = HashLimits()
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
_EPSILON = 1e-9

# Damaged packets tolerated before the rest of the stream is given up.
_MAX_DECODE_ERRORS = 100
# What PyAV/FFmpeg raise for broken input (FFmpegError subclasses OSError and ValueError).
_DECODE_ERRORS = (av.FFmpegError, OSError, ValueError, EOFError, MemoryError)
# Declared input rates outside these are broken files, not audio worth resampling.
_MIN_INPUT_RATE = 1000
_MAX_INPUT_RATE = 768_000
# Bounds the work a file with absurdly many tiny packets can cause (real codecs: 10-100/s).
_MAX_PACKETS_PER_SECOND = 2000


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
    qualifies = (percent <= max_percent + _EPSILON) & (base_percent - percent >= min_contrast)
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
    if span_percent > max_percent + _EPSILON or span_base - span_percent < min_contrast:
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


# --- decoding ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AudioItems:
    """Items ``first_index``, ``first_index + 1``, ... of a fingerprint being computed."""

    first_index: int
    items: Items

    @property
    def seconds(self) -> np.ndarray:
        """Where each item's audio starts, in seconds from the first sample fed."""
        offsets: np.ndarray = (self.first_index + np.arange(len(self.items))) * ITEM_SECONDS
        return offsets


class AudioFingerprinter:
    """Computes a fingerprint incrementally, e.g. from a live stream.

    Feed decoded frames (any format, layout and rate; they may change mid-stream) or PCM
    arrays; each call returns the items that became available, with their index (so their time,
    see :attr:`AudioItems.seconds`). Chromaprint computes items in batches as its buffers fill,
    and the first one only after 2.72 s of audio, so a call often returns none. After
    ``max_seconds`` of audio, further audio is ignored and :attr:`full` is set. Time is counted
    in samples fed: a gap in the input's timestamps is not filled with silence.
    """

    def __init__(self, max_seconds: float = MAX_AUDIO_SECONDS) -> None:
        self._context = ChromaprintContext()
        self._context.start(SAMPLE_RATE, 1)
        self._max_samples = int(min(max_seconds, MAX_AUDIO_SECONDS) * SAMPLE_RATE)
        self._resampler: AudioResampler | None = None
        self._input_format: tuple[str, str, int] | None = None
        self._samples = 0
        self._items = 0
        self._finished = False
        self.full = False

    @property
    def seconds(self) -> float:
        """Audio fed so far (after the limit: up to the limit)."""
        return self._samples / SAMPLE_RATE

    def feed_frame(self, frame: AudioFrame) -> AudioItems:
        """Feed one decoded frame; returns the items that became available."""
        self._check_open()
        rate = frame.sample_rate
        if not _MIN_INPUT_RATE <= rate <= _MAX_INPUT_RATE:
            raise UnsupportedMedia(
                f"audio at {rate} Hz is not supported "
                f"({_MIN_INPUT_RATE} to {_MAX_INPUT_RATE} Hz are)",
                sample_rate=rate,
            )
        if not self.full:
            signature = (frame.format.name, frame.layout.name, rate)
            if signature != self._input_format:
                # The resampler is set up for one input format; flush it and start another.
                self._flush_resampler()
                self._resampler = AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
                self._input_format = signature
            if self._resampler is not None:
                for out in self._resampler.resample(frame):
                    self._feed_samples(out.to_ndarray())
        return self._take()

    def feed_pcm(self, samples: np.ndarray, sample_rate: int) -> AudioItems:
        """Feed PCM: shape ``(n,)`` or ``(n, channels)``, int16 or float in [-1, 1]."""
        data = np.asarray(samples)
        if data.ndim == 2 and data.shape[1] == 1:
            data = data[:, 0]
        elif data.ndim == 2:
            # Chromaprint averages the channels too; doing it here avoids layout guessing.
            if data.dtype == np.int16:
                data = (data.astype(np.int32).sum(axis=1) // data.shape[1]).astype(np.int16)
            else:
                data = data.astype(np.float32).mean(axis=1)
        if data.ndim != 1:
            raise ValueError(f"PCM must have shape (n,) or (n, channels), not {data.shape}")
        if data.dtype != np.int16:
            data = data.astype(np.float32)
        frame = AudioFrame.from_ndarray(
            np.ascontiguousarray(data)[np.newaxis, :],
            format="s16" if data.dtype == np.int16 else "flt",
            layout="mono",
        )
        frame.sample_rate = sample_rate
        return self.feed_frame(frame)

    def finish(self) -> AudioItems:
        """Flush everything buffered; returns the last items. The fingerprinter is then done."""
        self._check_open()
        self._flush_resampler()
        first = self._items
        items = self._context.finish()
        self._items += len(items)
        self._finished = True
        self._context.close()
        return AudioItems(first, items)

    def _check_open(self) -> None:
        if self._finished:
            raise ValueError("the fingerprinter is finished")

    def _flush_resampler(self) -> None:
        if self._resampler is not None:
            for out in self._resampler.resample(None):
                self._feed_samples(out.to_ndarray())
            self._resampler = None
            self._input_format = None

    def _feed_samples(self, samples: np.ndarray) -> None:
        samples = samples.reshape(-1)
        room = self._max_samples - self._samples
        if len(samples) >= room:
            samples = samples[: max(room, 0)]
            self.full = True
        if len(samples):
            self._context.feed(samples)
            self._samples += len(samples)

    def _take(self) -> AudioItems:
        first = self._items
        items = self._context.take()
        self._items += len(items)
        return AudioItems(first, items)


@dataclass(frozen=True, slots=True)
class AudioFingerprint:
    """A soundtrack's items, the seconds of audio they cover, and facts for the media info."""

    items: Items
    seconds: float
    # ``audio_*`` keys, ready to merge into MediaInfo.extra.
    extra: dict[str, str | int | float] = field(default_factory=dict)

    def signal(self) -> Signal:
        # Quality: the share of items that can vote, i.e. are not silence or a held sound.
        quality = round(100 * float(voting_items(self.items).mean()))
        return Signal(ChromaprintSignal.name, format_items(self.items), quality=quality)


def _open(source: AudioSource) -> InputContainer:
    file = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        return av.open(file, "r")
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise  # a path that cannot be read is the caller's problem, not bad media
    except _DECODE_ERRORS as exc:
        raise CorruptMedia(f"the media could not be opened: {exc}") from exc


def _packets(
    container: InputContainer, stream: AudioStream, extra: dict[str, str | int | float]
) -> Iterator[Packet[AudioStream]]:
    """The stream's packets; a demuxer failure ends the stream early (a cut-off file)."""
    demuxer = container.demux(stream)
    while True:
        try:
            packet = next(demuxer)
        except StopIteration:
            return
        except _DECODE_ERRORS:
            extra["audio_truncated"] = 1
            return
        if not packet.is_discard:
            yield packet


def _fingerprint_stream(
    container: InputContainer, stream: AudioStream, max_seconds: float
) -> AudioFingerprint | None:
    codec = stream.codec_context
    if codec is None:  # FFmpeg knows no decoder for it (or a damaged header names none)
        raise UnsupportedMedia("the audio stream's codec is not supported")
    extra: dict[str, str | int | float] = {"audio_codec": codec.name}
    if codec.sample_rate:
        extra["audio_sample_rate"] = codec.sample_rate
    fingerprinter = AudioFingerprinter(max_seconds)
    max_packets = int(max_seconds * _MAX_PACKETS_PER_SECOND) + 10_000
    chunks: list[Items] = []
    packets = errors = 0
    decoded = False
    for packet in _packets(container, stream, extra):
        packets += 1
        if packets > max_packets:
            extra["audio_limited"] = 1
            break
        try:
            frames = codec.decode(packet)
        except _DECODE_ERRORS as exc:
            # A damaged packet: the next ones may well decode.
            errors += 1
            if errors > _MAX_DECODE_ERRORS:
                if not decoded:
                    raise CorruptMedia(f"no audio could be decoded: {exc}") from exc
                extra["audio_truncated"] = 1
                break
            continue
        for frame in frames:
            decoded = True
            chunks.append(fingerprinter.feed_frame(frame).items)
        if fingerprinter.full:
            extra["audio_limited"] = 1  # stopped at the limit: the start is fingerprinted
            break
    chunks.append(fingerprinter.finish().items)
    if not decoded:
        raise CorruptMedia("the audio stream holds no decodable audio")
    if errors:
        extra["audio_decode_errors"] = errors
    extra["audio_seconds"] = round(fingerprinter.seconds, 3)
    items = np.concatenate(chunks)
    if not len(items):
        return None  # under 2.72 s of audio: too short for a single item
    return AudioFingerprint(items, fingerprinter.seconds, extra)


def audio_fingerprint(
    source: AudioSource, limits: HashLimits = DEFAULT_LIMITS
) -> AudioFingerprint | None:
    """The fingerprint of the first audio stream of a media file (bytes or a path).

    ``None`` when the file has no audio stream, or too little audio for one item (2.72 s).
    Audio past ``limits.max_video_seconds`` (and past 4 hours) is ignored: the start is
    fingerprinted and ``extra['audio_limited']`` set. Damaged packets are skipped (up to 100);
    bad media raises ``CorruptMedia`` / ``UnsupportedMedia``, and a missing library
    ``ChromaprintUnavailable`` (checked first, whatever the file).
    """
    require_chromaprint()
    container = _open(source)
    try:
        if not container.streams.audio:
            return None
        max_seconds = min(limits.max_video_seconds, MAX_AUDIO_SECONDS)
        return _fingerprint_stream(container, container.streams.audio[0], max_seconds)
    except BastionError:
        raise
    except _DECODE_ERRORS as exc:
        raise CorruptMedia(f"the audio could not be read: {exc}") from exc
    finally:
        container.close()


# --- the signal type -----------------------------------------------------------------------------


class ChromaprintSignal(SignalType, DistanceSignal):
    """A soundtrack's Chromaprint items; matched at any offset by the audio index.

    ``distance`` is the bit error rate, in whole percent rounded up, of the best distinct
    alignment (see the module docstring) over at least 10 s of overlap (over the whole of the
    shorter value when that is shorter). Values with no distinct alignment are at
    :data:`NO_EVIDENCE_PERCENT` (50), like unrelated audio. Rounding up keeps it consistent
    with the index: ``distance <= t`` exactly when the index finds the pair within ``t``.
    """

    name = "chromaprint"
    display_name = "Audio fingerprint (Chromaprint)"
    default_threshold: ClassVar[int] = 25
    max_distance: ClassVar[int] = 100
    min_overlap_seconds: ClassVar[float] = 10.0
    min_contrast: ClassVar[float] = 15.0

    @classmethod
    def normalize(cls, value: str) -> str:
        return format_items(parse_items(value))

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        query, bank = parse_items(a), parse_items(b)
        window = min(items_for_seconds(cls.min_overlap_seconds), len(query), len(bank))
        offsets = pair_offsets(query, bank) or [0]
        for max_percent in (float(cls.default_threshold), 100.0):
            found = best_alignment(
                query,
                bank,
                offsets,
                max_percent=max_percent,
                window=window,
                min_contrast=cls.min_contrast,
            )
            if found is not None:
                return math.ceil(found.error_percent - _EPSILON)
        return int(NO_EVIDENCE_PERCENT)


def items_for_seconds(seconds: float) -> int:
    """How many items ``seconds`` of audio give (the window of a match of that overlap)."""
    samples = math.floor(seconds * SAMPLE_RATE + 1e-6)
    return max(0, (samples - ITEM_SPAN_SAMPLES) // ITEM_SAMPLES + 1)


def seconds_of_items(count: int) -> float:
    """The seconds of audio ``count`` consecutive items describe."""
    if count <= 0:
        return 0.0
    return ((count - 1) * ITEM_SAMPLES + ITEM_SPAN_SAMPLES) / SAMPLE_RATE
