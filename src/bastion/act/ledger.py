"""The action ledger: every effect on the platform, recorded once and delivered until it lands.

An action (a removal to carry out, a counter-narrative redirect, a law-enforcement escalation) is
a row of the ``action`` table with an ``idempotency_key``: enqueueing the same key twice returns
the first action, so a retried request or a decision replayed by a client never acts twice.

Delivery is a signed webhook (:class:`~bastion.act.webhook.WebhookAction`) per attempt. States:

``pending``
    waiting for its first attempt (or put back by :meth:`ActionLedger.replay`);
``sending``
    claimed by one deliverer, which holds it until ``next_attempt_at`` (a lease; a deliverer that
    died mid-way lets the lease run out and the action is taken up again);
``failed``
    the last attempt failed and may succeed later; ``next_attempt_at`` says when it is retried,
    after an exponential back-off with jitter;
``delivered``
    the platform answered 2xx; ``completed_at`` says when;
``dead``
    the dead-letter queue: ``BASTION_ACTION_MAX_ATTEMPTS`` attempts failed, or the platform
    refused it outright (a 4xx other than 408, 425 or 429). Nothing is dropped: a dead action
    stays with its ``last_error`` until an operator replays it.

Claims are safe with several deliverers at once: on PostgreSQL the due rows are locked with
``SELECT ... FOR UPDATE SKIP LOCKED``; everywhere each claim is a conditional ``UPDATE`` that
only one deliverer can win. The HTTP request is sent outside any transaction, and its outcome is
written only while the claim is still the deliverer's own.

The body of every delivery carries the ``idempotency_key``, so the platform can de-duplicate too
(a deliverer that dies after the platform acted but before recording it sends the action again).
"""

from __future__ import annotations

import builtins
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import CursorResult, Result, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bastion.act.webhook import WEBHOOK_REJECTED, WebhookAction, WebhookResult
from bastion.audit import AuditLog
from bastion.errors import ActionNotFound, ConfigurationError, Conflict, InvalidInput
from bastion.settings import Settings
from bastion.storage.db import Database
from bastion.storage.models import ActionRow, utcnow

if TYPE_CHECKING:
    from bastion.runtime import Bastion

__all__ = [
    "ACTION_STATUSES",
    "ActionInfo",
    "ActionLedger",
    "DeliveryReport",
    "run_delivery_loop",
]

logger = logging.getLogger(__name__)

ACTION_STATUSES: Final = ("pending", "sending", "failed", "delivered", "dead")
DELIVERY_ACTOR: Final = "system:action-delivery"
# Answers that mean "not now" rather than "no": retried like a 5xx.
_RETRYABLE_REFUSALS: Final = frozenset({408, 425, 429})
_MAX_KEY_LENGTH: Final = 128
_MAX_NAME_LENGTH: Final = 32
_MAX_EVENT_LENGTH: Final = 64


@dataclass(frozen=True, slots=True)
class ActionInfo:
    id: int
    idempotency_key: str
    kind: str
    event: str
    case_id: int | None
    decision_id: int | None
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_by: str
    created_at: datetime
    completed_at: datetime | None


@dataclass
class DeliveryReport:
    """What one :meth:`ActionLedger.deliver_due` pass did (action ids per outcome)."""

    configured: bool = True
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return len(self.delivered) + len(self.failed) + len(self.dead)


@dataclass(frozen=True, slots=True)
class _Claim:
    id: int
    attempts: int
    kind: str
    event: str
    idempotency_key: str
    case_id: int | None
    decision_id: int | None
    created_at: datetime
    payload: dict[str, Any]


def _info(row: ActionRow) -> ActionInfo:
    return ActionInfo(
        id=row.id,
        idempotency_key=row.idempotency_key,
        kind=row.kind,
        event=row.event,
        case_id=row.case_id,
        decision_id=row.decision_id,
        payload=dict(row.payload),
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
        created_by=row.created_by,
        created_at=row.created_at,
        completed_at=row.completed_at,
    )


def _claim(row: ActionRow) -> _Claim:
    return _Claim(
        id=row.id,
        attempts=row.attempts,
        kind=row.kind,
        event=row.event,
        idempotency_key=row.idempotency_key,
        case_id=row.case_id,
        decision_id=row.decision_id,
        created_at=row.created_at,
        payload=dict(row.payload),
    )


