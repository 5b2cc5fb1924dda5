"""Temporal evidence: a banked entry fires on ``k`` matching sampled frames within ``n`` seconds,
spanning at least ``min_span_seconds``.

One frame that happens to fall within the PDQ threshold of a banked hash (a flat title card, a
noisy frame) must not cut a broadcast; a real rebroadcast of banked footage matches frame after
frame. Requiring ``k`` (3) distinct sampled frames inside a ``window_seconds`` (10 s) window
keeps the first and still fires within about ``k`` sampling intervals on the second, whether the
frames matched as they are or through their mirror hash (the caller decides what a match is).
Each entry fires at most once per stream. The minimum span (1 s) matters when the sampler speeds
up to confirm a first match (two frames a second): three frames a few hundredths of a second
apart are one moment of the stream, not three pieces of evidence.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why an entry fired: the window's first matching frame (stream time and the wall clock
    when it was ingested), the frame that completed the evidence, the count and best distance."""

    entry_id: int
    signal_type: str
    first_frame_seconds: float
    first_frame_wall: float
    fired_seconds: float
    frames: int
    best_distance: float


@dataclass(frozen=True, slots=True)
class _Seen:
    seconds: float
    wall: float
    distance: float


class TemporalEvidence:
    """Per entry, the matching frames of the last ``window_seconds`` of stream time."""

    def __init__(
        self, k: int = 3, window_seconds: float = 10.0, min_span_seconds: float = 1.0
    ) -> None:
        if k < 1 or window_seconds <= 0 or not 0 <= min_span_seconds <= window_seconds:
            raise ValueError("k must be at least 1, the window positive, the span within it")
        self.k = k
        self.window = window_seconds
        self.min_span = min_span_seconds
        self._seen: dict[tuple[int, str], deque[_Seen]] = {}
        self._fired: set[tuple[int, str]] = set()

    def fired(self, entry_id: int, signal_type: str) -> bool:
        return (entry_id, signal_type) in self._fired

    def add(
        self, seconds: float, wall: float, hits: dict[tuple[int, str], float]
    ) -> list[Evidence]:
        """One sampled frame at stream time ``seconds`` matched ``hits`` ((entry id, signal
        type) -> best distance over the frame's hashes); the entries that fire on it."""
        fired: list[Evidence] = []
        for key, distance in hits.items():
            if key in self._fired:
                continue
            seen = self._seen.setdefault(key, deque())
            seen.append(_Seen(seconds, wall, distance))
            while seen and seen[0].seconds < seconds - self.window:
                seen.popleft()
            if len(seen) >= self.k and seen[-1].seconds - seen[0].seconds >= self.min_span:
                self._fired.add(key)
                del self._seen[key]
                fired.append(
                    Evidence(
                        entry_id=key[0],
                        signal_type=key[1],
                        first_frame_seconds=seen[0].seconds,
                        first_frame_wall=seen[0].wall,
                        fired_seconds=seconds,
                        frames=len(seen),
                        best_distance=min(s.distance for s in seen),
                    )
                )
        # Entries no longer matching are forgotten once their window has passed (bounded memory).
        stale = [k for k, s in self._seen.items() if s[-1].seconds < seconds - self.window]
        for key in stale:
            del self._seen[key]
        return fired
