"""``bastion watch``: watch live streams (or recordings) for banked footage and raise alerts.

Each source (a stream URL or a video file) is watched by its own
:class:`~bastion.stream.runner.StreamRunner` thread; all of them share one :class:`Bastion`, so
the indexes are loaded once and an entry banked while watching is matched on every stream. A
stream URL that fails or ends is reconnected with doubling back-off up to
``--reconnect-attempts`` times in a row (default 3; 0 retries until Ctrl-C). Every
alert is printed as it fires (a JSON line with ``--format json``, a line for people otherwise),
then recorded and, when ``BASTION_STREAM_WEBHOOK_URL`` is set, sent to the platform as a signed
``stream.match`` event by :class:`AlertDispatcher`.

At the end (every source ended, ``--max-seconds`` reached, or Ctrl-C) each stream's status is
printed. Exit code precedence, as for ``scan``: 1 when any alert fired, even if a source failed,
because an alert is what the caller must act on; otherwise 3 for an internal error in a watcher,
2 when a source could not be opened or decoded, or broke off and did not come back
(``<stream>: <code>: <detail>`` on stderr at the end; the other streams keep running meanwhile),
0 otherwise.

Streams are named by :func:`stream_label` everywhere (output, errors, alerts, the webhook): a
stream key in the URL's credentials, query or fragment never leaves the process.

Ctrl-C stops every watcher at its next stream second (each thread runs its watcher a stream
second at a time and checks for a stop request in between), closes the sources and still prints
the statuses.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.text import Text

from bastion.cli.context import load_settings, open_bastion
from bastion.cli.output import (
    FormatOption,
    OutputFormat,
    jsonable,
    note,
    print_table,
    problem,
    stdout_console,
)
from bastion.stream.alerting import AlertDispatcher, stream_label, stream_webhook
from bastion.stream.frame_text import FrameText, FrameTextReader
from bastion.stream.runner import INTERNAL_ERROR, ReconnectPolicy, StreamRunner, StreamSpec
from bastion.stream.sampler import DEFAULT_RATE
from bastion.stream.watcher import StreamAlert

STATUS_COLUMNS = [
    "stream",
    "state",
    "frames_sampled",
    "frames_skipped",
    "rate",
    "target_rate",
    "lag_s",
    "cpu_ms_per_frame",
    "alerts",
    "error",
]

SourcesArgument = Annotated[
    list[str],
    typer.Argument(
        help="Stream URLs (rtmp://, https://...m3u8, ...) or video files to watch.",
        show_default=False,
    ),
]
LiveOption = Annotated[
    bool | None,
    typer.Option(
        "--live/--no-live",
        help="--live plays files as a live broadcast (paced to the clock); --no-live reads "
        "them as fast as they decode. URLs are always live. Default: files not paced.",
        show_default=False,
    ),
]
RateOption = Annotated[
    float,
    typer.Option("--rate", help="Frames hashed per stream second (the governor may lower it)."),
]
MaxSecondsOption = Annotated[
    float | None,
    typer.Option(
        "--max-seconds",
        help="Stop each stream after about this many seconds of stream time.",
        show_default=False,
    ),
]

ReconnectOption = Annotated[
    int,
    typer.Option(
        "--reconnect-attempts",
        help="Reconnections in a row tried, with doubling back-off, when a stream URL fails or "
        "ends, before giving it up; 0 retries until stopped. Files are never reconnected.",
    ),
]


@dataclass(slots=True)
class _Stream:
    """One source, its runner, and the status shown at the end."""

    target: str
    label: str
    runner: StreamRunner | None = None

    def snapshot(self) -> dict[str, Any]:
        return self.runner.snapshot() if self.runner is not None else {"state": "connecting"}

    @property
    def alerts(self) -> int:
        return self.runner.alerts if self.runner is not None else 0

    @property
    def error_code(self) -> str | None:
        error = self.snapshot().get("error")
        return error["code"] if error else None

    def to_dict(self) -> dict[str, Any]:
        snapshot = self.snapshot()
        return {"type": "status", "stream": self.label, **snapshot}


class _Printer:
    """Prints alerts as they fire, from any watcher thread, one whole line at a time."""

    def __init__(self, fmt: OutputFormat) -> None:
        self._fmt = fmt
        self._lock = threading.Lock()

    def alert(self, alert: StreamAlert) -> None:
        record = alert.record()
        record["stream"] = stream_label(alert.stream)
        record["action"] = "review" if alert.review_only else "cut"
        with self._lock:
            if self._fmt is OutputFormat.JSON:
                line = json.dumps({"type": "alert", **jsonable(record)}, ensure_ascii=False)
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
                return
            review = ", review only (quarantined entry)" if alert.review_only else ""
            # Text, not markup: a stream's name is shown as it is.
            stdout_console().print(
                Text(
                    f"ALERT {record['stream']}: bank {alert.bank or '?'} entry {alert.entry_id} "
                    f"({alert.signal_type}) on air from {alert.first_frame_seconds:.1f} s, "
                    f"fired at {alert.fired_seconds:.1f} s on {alert.frames} frames, "
                    f"distance {alert.best_distance:g}{review}"
                )
            )

    def text(self, found: FrameText) -> None:
        """Text read on a frame that matched or was flagged (``BASTION_STREAM_OCR_SECONDS``)."""
        record = {
            "type": "text",
            "stream": stream_label(found.stream),
            "seconds": round(found.seconds, 3),
            "findings": found.findings,
            "text": found.text[:500],
            "action": "review",
        }
        with self._lock:
            if self._fmt is OutputFormat.JSON:
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
                sys.stdout.flush()
                return
            stdout_console().print(
                Text(
                    f"TEXT {record['stream']} at {found.seconds:.1f} s: "
                    f"{', '.join(found.findings)} (review)"
                )
            )


def _wait(streams: list[_Stream]) -> bool:
    """Wait for every runner; on Ctrl-C ask them to stop, wait again, return True.

    Waits on each runner's ``done`` event, not ``Thread.join``: a join interrupted by Ctrl-C can
    leave a thread looking finished while it still delivers a webhook.
    """
    runners = [stream.runner for stream in streams if stream.runner is not None]
    try:
        for runner in runners:
            while not runner.done.wait(timeout=0.5):  # bounded, so Ctrl-C is seen promptly
                pass
    except KeyboardInterrupt:
        note("stopping the watchers (at their next stream second)...")
        for runner in runners:
            runner.stop()
        for runner in runners:
            runner.done.wait()
        return True
    return False


def _report_failures(streams: list[_Stream]) -> None:
    for stream in streams:
        error = stream.snapshot().get("error")
        if error:
            problem(stream.label, error["code"], error["detail"])


def _render_statuses(fmt: OutputFormat, streams: list[_Stream]) -> None:
    if fmt is OutputFormat.JSON:
        for stream in streams:
            sys.stdout.write(json.dumps(jsonable(stream.to_dict()), ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return
    rows: list[list[Any]] = []
    for stream in streams:
        status = stream.to_dict()
        cpu = status["cpu_seconds_per_frame"]
        lag = status["lag_seconds"]
        rows.append(
            [
                stream.label,
                status["state"],
                status["frames_sampled"],
                status["frames_skipped"],
                status["current_rate"],
                status["target_rate"],
                round(lag, 2) if lag is not None else None,
                round(cpu * 1000, 2) if cpu is not None else None,
                stream.alerts,
                stream.error_code,
            ]
        )
    print_table(STATUS_COLUMNS, rows)


def exit_code(streams: list[_Stream]) -> int:
    if any(stream.alerts for stream in streams):
        return 1
    if any(stream.error_code == INTERNAL_ERROR for stream in streams):
        return 3
    if any(stream.snapshot().get("state") == "failed" for stream in streams):
        return 2
    return 0


def watch_command(
    sources: SourcesArgument,
    live: LiveOption = None,
    rate: RateOption = DEFAULT_RATE,
    max_seconds: MaxSecondsOption = None,
    reconnect_attempts: ReconnectOption = 3,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Watch streams or video files for banked footage; alert as matches fire, exit 1 if any
    did. Ctrl-C stops every stream cleanly and prints their status."""
    if fmt is OutputFormat.CSV:
        raise typer.BadParameter("watch prints table or json", param_hint="--format")
    if not rate > 0:
        raise typer.BadParameter("must be more than 0", param_hint="--rate")
    if max_seconds is not None and not max_seconds > 0:
        raise typer.BadParameter("must be more than 0", param_hint="--max-seconds")
    if reconnect_attempts < 0:
        raise typer.BadParameter("must be 0 or more", param_hint="--reconnect-attempts")
    settings = load_settings()
    webhook = stream_webhook(settings)
    streams = [_Stream(target, stream_label(target)) for target in sources]
    printer = _Printer(fmt)
    with open_bastion() as bastion:
        dispatcher = AlertDispatcher(bastion, webhook=webhook)

        def on_alert(alert: StreamAlert) -> None:
            printer.alert(alert)  # the operator sees it at once, before a slow webhook answers
            dispatcher(alert)

        def on_text(found: FrameText) -> None:
            printer.text(found)
            dispatcher.text_finding(found)

        reader = (
            FrameTextReader(bastion, on_finding=on_text)
            if settings.stream_ocr_seconds > 0
            else None
        )
        policy = ReconnectPolicy(
            settings.stream_reconnect_initial_seconds,
            settings.stream_reconnect_max_seconds,
            reconnect_attempts,
        )
        for index, stream in enumerate(streams):
            stream.runner = StreamRunner(
                bastion,
                StreamSpec(index, stream.target, stream.label, live=bool(live), rate=rate),
                on_alert=on_alert,
                reconnect=policy,
                history_seconds=min(settings.stream_history_seconds, 60.0),
                max_stream_seconds=max_seconds,
                text_reader=reader,
                text_every_seconds=settings.stream_ocr_seconds,
            )
            stream.runner.start()
        interrupted = _wait(streams)
        if reader is not None:
            reader.close()  # finishes the frames already queued
    _report_failures(streams)
    _render_statuses(fmt, streams)
    alerts = sum(stream.alerts for stream in streams)
    failed = sum(1 for stream in streams if stream.error_code is not None)
    note(
        f"{'stopped' if interrupted else 'watched'} {len(streams)} stream(s): "
        f"{alerts} alert(s), {failed} could not be watched"
    )
    raise typer.Exit(exit_code(streams))


def register(app: typer.Typer) -> None:
    app.command("watch")(watch_command)
