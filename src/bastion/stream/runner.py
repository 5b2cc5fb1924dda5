"""One watched stream in its own thread: open, watch, reconnect with back-off, report.

The thread opens the source, runs the watcher a stream second at a time (so a stop request is
seen within about a second), and when the source fails or ends, reconnects after a back-off that
doubles from ``initial_backoff`` to ``max_backoff`` and starts over once a connection has lasted
:data:`STABLE_SECONDS`. Files end instead of reconnecting. Every failure, even a bug, is caught
and reported in the status: one stream's trouble never touches another.

Operators see (:meth:`StreamRunner.snapshot`): state, lag behind live, frames sampled per second
(target, current and measured), CPU seconds spent by the stream's thread (decoding, hashing,
matching) and its share of one core, connections and reconnects, the last error (with the URL
replaced by its label, so a stream key never shows) and the number of alerts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from bastion.errors import (
    BastionError,
    ConfigurationError,
    InvalidInput,
    UrlBlocked,
    VideoNoStream,
)
from bastion.stream.history import FrameHistory
from bastion.stream.sampler import Sampler
from bastion.stream.source import open_source
from bastion.stream.watcher import StreamAlert, StreamWatcher

if TYPE_CHECKING:
    from bastion.runtime import Bastion
    from bastion.stream.frame_text import FrameTextReader

log = logging.getLogger(__name__)

# A connection that lasted this long was healthy: the next failure waits the initial back-off.
STABLE_SECONDS: Final = 30.0
# Stream seconds the watcher runs between checks for a stop request or a time limit.
CHUNK_SECONDS: Final = 1.0
MIN_RATE: Final = 0.125
INTERNAL_ERROR: Final = "internal_error"
FINAL_ERRORS: Final = (VideoNoStream, InvalidInput, UrlBlocked, ConfigurationError)
STREAM_INTERRUPTED: Final = "stream_interrupted"


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """What to watch: ``target`` is the URL or file path (it may carry a key: never shown),
    ``label`` is how it is shown."""

    id: int
    target: str
    label: str
    live: bool = True
    rate: float = 1.0

    @property
    def is_file(self) -> bool:
        return "://" not in self.target or self.target.startswith("file://")


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    initial_backoff: float = 1.0
    max_backoff: float = 60.0
    attempts: int = 0  # failed attempts in a row before giving up; 0: never give up


class StreamRunner:
    """Watches one stream in a daemon thread; :meth:`start`, :meth:`stop`, :meth:`snapshot`."""

    def __init__(
        self,
        bastion: Bastion,
        spec: StreamSpec,
        *,
        on_alert: Callable[[StreamAlert], None],
        reconnect: ReconnectPolicy,
        history_seconds: float,
        max_stream_seconds: float | None = None,
        text_reader: FrameTextReader | None = None,
        text_every_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bastion = bastion
        self.spec = spec
        self._on_alert = on_alert
        self._reconnect = reconnect
        self._max_stream_seconds = max_stream_seconds
        self._text_reader = text_reader
        self._text_every = text_every_seconds
        self._clock = clock
        self.history = FrameHistory(history_seconds)
        self.stop_event = threading.Event()
        self.state = "connecting"
        self.connections = 0
        self.reconnects = 0
        self.alerts = 0
        self.cpu_seconds = 0.0
        self.error: dict[str, str] | None = None
        self.watcher: StreamWatcher | None = None
        self._watched_stream_seconds = 0.0
        self._origin: float | None = None  # clock at the first successful open
        self._connected_at: float | None = None
        self._retry_at: float | None = None
        # Entries that fired on this stream: a reconnection (to a playlist that still lists the
        # last segments, say) must not alert on them again.
        self._fired: set[tuple[int, str]] = set()
        self.repeats_suppressed = 0
        self._lock = threading.Lock()
        # Set when the thread is done: waiting on it survives a Ctrl-C, Thread.join may not.
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"stream-{spec.id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, wait_seconds: float | None = None) -> None:
        self.stop_event.set()
        if wait_seconds is not None and self.thread.is_alive():
            self.thread.join(timeout=wait_seconds)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    # --- the thread ---------------------------------------------------------------------------

    def _scrub(self, detail: str) -> str:
        target, label = self.spec.target, self.spec.label
        return detail.replace(target, label) if target != label else detail

    def _fail(self, code: str, detail: str) -> None:
        with self._lock:
            self.error = {"code": code, "detail": self._scrub(detail)}
        log.warning(
            "stream %s (%s): %s: %s", self.spec.id, self.spec.label, code, self._scrub(detail)
        )

    def _alert(self, alert: StreamAlert) -> None:
        key = (alert.entry_id, alert.signal_type)
        with self._lock:
            if key in self._fired:
                self.repeats_suppressed += 1
                return
            self._fired.add(key)
            self.alerts += 1
        try:
            self._on_alert(alert)
        except Exception:
            # The watcher goes on (the next alert may be recorded); this one is in the log.
            log.exception("stream %s: alert for entry %s not handled", self.spec.id, alert.entry_id)

    def _time_left(self) -> float | None:
        if self._max_stream_seconds is None:
            return None
        return self._max_stream_seconds - self._watched_stream_seconds

    def _watch(self) -> bool:
        """One connection: True when watching should end (stop request or time limit)."""
        with open_source(self.spec.target, live=self.spec.live) as source:
            now = self._clock()
            if self._origin is None:
                self._origin = now
            watcher = StreamWatcher(
                self.bastion,
                source,
                on_alert=self._alert,
                name=self.spec.label,
                sampler=Sampler(self.spec.rate, min_rate=min(MIN_RATE, self.spec.rate)),
                history=self.history,
                time_offset=now - self._origin,
                text_reader=self._text_reader,
                text_every_seconds=self._text_every,
                stream_id=self.spec.id,
            )
            with self._lock:
                self.connections += 1
                self._connected_at = now
                self.watcher = watcher
                self.state = "watching"
                self.error = None
            while not self.stop_event.is_set():
                chunk = CHUNK_SECONDS
                left = self._time_left()
                if left is not None:
                    if left <= 0:
                        return True
                    chunk = min(chunk, left)
                started = time.thread_time()
                ended = watcher.run(max_seconds=chunk)
                with self._lock:
                    self.cpu_seconds += time.thread_time() - started
                    if not ended:
                        self._watched_stream_seconds += chunk
                if ended:
                    if source.truncated:
                        self._fail(STREAM_INTERRUPTED, "the stream broke off mid-way")
                    return False
        return True

    def _run(self) -> None:
        try:
            self._watch_until_done()
        finally:
            self.done.set()

    def _watch_until_done(self) -> None:
        policy = self._reconnect
        backoff = policy.initial_backoff
        failures = 0
        while not self.stop_event.is_set():
            try:
                if self._watch():
                    break
            except BastionError as exc:
                self._fail(exc.code, exc.detail)
                if isinstance(exc, FINAL_ERRORS):
                    # Retrying cannot help: no video in it, a missing file, a refused address.
                    with self._lock:
                        self.state = "failed"
                    return
            except Exception as exc:  # a bug: reported, and this stream alone is affected
                log.exception("stream %s: watcher crashed", self.spec.id)
                self._fail(INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
            if self.stop_event.is_set():
                break
            if self.spec.is_file:
                with self._lock:
                    self.state = "failed" if self.error else "ended"
                return
            connected_at, self._connected_at = self._connected_at, None
            if connected_at is not None and self._clock() - connected_at >= STABLE_SECONDS:
                backoff, failures = policy.initial_backoff, 0
            failures += 1
            if policy.attempts and failures > policy.attempts:
                with self._lock:
                    # A broadcast that was watched and did not come back has ended (the last
                    # error stays in the status); one that never opened has failed.
                    self.state = "ended" if self.connections else "failed"
                log.warning("stream %s: given up after %d attempts", self.spec.id, policy.attempts)
                return
            with self._lock:
                self.state = "reconnecting"
                self.reconnects += 1
                self._retry_at = self._clock() + backoff
            self.stop_event.wait(backoff)
            backoff = min(backoff * 2, policy.max_backoff)
            with self._lock:
                self._retry_at = None
                if not self.stop_event.is_set():
                    self.state = "connecting"
        with self._lock:
            self.state = "stopped"

    # --- what operators see ------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            watched = now - self._origin if self._origin is not None else 0.0
            sampler = self.watcher.status() if self.watcher is not None else None
            connected = now - self._connected_at if self._connected_at is not None else None
            measured = (
                sampler.frames_sampled / connected
                if sampler is not None and connected is not None and connected >= 1.0
                else None
            )
            return {
                "state": self.state,
                "connections": self.connections,
                "reconnects": self.reconnects,
                "alerts": self.alerts,
                "repeats_suppressed": self.repeats_suppressed,
                "watch_seconds": round(watched, 3),
                "lag_seconds": sampler.lag_seconds if sampler else None,
                "target_rate": self.spec.rate,
                "current_rate": sampler.current_rate if sampler else None,
                "sampled_per_second": round(measured, 3) if measured is not None else None,
                "frames_sampled": sampler.frames_sampled if sampler else 0,
                "frames_skipped": sampler.frames_skipped if sampler else 0,
                "cpu_seconds": round(self.cpu_seconds, 3),
                "cpu_share": round(self.cpu_seconds / watched, 4) if watched >= 1.0 else None,
                "cpu_seconds_per_frame": sampler.cpu_seconds_per_frame if sampler else None,
                "decode_mode": getattr(sampler, "decode_mode", "full") if sampler else None,
                "history_seconds": self.history.span(),
                "error": dict(self.error) if self.error else None,
                "next_attempt_in": (
                    round(max(0.0, self._retry_at - now), 3) if self._retry_at else None
                ),
            }
