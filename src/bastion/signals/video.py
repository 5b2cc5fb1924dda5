"""vPDQ: a video as the PDQ hashes of its frames, decoded with PyAV (FFmpeg).

Frames are sampled ``limits.video_frames_per_second`` times a second (0 hashes every frame): a
frame is hashed when it is the first one, in presentation order, of its 1/rate-second slot, with
time taken from its pts relative to the stream start. Frame numbers count frames in the order the
decoder returns them, as Meta's ``vpdq`` does. The result is one ``vpdq`` signal holding the
frames in the vPDQ line format (:mod:`bastion.signals.vpdq_format`).

Colour conversion, pinned because PDQ on a flat frame (a wall, a fade) is decided by sub-level
rounding: frames go to RGB24 through swscale with ``SWS_ACCURATE_RND`` and BT.601 coefficients,
whatever the stream is tagged. Measured against the ThreatExchange reference hashes, every frame
at native size (frames within 31 bits / max distance / identical):

======================================  ====================  ==============  ===============
conversion to RGB                       doorknob-hd-no-bar    chair-19 / -20  padded / pattern
======================================  ====================  ==============  ===============
swscale fast path (default), BT.601     87/120, 76, 6         all, 6, ~45%    all, 2 / all, 6
fast path, BT.709                       87/120, 64, 12        all, 8          146/150, 40
Y plane used as luma (no RGB)           105/120, 46, 11       all, 6          all, 4
ACCURATE_RND + FULL_CHR_H_INT, BT.601   97/120, 46, 10        all, 6          all, 8
ACCURATE_RND, BT.709                    87/120, 66, 6         all, 10         144/150, 38
**ACCURATE_RND, BT.601 (used)**         **120/120, 2, 113**   **all, 2, 96%** **all, 8 / 0**
======================================  ====================  ==============  ===============

The fast path is what Meta's vpdq 0.2.5 wheel gets here (87/120 on doorknob); the reference
hashes of four of the five videos were evidently made through swscale's accurate path (only
test-padded-dimensions matches the fast path better, and is still within 8 bits). BT.601 is what
the reference does (plain ``sws_scale`` ignores colour tags), and with it PDQ's luma weights - the
BT.601 ones - undo the matrix, so the luma PDQ sees is the Y plane up to RGB rounding. Frames
downscaled to half size before hashing would cost half as much per frame and still pass (120/120
on doorknob), but drift a mean 5-8 bits from the reference, so frames are hashed at native size.

Speed (``bench/video_hashing.py``): only sampled frames are converted to RGB, and they are hashed
by :mod:`bastion.signals.pdq_numpy` (same hashes as the ``pdqhash`` binding, ~5x faster). Decoding
then dominates, so for H.264 the packets of frames that cannot be the first of their slot are
sent with ``skip_frame=NONREF``: the decoder drops such a frame only if no other frame refers
to it, so every frame that is hashed decodes bit-for-bit as it would without skipping.

Variants (:mod:`bastion.signals.video_variants`): the same sampled frames also give a ``mirror``
and a ``region`` vPDQ (``VideoHash.variants``, as signals ``VideoHash.variant_signals()``), to find
mirrored copies and copies shown inside another picture. The plain hash comes from the same DCT
coefficients as before (``pdq_coefficients`` once per frame, shared with the mirror hash), so it
is unchanged; the variants add a few ms per sampled frame (measured in that module).
"""

from __future__ import annotations

import io
import math
from bisect import bisect_left, insort
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from os import PathLike
from typing import ClassVar

import av
import numpy as np
from av.container import InputContainer
from av.packet import Packet
from av.video.frame import VideoFrame
from av.video.reformatter import Colorspace, Interpolation
from av.video.stream import VideoStream

from bastion.errors import (
    BastionError,
    CorruptMedia,
    VideoInvalidDimensions,
    VideoNoStream,
    VideoTooLong,
)
from bastion.signals.base import BytesHasher, ContentKind, HashLimits, MediaInfo, Signal, SignalType
from bastion.signals.pdq_numpy import hash_from_coefficients, luma_from_rgb, pdq_coefficients
from bastion.signals.video_variants import VariantFrames
from bastion.signals.vpdq_format import VpdqFrame, format_vpdq, parse_vpdq

VideoSource = bytes | str | PathLike[str]
DEFAULT_LIMITS = HashLimits()
# Banked videos also keep frames this many times a second (the ``dense`` bank variant).
DENSE_FRAMES_PER_SECOND = 8.0
DENSE = "dense"

