"""What a watcher has seen: the hashes of its sampled frames, kept for a while.

During an attack the first copy of new footage is often a stream Bastion is already watching.
An analyst who says "bank this stream from 00:12 to 00:40" needs the hashes of those seconds,
and the watcher computed them as it went; keeping them costs about 100 bytes a frame, so an hour
of one frame a second is under half a megabyte. Frames are never kept, only hashes.

Times are *watch seconds*: seconds since the stream was first opened. A reconnect does not
restart the clock (the watcher adds the wall time of the gap), so "00:12" always means the same
moment of this stream for the operator.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Final

DEFAULT_HISTORY_SECONDS: Final = 3600.0


@dataclass(frozen=True, slots=True)
class SeenFrame:
    seconds: float  # watch seconds
    pdq: str
    quality: int


class FrameHistory:
    """The sampled frames of the last ``keep_seconds``; safe to read from another thread."""

    def __init__(self, keep_seconds: float = DEFAULT_HISTORY_SECONDS) -> None:
        self.keep_seconds = keep_seconds
        self._frames: deque[SeenFrame] = deque()
        self._lock = threading.Lock()

    def add(self, seconds: float, pdq: str, quality: int) -> None:
        with self._lock:
            self._frames.append(SeenFrame(seconds, pdq, quality))
            while self._frames and self._frames[0].seconds < seconds - self.keep_seconds:
                self._frames.popleft()

    def between(self, start: float, end: float) -> list[SeenFrame]:
        with self._lock:
            return [frame for frame in self._frames if start <= frame.seconds <= end]

    def span(self) -> tuple[float, float] | None:
        """The first and last watch second still kept, or None before the first frame."""
        with self._lock:
            if not self._frames:
                return None
            return self._frames[0].seconds, self._frames[-1].seconds
