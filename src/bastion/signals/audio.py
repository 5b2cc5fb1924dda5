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

import io
import math
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

from bastion.errors import BastionError, CorruptMedia, UnsupportedMedia
from bastion.signals.audio_items import (
    EPSILON,
    ITEM_SECONDS,
    MAX_AUDIO_SECONDS,
    NO_EVIDENCE_PERCENT,
    SAMPLE_RATE,
    Items,
    best_alignment,
    format_items,
    items_for_seconds,
    pair_offsets,
    parse_items,
    voting_items,
)
from bastion.signals.base import DistanceSignal, HashLimits, Signal, SignalType
from bastion.signals.chromaprint_lib import ChromaprintContext, require_chromaprint

# Damaged-packet tolerance, PyAV error kinds and limits are the video decoder's.
from bastion.signals.video import DECODE_ERRORS, DEFAULT_LIMITS, MAX_DECODE_ERRORS

AudioSource = bytes | str | PathLike[str]
# Declared input rates outside these are broken files, not audio worth resampling.
_MIN_INPUT_RATE = 1000
_MAX_INPUT_RATE = 768_000
# Bounds the work a file with absurdly many tiny packets can cause (real codecs: 10-100/s).
_MAX_PACKETS_PER_SECOND = 2000


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
    except DECODE_ERRORS as exc:
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
        except DECODE_ERRORS:
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
        except DECODE_ERRORS as exc:
            # A damaged packet: the next ones may well decode.
            errors += 1
            if errors > MAX_DECODE_ERRORS:
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
    except DECODE_ERRORS as exc:
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
                return math.ceil(found.error_percent - EPSILON)
        return int(NO_EVIDENCE_PERCENT)
