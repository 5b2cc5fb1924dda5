"""The streams a process watches through the API: start, stop, status, banking a range.

Each stream is a row in the ``stream`` table (what operators asked for, audited) and, while it is
watched here, a :class:`~bastion.stream.runner.StreamRunner` thread (reconnection with back-off,
status). All runners share the process's :class:`~bastion.runtime.Bastion`, so the bank indexes
are loaded once and an entry added anywhere (a crisis bank during an incident) is matched by
every stream within a second. Alerts go through one :class:`AlertDispatcher`: an audited alert,
a case with a blurred thumbnail, and the signed webhook when one is configured.

A process that stops (shut-down, deploy) leaves the rows as they are; :meth:`StreamManager.resume`
starts the ones still marked ``watching`` again. Several API processes would each resume all of
them: run streams in one process (``bastion serve`` with one worker) until streams are leased.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.errors import (
    BastionError,
    InvalidInput,
    StreamLimitReached,
    StreamNotFound,
    StreamNotWatching,
)
from bastion.storage.models import StreamRow, utcnow
from bastion.stream.alerting import AlertDispatcher, stream_label, stream_webhook
from bastion.stream.clips import clip_entry
from bastion.stream.frame_text import FrameTextReader
from bastion.stream.runner import MIN_RATE, ReconnectPolicy, StreamRunner, StreamSpec
from bastion.stream.targets import check_stream_source
from bastion.stream.watcher import StreamAlert

if TYPE_CHECKING:
    from bastion.banks.records import AddReport
    from bastion.runtime import Bastion

log = logging.getLogger(__name__)

MAX_RATE: Final = 30.0
STATES: Final = ("connecting", "watching", "reconnecting", "ended", "failed", "stopped")


@dataclass(frozen=True, slots=True)
class StreamStatus:
    id: int
    name: str
    label: str
    live: bool
    desired_state: str
    state: str  # one of STATES, or "not_running" for a watching row no thread runs here
    incident_id: int | None
    connections: int
    reconnects: int
    alerts: int
    repeats_suppressed: int  # alerts for entries that had fired already (after a reconnect)
    watch_seconds: float  # wall seconds since the stream was first opened
    lag_seconds: float | None
    target_rate: float
    current_rate: float | None
    sampled_per_second: float | None  # measured over the current connection
    frames_sampled: int
    frames_skipped: int
    cpu_seconds: float
    cpu_share: float | None  # cpu_seconds over watch_seconds: share of one core
    cpu_seconds_per_frame: float | None
    decode_mode: str | None
    history_seconds: tuple[float, float] | None
    error: dict[str, str] | None
    next_attempt_in: float | None
    created_by: str
    created_at: Any
    stopped_by: str | None
    stopped_at: Any


class StreamManager:
    """The process's watched streams; thread-safe."""

    def __init__(self, bastion: Bastion) -> None:
        self.bastion = bastion
        self.dispatcher = AlertDispatcher(bastion, webhook=stream_webhook(bastion.settings))
        self.text_reader = (
            FrameTextReader(bastion, on_finding=self.dispatcher.text_finding)
            if bastion.settings.stream_ocr_seconds > 0
            else None
        )
        self._streams: dict[int, StreamRunner] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _running(self) -> int:
        return sum(1 for runner in self._streams.values() if runner.alive)

    def _check_room(self) -> None:
        if self._closed:
            raise StreamNotWatching("this process is shutting down")
        limit = self.bastion.settings.stream_max_streams
        if self._running() >= limit:
            raise StreamLimitReached(
                f"this process watches {limit} streams already (BASTION_STREAM_MAX_STREAMS)",
                limit=limit,
            )

    def _alert_handler(self, stream_id: int) -> Callable[[StreamAlert], None]:
        def handle(alert: StreamAlert) -> None:
            self.dispatcher(alert, stream_id=stream_id)

        return handle

    def _launch(self, row: StreamRow) -> StreamRunner:
        self._check_room()
        settings = self.bastion.settings
        runner = StreamRunner(
            self.bastion,
            StreamSpec(row.id, row.url, row.label, live=row.live, rate=row.rate),
            on_alert=self._alert_handler(row.id),
            reconnect=ReconnectPolicy(
                settings.stream_reconnect_initial_seconds,
                settings.stream_reconnect_max_seconds,
                settings.stream_reconnect_attempts,
            ),
            history_seconds=settings.stream_history_seconds,
            text_reader=self.text_reader,
            text_every_seconds=settings.stream_ocr_seconds,
        )
        self._streams[row.id] = runner
        runner.start()
        return runner

    def start(
        self,
        source: str,
        *,
        actor: str,
        name: str | None = None,
        live: bool = True,
        rate: float = 1.0,
        incident_id: int | None = None,
        checked: bool = True,
    ) -> StreamStatus:
        """Watch a stream (``checked``: hold the source to the API's policy first)."""
        if not MIN_RATE <= rate <= MAX_RATE:
            raise InvalidInput(f"rate must be {MIN_RATE}-{MAX_RATE} frames a second")
        target = check_stream_source(source, self.bastion.settings).target if checked else source
        label = stream_label(target)
        name = (name or label).strip()[:128] or label[:128]
        with self._lock:
            self._check_room()
            with self.bastion.db.session() as session:
                if incident_id is not None:
                    self.bastion.incidents.get(session, incident_id)  # 404 for an unknown one
                row = self._insert(session, name, target, label, live, rate, incident_id, actor)
            self._launch(row)
        return self.status(row.id)

    def _insert(
        self,
        session: Session,
        name: str,
        target: str,
        label: str,
        live: bool,
        rate: float,
        incident_id: int | None,
        actor: str,
    ) -> StreamRow:
        row = StreamRow(
            name=name,
            url=target,
            label=label,
            live=live or "://" in target,
            rate=rate,
            incident_id=incident_id,
            created_by=actor,
        )
        session.add(row)
        session.flush()
        self.bastion.audit.record(
            session,
            actor=actor,
            action="stream.start",
            target_type="stream",
            target_id=row.id,
            details={"name": name, "source": label, "rate": rate, "incident_id": incident_id},
        )
        session.expunge(row)
        return row

    def resume(self) -> list[int]:
        """Start the streams marked ``watching`` that no thread here runs (after a restart)."""
        resumed: list[int] = []
        with self._lock, self.bastion.db.session() as session:
            rows = session.scalars(
                select(StreamRow)
                .where(StreamRow.desired_state == "watching")
                .order_by(StreamRow.id)
            )
            for row in rows:
                if row.id in self._streams and self._streams[row.id].alive:
                    continue
                try:
                    self._launch(row)
                except BastionError as exc:
                    log.warning("stream %s not resumed: %s", row.id, exc.detail)
                    break
                resumed.append(row.id)
        return resumed

    def stop(self, stream_id: int, *, actor: str, wait_seconds: float = 10.0) -> StreamStatus:
        with self.bastion.db.session() as session:
            row = session.get(StreamRow, stream_id)
            if row is None:
                raise StreamNotFound(f"no stream {stream_id}")
            if row.desired_state != "stopped":
                row.desired_state, row.stopped_by, row.stopped_at = "stopped", actor, utcnow()
                self.bastion.audit.record(
                    session,
                    actor=actor,
                    action="stream.stop",
                    target_type="stream",
                    target_id=row.id,
                    details={"name": row.name},
                )
            runner = self._streams.get(stream_id)
            if runner is not None:
                runner.stop(wait_seconds)
            session.flush()
            return self._status(row)

    def _status(self, row: StreamRow) -> StreamStatus:
        runner = self._streams.get(row.id)
        if runner is not None:
            live = runner.snapshot()
        else:
            live = {"state": "stopped" if row.desired_state == "stopped" else "not_running"}
        return StreamStatus(
            id=row.id,
            name=row.name,
            label=row.label,
            live=row.live,
            desired_state=row.desired_state,
            state=live["state"],
            incident_id=row.incident_id,
            connections=live.get("connections", 0),
            reconnects=live.get("reconnects", 0),
            alerts=live.get("alerts", 0),
            repeats_suppressed=live.get("repeats_suppressed", 0),
            watch_seconds=live.get("watch_seconds", 0.0),
            lag_seconds=live.get("lag_seconds"),
            target_rate=row.rate,
            current_rate=live.get("current_rate"),
            sampled_per_second=live.get("sampled_per_second"),
            frames_sampled=live.get("frames_sampled", 0),
            frames_skipped=live.get("frames_skipped", 0),
            cpu_seconds=live.get("cpu_seconds", 0.0),
            cpu_share=live.get("cpu_share"),
            cpu_seconds_per_frame=live.get("cpu_seconds_per_frame"),
            decode_mode=live.get("decode_mode"),
            history_seconds=live.get("history_seconds"),
            error=live.get("error"),
            next_attempt_in=live.get("next_attempt_in"),
            created_by=row.created_by,
            created_at=row.created_at,
            stopped_by=row.stopped_by,
            stopped_at=row.stopped_at,
        )

    def status(self, stream_id: int) -> StreamStatus:
        with self.bastion.db.session() as session:
            row = session.get(StreamRow, stream_id)
            if row is None:
                raise StreamNotFound(f"no stream {stream_id}")
            return self._status(row)

    def list(self, *, include_stopped: bool = False, limit: int = 500) -> list[StreamStatus]:
        with self.bastion.db.session() as session:
            query = select(StreamRow).order_by(StreamRow.id.desc()).limit(max(1, min(limit, 5000)))
            if not include_stopped:
                query = query.where(StreamRow.desired_state == "watching")
            return [self._status(row) for row in session.scalars(query)]

    def bank_range(
        self,
        stream_id: int,
        start: float,
        end: float,
        *,
        bank: str,
        actor: str,
        labels: Sequence[str] = (),
        note: str = "",
    ) -> AddReport:
        """Bank watch seconds ``start``-``end`` of a stream watched here as a video entry."""
        runner = self._streams.get(stream_id)
        if runner is None:
            self.status(stream_id)  # 404 for an unknown stream
            raise StreamNotWatching(
                f"stream {stream_id} is not watched by this process, so its history is not here"
            )
        entry = clip_entry(
            runner.history,
            start,
            end,
            min_quality=self.bastion.settings.pdq_min_quality,
            labels=list(labels),
            note=note or f"stream {runner.spec.label} from {start:g} s to {end:g} s",
            source=f"stream:{stream_id}:{start:g}-{end:g}",
        )
        with self.bastion.db.session() as session:
            report = self.bastion.banks.add_entries(session, bank, [entry], actor=actor)
            self.bastion.audit.record(
                session,
                actor=actor,
                action="stream.bank_range",
                target_type="stream",
                target_id=stream_id,
                details={
                    "bank": bank,
                    "start": start,
                    "end": end,
                    "entry_ids": [info.id for info in report.added],
                    "duplicates": report.duplicates,
                },
            )
        return report

    def close(self, wait_seconds: float = 5.0) -> None:
        """Stop every thread (rows keep ``watching``, so a restarted process resumes them)."""
        with self._lock:
            self._closed = True
            runners = list(self._streams.values())
        for runner in runners:
            runner.stop()
        deadline = time.monotonic() + wait_seconds
        for runner in runners:
            runner.stop(max(0.0, deadline - time.monotonic()))
        if self.text_reader is not None:
            self.text_reader.close()
