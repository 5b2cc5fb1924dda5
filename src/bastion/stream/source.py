"""Decoded video frames of a stream or a file, with presentation timestamps, via PyAV.

A network URL (``rtmp://``, ``https://...m3u8``, ...) is paced by the network itself. A file can
be read as fast as it decodes (``live=False``: tests, back-fills) or "played as live"
(``live=True``): each frame is held back until the wall clock reaches its timestamp, so a file
exercises the watcher's lag governor exactly as a broadcast would.

Time is stream time: seconds since the first frame's pts. :meth:`StreamSource.lag` compares it
with the wall clock since the first frame arrived, which is how far behind live the caller is
when it handles a frame.

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

import av
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from bastion.errors import CorruptMedia, FetchFailed, InvalidInput, VideoNoStream
from bastion.signals.video import DECODE_ERRORS

# Damaged packets tolerated in a row before the stream is given up as broken.
_MAX_DECODE_ERRORS = 100
# Frames larger than this are refused by FFmpeg itself (a hostile stream cannot exhaust memory).
_MAX_PIXELS = 8192 * 8192


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
        stream.codec_context.thread_count = 1  # one watcher per core, like the hashing workers

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
        self._container.close()

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


def open_source(
    url_or_path: str | PathLike[str],
    *,
    live: bool,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> StreamSource:
    """Open a stream URL or a file. ``live=True`` paces a file to the wall clock (a URL is paced
    by its sender either way). Raises ``InvalidInput`` (no such file), ``FetchFailed`` (a URL
    that cannot be opened), ``CorruptMedia`` (not decodable video) or ``VideoNoStream``."""
    target = fspath(url_or_path)
    is_url = _is_url(target)
    if not is_url and not Path(target.removeprefix("file://")).is_file():
        raise InvalidInput(f"{target}: no such file")
    options = {"max_pixels": str(_MAX_PIXELS)}
    try:
        container = av.open(target, "r", options=options, timeout=10.0 if is_url else None)
    except DECODE_ERRORS as exc:
        if is_url:
            raise FetchFailed(f"the stream could not be opened: {exc}") from exc
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