def _text(value: str, what: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise InvalidInput(f"{what} must be 1-{limit} characters")
    return value


def _rowcount(result: Result[Any]) -> int:
    return cast("CursorResult[Any]", result).rowcount


def _retryable(result: WebhookResult) -> bool:
    if result.error_code != WEBHOOK_REJECTED or result.status is None:
        return True  # unreachable, timeout, URL refused: may work once the platform is back
    return result.status >= 500 or result.status in _RETRYABLE_REFUSALS


def _error_text(result: WebhookResult) -> str:
    code = result.error_code or ""
    return f"{code} (HTTP {result.status})" if result.status is not None else code


class ActionLedger:
    """Records actions and delivers them through one signed webhook.

    ``webhook`` is None when no receiver is configured: actions are still recorded (as
    ``pending``) and go out once one is. Each attempt is one HTTP request (the ledger does the
    retrying, across restarts); ``max_attempts`` attempts end in ``dead``. The wait after the
    n-th failure is ``backoff_initial * 2**(n-1)``, capped at ``backoff_max``, less up to a
    quarter at random so that many actions failing together do not return together.
    ``claim_seconds`` is how long a deliverer holds an action it is sending.
    """

    def __init__(
        self,
        audit: AuditLog,
        webhook: WebhookAction | None,
        *,
        max_attempts: int = 8,
        backoff_initial: float = 30.0,
        backoff_max: float = 3600.0,
        claim_seconds: float = 120.0,
        clock: Callable[[], datetime] = utcnow,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1 or backoff_initial <= 0 or backoff_max <= 0 or claim_seconds <= 0:
            raise ValueError("max_attempts, back-off and claim time must be positive")
        self._audit = audit
        self._webhook = webhook
        self._max_attempts = max_attempts
        self._backoff_initial = backoff_initial
        self._backoff_max = max(backoff_max, backoff_initial)
        self._claim_seconds = claim_seconds
        self._clock = clock
        self._jitter = jitter

    @classmethod
    def from_settings(cls, settings: Settings, audit: AuditLog) -> ActionLedger:
        """The ledger for ``BASTION_ACTION_*``; a URL without a secret is a configuration error."""
        webhook: WebhookAction | None = None
        if settings.action_webhook_url:
            secret = settings.action_webhook_secret
            if secret is None or not secret.get_secret_value():
                raise ConfigurationError(
                    "BASTION_ACTION_WEBHOOK_URL is set but BASTION_ACTION_WEBHOOK_SECRET is not: "
                    "unsigned actions could be forged"
                )
            timeout = settings.action_webhook_timeout_seconds
            webhook = WebhookAction(
                settings.action_webhook_url,
                secret.get_secret_value(),
                timeout=timeout,
                retries=0,
                allow_private=settings.action_webhook_allow_private,
            )
        return cls(
            audit,
            webhook,
            max_attempts=settings.action_max_attempts,
            backoff_initial=settings.action_backoff_initial_seconds,
            backoff_max=settings.action_backoff_max_seconds,
            # Resolving and connecting to each address may each take the timeout.
            claim_seconds=max(60.0, 10 * settings.action_webhook_timeout_seconds),
        )

    @property
    def configured(self) -> bool:
        return self._webhook is not None

    # Recording ------------------------------------------------------------------------------

    def enqueue(
        self,
        session: Session,
        *,
        kind: str,
        idempotency_key: str,
        event: str,
        payload: dict[str, Any],
        case_id: int | None = None,
        decision_id: int | None = None,
        actor: str,
    ) -> ActionInfo:
        """Record an action to deliver; the same key again returns the first action unchanged."""
        info, _created = self.ensure(
            session,
            kind=kind,
            idempotency_key=idempotency_key,
            event=event,
            payload=payload,
            case_id=case_id,
            decision_id=decision_id,
            actor=actor,
        )
        return info

    def ensure(
        self,
        session: Session,
        *,
        kind: str,
        idempotency_key: str,
        event: str,
        payload: dict[str, Any],
        case_id: int | None = None,
        decision_id: int | None = None,
        actor: str,
    ) -> tuple[ActionInfo, bool]:
        """:meth:`enqueue`, also saying whether this call created the action.

        The insert is ``INSERT ... ON CONFLICT DO NOTHING`` on the unique key, so two requests
        racing with one key create one action, on either database, without failing either.
        """
        key = _text(idempotency_key, "idempotency key", _MAX_KEY_LENGTH)
        values = {
            "idempotency_key": key,
            "kind": _text(kind, "action kind", _MAX_NAME_LENGTH),
            "event": _text(event, "webhook event", _MAX_EVENT_LENGTH),
            "payload": payload,
            "case_id": case_id,
            "decision_id": decision_id,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": self._clock(),
            "created_by": actor,
            "created_at": self._clock(),
        }
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(ActionRow)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(ActionRow.id)
        )
        new_id = session.execute(statement).scalar_one_or_none()
        row = session.scalars(select(ActionRow).where(ActionRow.idempotency_key == key)).one()
        if new_id is None:
            return _info(row), False
        self._audit.record(
            session,
            actor=actor,
            action="action.enqueue",
            target_type="action",
            target_id=row.id,
            details={
                "kind": row.kind,
                "event": row.event,
                "idempotency_key": key,
                "case_id": case_id,
                "decision_id": decision_id,
            },
        )
        return _info(row), True

    def get(self, session: Session, action_id: int) -> ActionInfo:
        row = session.get(ActionRow, action_id)
        if row is None:
            raise ActionNotFound(f"no action {action_id}")
        session.refresh(row)
        return _info(row)

    def find(self, session: Session, idempotency_key: str) -> ActionInfo | None:
        row = session.scalars(
            select(ActionRow).where(ActionRow.idempotency_key == idempotency_key)
        ).first()
        return _info(row) if row is not None else None

    def list(
        self,
        session: Session,
        *,
        status: str | None = None,
        kind: str | None = None,
        case_id: int | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> builtins.list[ActionInfo]:
        """Actions, newest first; ``status="dead"`` is the dead-letter queue."""
        if status is not None and status not in ACTION_STATUSES:
            raise InvalidInput(
                f"bad action status {status!r}; use one of: " + ", ".join(ACTION_STATUSES)
            )
        query = select(ActionRow).order_by(ActionRow.id.desc()).limit(max(1, min(limit, 1000)))
        if status is not None:
            query = query.where(ActionRow.status == status)
        if kind is not None:
            query = query.where(ActionRow.kind == kind)
        if case_id is not None:
            query = query.where(ActionRow.case_id == case_id)
        if before_id is not None:
            query = query.where(ActionRow.id < before_id)
        return [_info(row) for row in session.scalars(query)]

    def replay(self, session: Session, action_id: int, *, actor: str) -> ActionInfo:
        """Put a dead or failed action back to ``pending``, due now.

        A dead action starts again with a full set of attempts; a failed one keeps its count and
        just skips the rest of its back-off. A delivered action is not sent again (the platform
        has acted on it: that would decide twice), nor one pending or being sent.
        """
        row = session.get(ActionRow, action_id)
        if row is None:
            raise ActionNotFound(f"no action {action_id}")
        session.refresh(row)
        previous = row.status
        if previous not in ("dead", "failed"):
            raise Conflict(f"action {action_id} is {previous}; only dead or failed actions replay")
        now = self._clock()
        attempts = 0 if previous == "dead" else row.attempts
        changed = session.execute(
            update(ActionRow)
            .where(ActionRow.id == action_id, ActionRow.status == previous)
            .values(status="pending", attempts=attempts, next_attempt_at=now, completed_at=None)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(changed) != 1:
            raise Conflict(f"action {action_id} changed while being replayed; try again")
        session.expire(row)
        self._audit.record(
            session,
            actor=actor,
            action="action.replay",
            target_type="action",
            target_id=action_id,
            details={
                "previous_status": previous,
                "previous_attempts": row.attempts,
                "last_error": row.last_error,
            },
        )
        return self.get(session, action_id)

    # Delivering -----------------------------------------------------------------------------

    def deliver_due(
        self, db: Database, *, now: datetime | None = None, limit: int = 50
    ) -> DeliveryReport:
        """Send up to ``limit`` due actions, one attempt each, and record every outcome.

        Each claim is committed before its request is sent, and no transaction is open while
        waiting for the platform. With no webhook configured nothing is sent (``configured`` is
        False in the report) and every action stays recorded, waiting.
        """
        if self._webhook is None:
            return DeliveryReport(configured=False)
        report = DeliveryReport()
        at = now or self._clock()
        for claim in self._claim_due(db, at, limit):
            result = self._webhook.send(claim.event, self._body(claim))
            self._record(db, claim, result, at, report)
        return report

    def _body(self, claim: _Claim) -> dict[str, Any]:
        return {
            "idempotency_key": claim.idempotency_key,
            "action_id": claim.id,
            "kind": claim.kind,
            "case_id": claim.case_id,
            "decision_id": claim.decision_id,
            "created_at": claim.created_at.isoformat(),
            "attempt": claim.attempts + 1,
            "payload": claim.payload,
        }

    def _claim_due(self, db: Database, now: datetime, limit: int) -> builtins.list[_Claim]:
        lease_until = now + timedelta(seconds=self._claim_seconds)
        due = or_(
            (ActionRow.status.in_(("pending", "failed")))
            & (or_(ActionRow.next_attempt_at.is_(None), ActionRow.next_attempt_at <= now)),
            # A deliverer that died mid-way: its lease has run out.
            (ActionRow.status == "sending") & (ActionRow.next_attempt_at <= now),
        )
        with db.session() as session:
            if session.get_bind().dialect.name == "postgresql":
                rows = session.scalars(
                    select(ActionRow)
                    .where(due)
                    .order_by(ActionRow.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                ).all()
                for row in rows:
                    row.status = "sending"
                    row.next_attempt_at = lease_until
                session.flush()
                return [_claim(row) for row in rows]
            claims: builtins.list[_Claim] = []
            candidates = session.execute(
                select(ActionRow.id, ActionRow.attempts)
                .where(due)
                .order_by(ActionRow.id)
                .limit(limit)
            ).all()
            for action_id, attempts in candidates:
                # Conditional: of two deliverers that saw the row due, exactly one changes it.
                won = session.execute(
                    update(ActionRow)
                    .where(ActionRow.id == action_id, ActionRow.attempts == attempts, due)
                    .values(status="sending", next_attempt_at=lease_until)
                    .execution_options(synchronize_session=False)
                )
                if _rowcount(won) == 1:
                    won_row = session.get(ActionRow, action_id)
                    if won_row is not None:
                        session.refresh(won_row)
                        claims.append(_claim(won_row))
            return claims

    def _backoff(self, attempts: int) -> float:
        delay = min(self._backoff_max, self._backoff_initial * 2.0 ** min(attempts - 1, 60))
        return delay * (1.0 - 0.25 * self._jitter())

    def _record(
        self,
        db: Database,
        claim: _Claim,
        result: WebhookResult,
        now: datetime,
        report: DeliveryReport,
    ) -> None:
        attempts = claim.attempts + 1
        values: dict[str, Any] = {"attempts": attempts}
        if result.delivered:
            values |= {
                "status": "delivered",
                "last_error": None,
                "next_attempt_at": None,
                "completed_at": self._clock(),
            }
        elif attempts >= self._max_attempts or not _retryable(result):
            values |= {"status": "dead", "last_error": _error_text(result), "next_attempt_at": None}
        else:
            values |= {
                "status": "failed",
                "last_error": _error_text(result),
                "next_attempt_at": now + timedelta(seconds=self._backoff(attempts)),
            }
        with db.session() as session:
            changed = session.execute(
                update(ActionRow)
                .where(
                    ActionRow.id == claim.id,
                    ActionRow.status == "sending",
                    ActionRow.attempts == claim.attempts,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(changed) != 1:
                # Our lease ran out and another deliverer took the action: its outcome counts.
                logger.warning("action %d: outcome of a lapsed claim not recorded", claim.id)
                return
            status = values["status"]
            if status == "delivered":
                report.delivered.append(claim.id)
                self._audit.record(
                    session,
                    actor=DELIVERY_ACTOR,
                    action="action.delivered",
                    target_type="action",
                    target_id=claim.id,
                    details={"event": claim.event, "attempts": attempts, "status": result.status},
                )
            elif status == "dead":
                report.dead.append(claim.id)
                logger.error(
                    "action %d (%s) is dead after %d attempts: %s",
                    claim.id,
                    claim.event,
                    attempts,
                    values["last_error"],
                )
                self._audit.record(
                    session,
                    actor=DELIVERY_ACTOR,
                    action="action.dead",
                    target_type="action",
                    target_id=claim.id,
                    details={
                        "event": claim.event,
                        "attempts": attempts,
                        "last_error": values["last_error"],
                    },
                )
            else:
                report.failed.append(claim.id)


def run_delivery_loop(
    bastion: Bastion,
    stop: threading.Event,
    interval: float | None = None,
    *,
    ledger: ActionLedger | None = None,
    limit: int = 50,
) -> None:
    """Deliver due actions until ``stop`` is set: for a worker thread or process.

    Runs a pass every ``interval`` seconds (default ``BASTION_ACTION_DELIVERY_INTERVAL_SECONDS``),
    at once again while passes come back full. A database error is logged and the loop goes on:
    the actions stay in the ledger and are taken up at the next pass.
    """
    active = ledger or ActionLedger.from_settings(bastion.settings, bastion.audit)
    wait = bastion.settings.action_delivery_interval_seconds if interval is None else interval
    if not active.configured:
        logger.warning("BASTION_ACTION_WEBHOOK_URL is unset: actions are recorded, not delivered")
    while not stop.is_set():
        try:
            report = active.deliver_due(bastion.db, limit=limit)
        except SQLAlchemyError as exc:
            logger.error("action delivery pass failed: %s", type(exc).__name__)
            report = DeliveryReport()
        if report.claimed < limit:
            stop.wait(wait)