_RGB_FLAGS = Interpolation.BILINEAR | Interpolation.ACCURATE_RND
# H.264 marks frames no other frame refers to (nal_ref_idc 0), so skipping them is always safe.
# HEVC's "sub-layer non-reference" frames can still be references for higher temporal layers.
_SKIPPABLE_CODECS = frozenset({"h264"})
# Bounds the work a file with absurdly many tiny frames can cause (fps far above any camera).
_MAX_FRAMES_PER_SECOND = 240
# Damaged packets tolerated before a stream is given up as broken.
MAX_DECODE_ERRORS = 100
# What PyAV/FFmpeg raise for broken input (FFmpegError subclasses OSError and ValueError).
DECODE_ERRORS = (av.FFmpegError, OSError, ValueError, EOFError, MemoryError)


def _mean_quality(frames: list[VpdqFrame]) -> int:
    return round(sum(f.quality for f in frames) / len(frames))


@dataclass(frozen=True, slots=True)
class VideoHash:
    """The sampled frames' hashes; ``variants`` maps "mirror"/"region" to frames of the edit
    undone (a variant is absent when it has no frames, e.g. no picture-in-picture box)."""

    frames: list[VpdqFrame]
    media: MediaInfo
    variants: dict[str, list[VpdqFrame]] = field(default_factory=dict)
    # Banking only: frames sampled DENSE_FRAMES_PER_SECOND times a second (see hash_video).
    dense: list[VpdqFrame] = field(default_factory=list)

    def bank_variants(self) -> dict[str, str] | None:
        """What a banked video stores besides its plain vPDQ (``bank_entry.variants``)."""
        return {DENSE: format_vpdq(self.dense)} if self.dense else None

    def signal(self) -> Signal:
        return Signal(VpdqSignal.name, format_vpdq(self.frames), quality=_mean_quality(self.frames))

    def variant_signals(self) -> list[Signal]:
        """One ``vpdq`` signal per variant, named by ``Signal.variant``; matched as queries only."""
        return [
            Signal(
                VpdqSignal.name, format_vpdq(frames), quality=_mean_quality(frames), variant=name
            )
            for name, frames in self.variants.items()
            if frames
        ]


def _open(source: VideoSource, limits: HashLimits) -> InputContainer:
    file = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        # max_pixels makes FFmpeg itself refuse to allocate frames above the limit, even while
        # probing stream parameters inside av.open.
        return av.open(file, "r", options={"max_pixels": str(limits.max_video_pixels)})
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise  # a path that cannot be read is the caller's problem, not bad media
    except DECODE_ERRORS as exc:
        raise CorruptMedia(f"the video could not be opened: {exc}") from exc


def _video_stream(container: InputContainer) -> VideoStream:
    for stream in container.streams.video:
        # Cover art in audio files is a one-picture "video" stream; it is not a video.
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    raise VideoNoStream("the file has no video stream")


def _check_dimensions(width: int, height: int, limits: HashLimits) -> None:
    if width < 1 or height < 1 or width * height > limits.max_video_pixels:
        raise VideoInvalidDimensions(
            f"the video's frames are {width}x{height}; allowed are 1 to "
            f"{limits.max_video_pixels} pixels",
            width=width,
            height=height,
            max_pixels=limits.max_video_pixels,
        )


def _declared_seconds(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration) / av.time_base
    return None


def _too_long(seconds: float, limits: HashLimits) -> VideoTooLong:
    return VideoTooLong(
        f"the video lasts {seconds:.1f} s, longer than the limit of "
        f"{limits.max_video_seconds:.0f} s",
        seconds=round(seconds, 3),
        max_seconds=limits.max_video_seconds,
    )


