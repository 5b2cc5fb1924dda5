"""``bastion watch``: watch live streams (or recordings) for banked footage and raise alerts.

Each source (a stream URL or a video file) is opened with :func:`open_source` and watched by its
own :class:`StreamWatcher` in its own thread; all of them share one :class:`Bastion`, so the
indexes are loaded once and an entry banked while watching is matched on every stream. Every
alert is printed as it fires (a JSON line with ``--format json``, a line for people otherwise),
then recorded and, when ``BASTION_STREAM_WEBHOOK_URL`` is set, sent to the platform as a signed
``stream.match`` event by :class:`AlertDispatcher`.

At the end (every source ended, ``--max-seconds`` reached, or Ctrl-C) each stream's status is
printed. Exit code precedence, as for ``scan``: 1 when any alert fired, even if a source failed,
because an alert is what the caller must act on; otherwise 3 for an internal error in a watcher,
2 when a source could not be opened or decoded (``<stream>: <code>: <detail>`` on stderr as soon
as it fails; the other streams keep running), 0 otherwise.

Streams are named by :func:`stream_label` everywhere (output, errors, alerts, the webhook): a
stream key in the URL's credentials, query or fragment never leaves the process.

Ctrl-C stops every watcher at its next stream second (each thread runs its watcher a stream
second at a time and checks for a stop request in between), closes the sources and still prints
the statuses.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.text import Text

from bastion.act.webhook import WebhookAction
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
from bastion.errors import BastionError, ConfigurationError, UrlBlocked
from bastion.ingest.address_policy import parse_target
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.stream.alerting import AlertDispatcher, stream_label
from bastion.stream.sampler import DEFAULT_RATE, Sampler
from bastion.stream.source import open_source
from bastion.stream.watcher import StreamAlert, StreamWatcher

# Stream seconds a watcher runs between checks for Ctrl-C (about a wall second when live).
_CHUNK_SECONDS = 1.0
# The sampler's default floor for the governor; a lower --rate lowers the floor with it.
_MIN_RATE = 0.125
_INTERNAL_ERROR = "internal_error"

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


@dataclass(slots=True)
class _Stream:
    """One source and what became of it; written by its thread, read after the threads end."""

    target: str
    label: str
    watcher: StreamWatcher | None = None
    alerts: int = 0
    ended: bool = False
    error_code: str | None = None
    error_detail: str = ""

    def state(self) -> str:
        if self.error_code is not None:
            return "error"
        return "ended" if self.ended else "stopped"

    def to_dict(self) -> dict[str, Any]:
        status = self.watcher.status() if self.watcher is not None else None
        return {
            "type": "status",
            "stream": self.label,
            "state": self.state(),
            "frames_sampled": status.frames_sampled if status else 0,
            "frames_skipped": status.frames_skipped if status else 0,
            "current_rate": status.current_rate if status else None,
            "target_rate": status.target_rate if status else None,
            "lag_seconds": status.lag_seconds if status else None,
            "cpu_seconds_per_frame": status.cpu_seconds_per_frame if status else None,
            "alerts": self.alerts,
            "error": (
                {"code": self.error_code, "detail": self.error_detail}
                if self.error_code is not None
                else None
            ),
        }


def stream_webhook(settings: Settings) -> WebhookAction | None:
    """The webhook stream alerts are sent to, or None when ``BASTION_STREAM_WEBHOOK_URL`` is
    unset. A URL without a secret, or one the address policy can never accept, is a
    configuration error raised before any stream is opened."""
    url = (settings.stream_webhook_url or "").strip()
    if not url:
        return None
    secret = settings.stream_webhook_secret
    if secret is None or not secret.get_secret_value():
        raise ConfigurationError(
            "BASTION_STREAM_WEBHOOK_SECRET must be set when BASTION_STREAM_WEBHOOK_URL is: "
            "stream webhooks are signed with it, and unsigned ones could be forged"
        )
    try:
        parse_target(url)
    except UrlBlocked as exc:
        raise ConfigurationError(f"BASTION_STREAM_WEBHOOK_URL is refused: {exc.detail}") from None
    return WebhookAction(
        url,
        secret.get_secret_value(),
        timeout=settings.stream_webhook_timeout_seconds,
        retries=settings.stream_webhook_retries,
        allow_private=settings.stream_webhook_allow_private,
    )


class _Printer:
    """Prints alerts as they fire, from any watcher thread, one whole line at a time."""

    def __init__(self, fmt: OutputFormat) -> None:
        self._fmt = fmt
        self._lock = threading.Lock()

    def alert(self, alert: StreamAlert) -> None:
        record = dataclasses.asdict(alert)
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


def _scrubbed(detail: str, stream: _Stream) -> str:
    """An error's detail with the stream's full URL (which may carry a key) replaced."""
    return detail.replace(stream.target, stream.label) if stream.target != stream.label else detail


def _watch_one(
    bastion: Bastion,
    stream: _Stream,
    *,
    live: bool,
    rate: float,
    max_seconds: float | None,
    on_alert: Callable[[StreamAlert], None],
    stop: threading.Event,
) -> None:
    """A watcher thread: open, watch a stream second at a time until the end, the time limit
    or a stop request; failures are recorded on ``stream`` and reported on stderr."""

    def counted(alert: StreamAlert) -> None:
        stream.alerts += 1
        on_alert(alert)

    try:
        with open_source(stream.target, live=live) as source:
            stream.watcher = StreamWatcher(
                bastion,
                source,
                on_alert=counted,
                name=stream.label,
                sampler=Sampler(rate, min_rate=min(_MIN_RATE, rate)),
            )
            watched = 0.0
            while not stop.is_set():
                chunk = _CHUNK_SECONDS
                if max_seconds is not None:
                    chunk = min(chunk, max_seconds - watched)
                    if chunk <= 0:
                        break
                if stream.watcher.run(max_seconds=chunk):
                    stream.ended = True
                    break
                watched += chunk
    except BastionError as exc:
        stream.error_code, stream.error_detail = exc.code, _scrubbed(exc.detail, stream)
    except Exception as exc:  # a bug: this stream stops, the others go on
        stream.error_code = _INTERNAL_ERROR
        stream.error_detail = _scrubbed(f"{type(exc).__name__}: {exc}", stream)
    if stream.error_code is not None:
        problem(stream.label, stream.error_code, stream.error_detail)


def _wait(threads: list[threading.Thread], stop: threading.Event) -> bool:
    """Wait for every watcher; on Ctrl-C ask them to stop, wait again, return True."""
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)  # a bounded join, so Ctrl-C is seen promptly
    except KeyboardInterrupt:
        stop.set()
        note("stopping the watchers (at their next stream second)...")
        for thread in threads:
            thread.join()
        return True
    return False


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
    if any(stream.error_code == _INTERNAL_ERROR for stream in streams):
        return 3
    if any(stream.error_code is not None for stream in streams):
        return 2
    return 0


def watch_command(
    sources: SourcesArgument,
    live: LiveOption = None,
    rate: RateOption = DEFAULT_RATE,
    max_seconds: MaxSecondsOption = None,
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
    webhook = stream_webhook(load_settings())
    streams = [_Stream(target, stream_label(target)) for target in sources]
    printer = _Printer(fmt)
    stop = threading.Event()
    with open_bastion() as bastion:
        dispatcher = AlertDispatcher(bastion, webhook=webhook)

        def on_alert(alert: StreamAlert) -> None:
            printer.alert(alert)  # the operator sees it at once, before a slow webhook answers
            dispatcher(alert)

        threads = [
            threading.Thread(
                target=_watch_one,
                args=(bastion, stream),
                kwargs={
                    "live": bool(live),
                    "rate": rate,
                    "max_seconds": max_seconds,
                    "on_alert": on_alert,
                    "stop": stop,
                },
                name=f"watch-{index}",
            )
            for index, stream in enumerate(streams)
        ]
        for thread in threads:
            thread.start()
        interrupted = _wait(threads, stop)
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
