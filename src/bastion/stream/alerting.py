"""From a stream match to an operator alert and a platform action.

:class:`AlertDispatcher` is the ``on_alert`` a :class:`~bastion.stream.watcher.StreamWatcher`
calls. For each :class:`StreamAlert` it

1. records an alert (kind ``stream_match``) with an audit event in one transaction, before
   anything leaves the process: the operator's record never depends on the platform answering;
2. sends the signed webhook event ``stream.match`` carrying the alert, with an action hint of
   ``cut`` (or ``review`` for an entry quarantined by flood control, which must not cut a
   broadcast on its own), when a webhook is configured;
3. adds the delivery's outcome and ``webhook_latency_seconds`` to the alert's details, audited.

``webhook_latency_seconds`` is what a platform experiences: the watcher's alert latency (first
matching frame ingested to alert) plus the time from receiving the alert to the webhook's
answer, which covers recording it and delivering it. It is set only for delivered webhooks.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

from bastion.act.webhook import WebhookAction, WebhookResult
from bastion.storage.models import AlertRow
from bastion.stream.watcher import StreamAlert

if TYPE_CHECKING:
    from bastion.runtime import Bastion

STREAM_MATCH_KIND: Final = "stream_match"
STREAM_MATCH_EVENT: Final = "stream.match"
STREAM_ACTOR: Final = "system:stream-watcher"


def stream_label(name: str) -> str:
    """A stream's name fit to store and send: a URL loses its credentials, query and fragment.

    Stream URLs often carry a stream key (``rtmp://host/app?key=...``, ``user:pass@``); alerts
    are shown to operators and sent to platforms, so the key must not travel with them.
    """
    if "://" not in name:
        return name
    try:
        parts = urlsplit(name)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(unparsable stream URL)"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class AlertDispatcher:
    """Records each stream alert and, when configured, sends it to the platform's webhook.

    Called in the watcher's thread, so a slow webhook delays the watcher; :class:`WebhookAction`
    bounds that with its timeout and retries, and never raises on a failed delivery.
    """

    def __init__(
        self,
        bastion: Bastion,
        *,
        webhook: WebhookAction | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bastion = bastion
        self._webhook = webhook
        self._clock = clock

    def __call__(self, alert: StreamAlert) -> None:
        received = self._clock()
        details: dict[str, Any] = dataclasses.asdict(alert)
        details["stream"] = stream_label(alert.stream)
        details["action"] = "review" if alert.review_only else "cut"
        alert_id = self._record(alert, details)
        if self._webhook is None:
            return
        result = self._webhook.send(STREAM_MATCH_EVENT, {"alert_id": alert_id, **details})
        latency = alert.latency_seconds + (self._clock() - received) if result.delivered else None
        self._record_delivery(alert_id, result, latency)

    def _record(self, alert: StreamAlert, details: dict[str, Any]) -> int:
        summary = (
            f"stream {details['stream']}: bank {alert.bank or '?'} entry {alert.entry_id} "
            f"({alert.signal_type}) on air from {alert.first_frame_seconds:.1f} s"
        )
        with self._bastion.db.session() as session:
            row = AlertRow(
                kind=STREAM_MATCH_KIND,
                severity="critical",
                summary=summary,
                bank_name=alert.bank or None,
                entry_id=alert.entry_id,
                details=details,
            )
            session.add(row)
            session.flush()
            self._bastion.audit.record(
                session,
                actor=STREAM_ACTOR,
                action="alert.create",
                target_type="alert",
                target_id=row.id,
                details={
                    "kind": STREAM_MATCH_KIND,
                    "stream": details["stream"],
                    "entry_id": alert.entry_id,
                    "action": details["action"],
                },
            )
            return row.id

    def _record_delivery(self, alert_id: int, result: WebhookResult, latency: float | None) -> None:
        delivery = {
            "event": STREAM_MATCH_EVENT,
            "status": result.status,
            "attempts": result.attempts,
            "seconds": result.seconds,
            "error_code": result.error_code,
        }
        with self._bastion.db.session() as session:
            row = session.get(AlertRow, alert_id)
            if row is not None:
                # A new dict: the JSON column only notices reassignment, not in-place edits.
                row.details = {
                    **row.details,
                    "webhook": delivery,
                    "webhook_latency_seconds": latency,
                }
            self._bastion.audit.record(
                session,
                actor=STREAM_ACTOR,
                action="alert.webhook",
                target_type="alert",
                target_id=alert_id,
                details=delivery,
            )