class _Sampler:
    """Decides which packets may be skipped, which frames to hash, and numbers the frames."""

    def __init__(self, stream: VideoStream, limits: HashLimits) -> None:
        self.time_base = stream.time_base
        self.start: int | None = stream.start_time
        self.rate = limits.video_frames_per_second
        self.skipping = self.rate > 0 and stream.codec_context.name in _SKIPPABLE_CODECS
        self.guessed_fps = float(stream.guessed_rate or stream.average_rate or 30)
        self.seen: list[int] = []  # pts of every packet so far, sorted: frame numbers by rank
        self.first_in_slot: dict[int, int] = {}
        self.last_hashed_slot = -1
        self.returned = 0

    def seconds(self, pts: int | None) -> float | None:
        if pts is None or self.time_base is None:
            return None
        if self.start is None:
            self.start = pts
        return max(0.0, float((pts - self.start) * self.time_base))

    def _slot(self, seconds: float) -> int:
        # Multiplying (not dividing by 1/rate) and a small epsilon keep frames that sit exactly
        # on a slot boundary (1.2 s at 2.5/s) in the slot they start.
        return math.floor(seconds * self.rate + 1e-9)

    def may_skip(self, packet: Packet[VideoStream]) -> bool:
        """Whether ``packet`` holds a frame that cannot be the first of its slot."""
        pts = packet.pts
        if not self.skipping or (pts is None and packet.size == 0):
            return False  # not skipping, or the end-of-stream flush
        seconds = self.seconds(pts)
        if pts is None or seconds is None:
            self.skipping = False  # no timestamps: decode everything, number by count
            return False
        insort(self.seen, pts)
        slot = self._slot(seconds)
        earliest = self.first_in_slot.get(slot)
        self.first_in_slot[slot] = pts if earliest is None else min(earliest, pts)
        return earliest is not None and earliest < pts

    def number(self, frame: VideoFrame) -> int:
        if self.skipping and frame.pts is not None:
            number = bisect_left(self.seen, frame.pts)
        else:
            number = self.returned
        self.returned = number + 1
        return number

    def wanted(self, seconds: float) -> bool:
        if not self.rate:
            return True
        slot = self._slot(seconds)
        if slot <= self.last_hashed_slot:
            return False
        self.last_hashed_slot = slot
        return True


def frame_to_rgb(frame: VideoFrame) -> np.ndarray:
    """A decoded frame's pixels as (H, W, 3) RGB, converted as the module docstring explains."""
    rgb = frame.reformat(
        format="rgb24", src_colorspace=Colorspace.ITU601, interpolation=_RGB_FLAGS, threads=1
    )
    pixels: np.ndarray = rgb.to_ndarray()
    return pixels


def _hash_frame(
    frame: VideoFrame, number: int, seconds: float, variants: VariantFrames | None
) -> VpdqFrame:
    # pdq_from_rgb's steps, spelled out so the DCT coefficients are at hand for the variants.
    luma = luma_from_rgb(frame_to_rgb(frame))
    found = pdq_coefficients(luma)
    coefficients, quality = (None, 0) if found is None else found
    value = "0" * 64 if coefficients is None else hash_from_coefficients(coefficients)
    seconds = round(seconds, 3)
    if variants is not None:
        variants.add(number, seconds, luma, coefficients, quality)
    return VpdqFrame(number, quality, value, seconds)


def _packets(
    container: InputContainer, stream: VideoStream, media: MediaInfo
) -> Iterator[Packet[VideoStream]]:
    """The stream's packets; a demuxer failure ends the stream early (a cut-off file)."""
    demuxer = container.demux(stream)
    while True:
        try:
            packet = next(demuxer)
        except StopIteration:
            return
        except DECODE_ERRORS:
            media.extra["truncated"] = 1
            return
        if not packet.is_discard:  # frames before an edit list's start are not shown
            yield packet


def _decode(
    container: InputContainer,
    stream: VideoStream,
    limits: HashLimits,
    media: MediaInfo,
    variants: VariantFrames | None,
) -> list[VpdqFrame]:
    sampler = _Sampler(stream, limits)
    codec = stream.codec_context
    codec.thread_count = 1  # callers run one hashing process per core
    # The opening option covers probing only; the decoder needs its own cap, so a stream whose
    # frames grow mid-way is refused before a huge frame is allocated.
    codec.options = {"max_pixels": str(limits.max_video_pixels)}
    max_packets = int(limits.max_video_seconds * _MAX_FRAMES_PER_SECOND) + 1000
    frames: list[VpdqFrame] = []
    packets = errors = 0
    for packet in _packets(container, stream, media):
        packets += 1
        if packets > max_packets:
            raise _too_long(limits.max_video_seconds, limits)
        codec.skip_frame = "NONREF" if sampler.may_skip(packet) else "DEFAULT"
        try:
            decoded = codec.decode(packet)
        except DECODE_ERRORS as exc:
            # A damaged packet: later ones (the next keyframe) may well decode.
            errors += 1
            if errors > MAX_DECODE_ERRORS:
                if not frames:
                    raise CorruptMedia(f"no frame of the video could be decoded: {exc}") from exc
                break
            continue
        for frame in decoded:
            _check_dimensions(frame.width, frame.height, limits)
            number = sampler.number(frame)
            seconds = sampler.seconds(frame.pts)
            if seconds is None:
                seconds = number / sampler.guessed_fps
            if seconds > limits.max_video_seconds:
                raise _too_long(seconds, limits)
            media.width, media.height = frame.width, frame.height
            media.duration_seconds = max(media.duration_seconds or 0.0, seconds)
            if sampler.wanted(seconds):
                frames.append(_hash_frame(frame, number, seconds, variants))
    if not frames:
        raise CorruptMedia("no frame of the video could be decoded")
    if errors or (stream.frames and packets < stream.frames):
        media.extra["truncated"] = 1  # keep what decoded: a damaged upload is still evidence
    if errors:
        media.extra["decode_errors"] = errors
    media.extra["frames"] = sampler.returned  # frames in the stream, hashed or not
    return frames


