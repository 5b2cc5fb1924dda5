"""Decoded video frames of a stream or a file, with presentation timestamps, via PyAV.

A network URL (``rtmp://``, ``https://...m3u8``, ...) is paced by the network itself. A file can
be read as fast as it decodes (``live=False``: tests, back-fills) or "played as live"
(``live=True``): each frame is held back until the wall clock reaches its timestamp, so a file
exercises the watcher's lag governor exactly as a broadcast would.

Time is stream time: seconds since the first frame's pts. :meth:`StreamSource.lag` compares it
with the wall clock since the first frame arrived, which is how far behind live the caller is
when it handles a frame.

Decoding, not hashing, is most of a watcher's CPU: a 1280x720 30 frames/s H.264 stream costs
30-60 ms of CPU per stream second to decode fully, against about 2 ms to hash its one sampled
frame. Two decoder settings cut that:

* Non-reference frames (most B-frames: no other frame is predicted from them) are never decoded
  (``skip_frame=NONREF``). Every frame that is decoded has exactly the pixels of a full decode, so
  hashes do not change at all; the sampler takes the first *decoded* frame of each sampling slot,
  at most a few frames later than the first frame of the slot. It halves the decode cost of a
  stream with B-frames and costs nothing on one without.
* The governor (:mod:`bastion.stream.sampler`) can ask for keyframes only (``skip_frame=NONKEY``,
  about 4 ms per stream second) when a watcher still falls behind live at its lowest sampling
  rate; see :meth:`StreamSource.request_decode_mode`.

Skipping H.264's loop filter was measured and is not used: it saves 10-30 % more, but the
unfiltered reference frames drift from the encoder's until the next keyframe. PDQ distance of the
frames sampled once a second to the same frames fully decoded (bits: mean / p95 / max) and thread
CPU for decoding per stream second, on ``make_video`` seeds 1-4 (20 s each, 1280x720, 30 frames/s,
x264 veryfast crf 23, B-frames) and on an ``ffmpeg`` lavfi ``testsrc2`` clip with temporal noise
(30 s, 1280x720, 30 frames/s, x264 veryfast 2.5 Mbit/s, GOP 2 s); frames of quality >= 50:

=================================  ======================  ======================
decoder setting                    make_video 720p         testsrc2 + noise 720p
=================================  ======================  ======================
full decode                        0 / 0 / 0, 36 ms        0 / 0 / 0, 62 ms
skip_loop_filter=noref             0 / 0 / 2, 32 ms        0 / 0 / 0, 48 ms
skip_loop_filter=all               0.8 / 4 / 6, 29 ms      2.7 / 6 / 8, 44 ms
skip_frame=NONREF (used)           0 / 0 / 0, 18 ms        0 / 0 / 0, 29 ms
NONREF + skip_loop_filter=all      0.7 / 2 / 4, 16 ms      2.7 / 6 / 8, 26 ms
skip_frame=NONKEY (governor)       0 / 0 / 0, 1.9 ms       0 / 0 / 0, 3.5 ms
=================================  ======================  ======================

(With NONREF, ``skip_loop_filter=noref`` has nothing left to act on.) Up to 8 more bits on top of
the 480-pixel scaling's 12 would spend too much of the 31-bit threshold for 10 % of the cost.

Protocols PyAV's bundled FFmpeg lacks (``srt://``) are read through an ``ffmpeg`` process that
copies the video into MPEG-TS on a pipe (:mod:`bastion.stream.relay`).

Reconnecting a dropped network stream is not done here. Bad input never escapes as a PyAV
traceback: it is a :class:`bastion.errors.BastionError` with a stable code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from os import PathLike, fspath
from pathlib import Path
from types import TracebackType
from typing import Literal

import av
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from bastion.errors import CorruptMedia, FetchFailed, InvalidInput, VideoNoStream
from bastion.signals.video import DECODE_ERRORS
from bastion.stream.relay import RELAYABLE_SCHEMES, needs_relay, open_relay, scheme, scrub
from bastion.stream.sampler import DecodeMode

# Damaged packets tolerated in a row before the stream is given up as broken.
_MAX_DECODE_ERRORS = 100
# Frames larger than this are refused by FFmpeg itself (a hostile stream cannot exhaust memory).
_MAX_PIXELS = 8192 * 8192
# Packets the source waits for a keyframe, in keyframes mode or to go back to full decoding,
# before deciding the stream has none to offer (periodic intra refresh, a broken encoder).
_KEYFRAME_WAIT_PACKETS = 600
_SKIP: dict[DecodeMode, Literal["NONREF", "NONKEY"]] = {"full": "NONREF", "keyframes": "NONKEY"}


@dataclass(frozen=True, slots=True)
class StreamFrame:
    """One decoded frame; ``seconds`` is its presentation time since the stream's first frame."""

    seconds: float
    frame: VideoFrame


