"""From a stream match to an operator alert and a platform action.

:class:`AlertDispatcher` is the ``on_alert`` a :class:`~bastion.stream.watcher.StreamWatcher`
calls. For each :class:`StreamAlert` it

1. records an alert (kind ``stream_match``), opens a case of the highest priority for it (linked
   to the stream and, when the entry is in an incident's crisis bank, to the incident) with the
   blurred thumbnail as its evidence image, and audits both, in one transaction, before anything
   leaves the process: the operator's record never depends on the platform answering;
2. sends the signed webhook event ``stream.match`` carrying the alert, with an action hint of
   ``cut`` (or ``review`` for an entry quarantined by flood control, which must not cut a
   broadcast on its own), when a webhook is configured;
3. adds the delivery's outcome and ``webhook_latency_seconds`` to the alert's details, audited.

``webhook_latency_seconds`` is what a platform experiences: the watcher's alert latency (first
matching frame ingested to alert) plus the time from receiving the alert to the webhook's
answer, which covers recording it and delivering it. It is set only for delivered webhooks.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.act.webhook import WebhookAction, WebhookResult
from bastion.errors import ConfigurationError, UrlBlocked
from bastion.ingest.address_policy import parse_target
from bastion.review.cases import (
    CRITICAL_PRIORITY,
    HIGH_PRIORITY,
    LIVE_STREAM_PRIORITY,
    CaseInfo,
    NewCase,
)
from bastion.review.evidence_image import blurred_thumbnail
from bastion.storage.models import AlertRow, BankRow, IncidentRow, StreamRow
from bastion.stream.watcher import StreamAlert

if TYPE_CHECKING:
    from bastion.runtime import Bastion
    from bastion.settings import Settings
    from bastion.stream.frame_text import FrameText

STREAM_MATCH_KIND: Final = "stream_match"
STREAM_MATCH_EVENT: Final = "stream.match"
STREAM_ACTOR: Final = "system:stream-watcher"
STREAM_TEXT_KIND: Final = "stream_text"
STREAM_TEXT_EVENT: Final = "stream.text"
TEXT_EXCERPT_CHARS: Final = 2000
_KEY_LABEL: Final = re.compile(r"key-[0-9a-f]{8}")


def stream_label(name: str) -> str:
    """A stream's name fit to store and send: a URL loses its credentials, query and fragment,
    and an RTMP URL's stream key (the path after the application) becomes ``key-`` and a short
    fingerprint of it.

    Stream URLs carry stream keys (``rtmp://host/app/KEY``, ``?key=...``, ``user:pass@``); alerts
    are shown to operators and sent to platforms, so the key must not travel with them. The
    fingerprint still tells two streams of one server apart without revealing either key.
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
    path = parts.path
    if parts.scheme.lower() in ("rtmp", "rtmps"):
        app, _, key = path.lstrip("/").partition("/")
        if key and not _KEY_LABEL.fullmatch(key):  # labelling a label changes nothing
            fingerprint = hashlib.sha256(key.encode("utf-8", errors="replace")).hexdigest()[:8]
            path = f"/{app}/key-{fingerprint}"
    return urlunsplit((parts.scheme, netloc, path, "", ""))


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

    def __call__(self, alert: StreamAlert, *, stream_id: int | None = None) -> None:
        received = self._clock()
        details: dict[str, Any] = alert.record()
        details["stream"] = stream_label(alert.stream)
        details["stream_id"] = stream_id
        details["action"] = "review" if alert.review_only else "cut"
        alert_id, case = self._record(alert, details, stream_id)
        if self._webhook is None:
            return
        payload = {"alert_id": alert_id, "case_id": case.id, **details}
        if case.incident_id is not None:
            payload["incident_id"] = case.incident_id
        result = self._webhook.send(STREAM_MATCH_EVENT, payload)
        latency = alert.latency_seconds + (self._clock() - received) if result.delivered else None
        self._record_delivery(alert_id, result, latency)

    def _record(
        self, alert: StreamAlert, details: dict[str, Any], stream_id: int | None
    ) -> tuple[int, CaseInfo]:
        summary = (
            f"stream {details['stream']}: bank {alert.bank or '?'} entry {alert.entry_id} "
            f"({alert.signal_type}) on air from {alert.first_frame_seconds:.1f} s"
        )
        with self._bastion.db.session() as session:
            row = self._new_alert(
                session,
                AlertRow(
                    kind=STREAM_MATCH_KIND,
                    severity="critical",
                    summary=summary,
                    bank_name=alert.bank or None,
                    entry_id=alert.entry_id,
                    details=details,
                ),
                {"entry_id": alert.entry_id, "action": details["action"]},
            )
            case = self._open_case(session, alert, details, row.id, stream_id)
            row.details = {**details, "case_id": case.id}
            return row.id, case

    def _new_alert(self, session: Session, row: AlertRow, audited: dict[str, Any]) -> AlertRow:
        """Add ``row`` with its audit event (kind and stream, plus ``audited``)."""
        session.add(row)
        session.flush()
        self._bastion.audit.record(
            session,
            actor=STREAM_ACTOR,
            action="alert.create",
            target_type="alert",
            target_id=row.id,
            details={"kind": row.kind, "stream": row.details.get("stream"), **audited},
        )
        return row

    def _open_case(
        self,
        session: Session,
        alert: StreamAlert,
        details: dict[str, Any],
        alert_id: int,
        stream_id: int | None,
    ) -> CaseInfo:
        bank = session.scalars(select(BankRow).where(BankRow.name == alert.bank)).first()
        incident_id = (
            session.scalars(select(IncidentRow.id).where(IncidentRow.bank_id == bank.id)).first()
            if bank is not None
            else None
        )
        title = (
            f"Banked footage live on {details['stream']} "
            f"(bank {alert.bank or '?'}, entry {alert.entry_id})"
        )
        return self._bastion.cases.open(
            session,
            NewCase(
                kind=STREAM_MATCH_KIND,
                priority=LIVE_STREAM_PRIORITY,
                severity=bank.severity if bank is not None else "critical",
                title=title,
                labels=list(bank.labels) if bank is not None else [],
                source=details["stream"],
                stream_id=stream_id,
                alert_id=alert_id,
                incident_id=incident_id,
                bank=alert.bank or None,
                entry_id=alert.entry_id,
                details={k: v for k, v in details.items() if k != "stream_id"},
            ),
            actor=STREAM_ACTOR,
            image=alert.thumbnail,
        )

    def text_finding(self, found: FrameText) -> None:
        """Text read on a stream frame matched a bank or was flagged by the classifier: an
        alert (``stream_text``) and a review case; the webhook says ``review``, never ``cut``."""
        result = found.result
        positives = [m for m in result.matches if m.bank_kind == "positive" and not m.suppressed]
        flagged = (
            [score.code for score in result.text.scores if score.harmful] if result.text else []
        )
        label = stream_label(found.stream)
        details: dict[str, Any] = {
            "stream": label,
            "stream_id": found.stream_id,
            "seconds": round(found.seconds, 3),
            "text": found.text[:TEXT_EXCERPT_CHARS],
            "findings": found.findings,
            "matches": [
                {"bank": m.bank, "entry_id": m.entry_id, "signal_type": m.signal_type}
                for m in positives[:20]
            ],
            "flagged": flagged,
            "content_id": result.content_id,
            "action": "review",
        }
        critical = any(m.severity == "critical" for m in positives)
        summary = (
            f"stream {label}: text on screen at {found.seconds:.1f} s: {', '.join(found.findings)}"
        )
        with self._bastion.db.session() as session:
            row = self._new_alert(
                session,
                AlertRow(
                    kind=STREAM_TEXT_KIND,
                    severity="high",
                    summary=summary[:2000],
                    bank_name=positives[0].bank if positives else None,
                    entry_id=positives[0].entry_id if positives else None,
                    details=details,
                ),
                {"findings": found.findings},
            )
            labels = sorted({code for m in positives for code in m.labels} | set(flagged))
            case = self._bastion.cases.open(
                session,
                NewCase(
                    kind=STREAM_TEXT_KIND,
                    priority=CRITICAL_PRIORITY if critical else HIGH_PRIORITY,
                    severity="critical" if critical else "high",
                    title=f"Text on {label} at {found.seconds:.0f} s: {', '.join(found.findings)}",
                    labels=labels,
                    source=label,
                    # Streams of `bastion watch` have no row: only the API's are linked.
                    stream_id=(
                        found.stream_id if session.get(StreamRow, found.stream_id) else None
                    ),
                    alert_id=row.id,
                    bank=positives[0].bank if positives else None,
                    entry_id=positives[0].entry_id if positives else None,
                    details={k: v for k, v in details.items() if k != "stream_id"},
                ),
                actor=STREAM_ACTOR,
                image=blurred_thumbnail(Image.fromarray(found.thumbnail_source)),
            )
            row.details = {**details, "case_id": case.id}
            alert_id = row.id
        if self._webhook is not None:
            sent = self._webhook.send(
                STREAM_TEXT_EVENT, {"alert_id": alert_id, "case_id": case.id, **details}
            )
            self._record_delivery(alert_id, sent, None, event=STREAM_TEXT_EVENT)

    def _record_delivery(
        self,
        alert_id: int,
        result: WebhookResult,
        latency: float | None,
        *,
        event: str = STREAM_MATCH_EVENT,
    ) -> None:
        delivery = {
            "event": event,
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