def _plain_of(dense: list[VpdqFrame], rate: float) -> list[VpdqFrame]:
    """The frames a ``rate``-per-second run hashes, out of a denser run's: the first of each
    slot. Slots nest (a 1 s slot starts with a 0.25 s one), so that first frame is also the
    first of a dense slot: the same frames, numbers and hashes as sampling at ``rate``."""
    plain: list[VpdqFrame] = []
    last = -1
    for frame in dense:
        slot = math.floor(frame.seconds * rate + 1e-9)
        if slot > last:
            plain.append(frame)
            last = slot
    return plain


def hash_video(
    source: VideoSource,
    limits: HashLimits = DEFAULT_LIMITS,
    *,
    variants: bool = True,
    dense: bool = False,
) -> VideoHash:
    """Decode a video (bytes or a path) and hash its sampled frames; raises ``BastionError``s.

    ``variants=False`` skips the mirror and region variants (``VideoHash.variants`` stays empty).
    ``dense=True`` (for banking) also keeps frames sampled :data:`DENSE_FRAMES_PER_SECOND` times
    a second, so that a copy cut at any moment - whose once-a-second samples fall between the
    original's - still finds a banked frame within 1/16 s of each of its own; query variants are
    not computed then (a banked video is matched against, not matched).
    """
    rate = limits.video_frames_per_second
    if dense and 0 < rate < DENSE_FRAMES_PER_SECOND:
        denser = replace(limits, video_frames_per_second=DENSE_FRAMES_PER_SECOND)
        found = hash_video(source, denser, variants=False)
        frames = _plain_of(found.frames, rate)
        found.media.frames_hashed = len(frames)
        return VideoHash(frames, found.media, {}, found.frames)
    container = _open(source, limits)
    try:
        stream = _video_stream(container)
        codec = stream.codec_context
        if codec.width or codec.height:
            _check_dimensions(codec.width, codec.height, limits)
        declared = _declared_seconds(container, stream)
        if declared is not None and declared > limits.max_video_seconds:
            raise _too_long(declared, limits)
        media = MediaInfo(kind=ContentKind.VIDEO, width=codec.width, height=codec.height)
        media.extra["format"] = container.format.name.split(",")[0]
        media.extra["codec"] = codec.name
        collector = VariantFrames() if variants else None
        frames = _decode(container, stream, limits, media, collector)
        media.frames_hashed = len(frames)
        if declared is not None:
            media.duration_seconds = round(declared, 3)
        return VideoHash(frames, media, collector.finish() if collector else {})
    except BastionError:
        raise
    except DECODE_ERRORS as exc:
        raise CorruptMedia(f"the video could not be read: {exc}") from exc
    finally:
        container.close()


class VpdqSignal(SignalType, BytesHasher):
    """A whole video's frame hashes; matched frame by frame by the vPDQ index."""

    name = "vpdq"
    display_name = "vPDQ"
    applies_to: ClassVar[frozenset[ContentKind]] = frozenset({ContentKind.VIDEO})

    @classmethod
    def normalize(cls, value: str) -> str:
        return format_vpdq(parse_vpdq(value))

    @classmethod
    def hash_bytes(cls, data: bytes, limits: HashLimits) -> list[Signal]:
        # The plain signal only: variants are asked for through hash_video, by callers that
        # match them.
        return [hash_video(data, limits, variants=False).signal()]