def _is_url(target: str) -> bool:
    return "://" in target and not target.startswith("file://")


class StreamSource:
    """An open stream: iterate :meth:`frames` (once), then :meth:`close` (or use ``with``)."""

    def __init__(
        self,
        container: InputContainer,
        stream: VideoStream,
        name: str,
        *,
        pace: bool,
        live: bool,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self._container = container
        self._stream = stream
        self._pace = pace
        self.live = live  # a broadcast (or a file played as one): lag behind it means something
        self._clock = clock
        self._sleep = sleep
        self._started: float | None = None  # wall clock when the first frame was handed out
        self._start_pts: int | None = None
        self._count = 0
        self.truncated = False  # the demuxer gave up before the end (a cut-off file or stream)
        self._on_close = on_close
        self._mode: DecodeMode = "full"
        self._requested: DecodeMode = "full"
        self._since_keyframe = 0  # packets since the last keyframe packet
        self.keyframes_usable = True  # False once the stream went too long without a keyframe
        stream.codec_context.thread_count = 1  # one watcher per core, like the hashing workers
        stream.codec_context.skip_frame = _SKIP["full"]
        # The pixel cap must reach the decoder: as an av.open option it only reaches the demuxer.
        stream.codec_context.options = {"max_pixels": str(_MAX_PIXELS)}

    @property
    def decode_mode(self) -> DecodeMode:
        """What the decoder does now: ``full`` (every reference frame) or ``keyframes``."""
        return self._mode

    def request_decode_mode(self, mode: DecodeMode) -> None:
        """Decode keyframes only, or everything again. Keyframes only starts at once; full
        decoding starts at the next keyframe (a frame predicted from frames that were never
        decoded would be garbage). Ignored for keyframes once the stream has shown it has too
        few of them."""
        if mode == "keyframes" and not self.keyframes_usable:
            mode = "full"
        self._requested = mode

    def _switch(self, packet_is_key: bool) -> None:
        if packet_is_key:
            self._since_keyframe = 0
        else:
            self._since_keyframe += 1
        if self._since_keyframe > _KEYFRAME_WAIT_PACKETS:
            # No keyframe for many seconds: keyframes only would show nothing.
            self.keyframes_usable = False
            self._requested = "full"
        wanted = self._requested
        if wanted == self._mode:
            return
        if wanted == "keyframes" or packet_is_key or not self.keyframes_usable:
            self._mode = wanted
            self._stream.codec_context.skip_frame = _SKIP[wanted]

    def lag(self, seconds: float) -> float:
        """How far (s) the wall clock is past stream time ``seconds``: 0 before the first frame
        and for a file read as fast as it decodes (there is no live edge to fall behind)."""
        if self._started is None or not self.live:
            return 0.0
        return max(0.0, self._clock() - self._started - seconds)

    def _seconds(self, frame: VideoFrame) -> float:
        time_base = self._stream.time_base
        if frame.pts is None or time_base is None:
            fps = float(self._stream.guessed_rate or self._stream.average_rate or 30)
            return self._count / fps
        if self._start_pts is None:
            self._start_pts = frame.pts
        return max(0.0, float((frame.pts - self._start_pts) * time_base))

    def _decoded(self) -> Iterator[VideoFrame]:
        codec = self._stream.codec_context
        errors = 0
        demuxer = self._container.demux(self._stream)
        while True:
            try:
                packet = next(demuxer)
            except StopIteration:
                return
            except DECODE_ERRORS:
                self.truncated = True
                return
            if packet.is_discard:
                continue
            self._switch(packet.is_keyframe)
            try:
                frames = codec.decode(packet)
            except DECODE_ERRORS as exc:
                # A damaged packet: the next keyframe may well decode.
                errors += 1
                if errors > _MAX_DECODE_ERRORS:
                    if not self._count:
                        raise CorruptMedia(
                            f"no frame of the stream could be decoded: {exc}"
                        ) from exc
                    self.truncated = True
                    return
                continue
            errors = 0
            yield from frames

    def frames(self) -> Iterator[StreamFrame]:
        for frame in self._decoded():
            seconds = self._seconds(frame)
            self._count += 1
            now = self._clock()
            if self._started is None:
                self._started = now
            elif self._pace:
                wait = self._started + seconds - now
                if wait > 0:
                    self._sleep(wait)
            yield StreamFrame(seconds, frame)
        if not self._count:
            raise CorruptMedia(f"{self.name}: no frame of the stream could be decoded")

    def close(self) -> None:
        try:
            self._container.close()
        finally:
            if self._on_close is not None:
                self._on_close()

    def __enter__(self) -> StreamSource:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _video_stream(container: InputContainer) -> VideoStream:
    for stream in container.streams.video:
        # Cover art in audio files is a one-picture "video" stream; it is not a video.
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    raise VideoNoStream("the stream has no video")


def _relayed(
    target: str, clock: Callable[[], float], sleep: Callable[[float], None]
) -> StreamSource:
    relayed = open_relay(target, options={"max_pixels": str(_MAX_PIXELS)})
    try:
        stream = _video_stream(relayed.container)
    except BaseException:
        relayed.close()
        raise
    return StreamSource(
        relayed.container,
        stream,
        target,
        pace=False,
        live=True,
        clock=clock,
        sleep=sleep,
        on_close=relayed.close,
    )


def open_source(
    url_or_path: str | PathLike[str],
    *,
    live: bool,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> StreamSource:
    """Open a stream URL or a file. ``live=True`` paces a file to the wall clock (a URL is paced
    by its sender either way). ``srt://`` and other protocols PyAV lacks go through an
    ``ffmpeg`` relay. Raises ``InvalidInput`` (no such file), ``FetchFailed`` (a URL that cannot
    be opened), ``CorruptMedia`` (not decodable video), ``VideoNoStream`` or, for a relayed URL
    without ``ffmpeg`` installed, ``ConfigurationError``."""
    target = fspath(url_or_path)
    if needs_relay(target):
        return _relayed(target, clock, sleep)
    is_url = _is_url(target)
    if not is_url and not Path(target.removeprefix("file://")).is_file():
        raise InvalidInput(f"{target}: no such file")
    options = {"max_pixels": str(_MAX_PIXELS)}
    try:
        container = av.open(target, "r", options=options, timeout=10.0 if is_url else None)
    except av.error.ProtocolNotFoundError:
        if not is_url or scheme(target) not in RELAYABLE_SCHEMES:
            raise FetchFailed(
                f"{scrub(target, target)}: the stream's protocol is not supported"
            ) from None
        # A protocol the bundled FFmpeg was built without: the system's ffmpeg may have it.
        return _relayed(target, clock, sleep)
    except DECODE_ERRORS as exc:
        if is_url:
            # PyAV's message repeats the URL, stream key included.
            raise FetchFailed(
                f"the stream could not be opened: {scrub(str(exc), target)}"
            ) from None
        raise CorruptMedia(f"the video could not be opened: {exc}") from exc
    try:
        stream = _video_stream(container)
    except BaseException:
        container.close()
        raise
    return StreamSource(
        container,
        stream,
        target,
        pace=live and not is_url,
        live=live or is_url,
        clock=clock,
        sleep=sleep,
    )
