"""The audit log: every change to banks and keys (later: verdicts, decisions, actions, logins).

Each event's ``hash`` is SHA-256 over its canonical JSON and the previous event's hash, so removing
or editing a past event breaks the chain at that point, which :meth:`AuditLog.verify` reports.
Events are written in the same transaction as the change they describe: no change without a record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.storage.locks import serialize_ordered_writes
from bastion.storage.models import AuditEventRow, utcnow

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    occurred_at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    hash: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    events_checked: int
    intact: bool
    first_broken_id: int | None = None


def _event_hash(prev_hash: str, row: AuditEventRow) -> str:
    canonical = json.dumps(
        {
            "prev": prev_hash,
            "at": row.occurred_at.isoformat(timespec="microseconds"),
            "actor": row.actor,
            "action": row.action,
            "target_type": row.target_type,
            "target_id": row.target_id,
            "details": row.details,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _to_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        details=dict(row.details),
        hash=row.hash,
    )


class AuditLog:
    """Writes and reads audit events inside the caller's session."""

    def record(
        self,
        session: Session,
        *,
        actor: str,
        action: str,
        target_type: str,
        target_id: str | int,
        details: dict[str, Any] | None = None,
    ) -> None:
        # Two events must never chain onto the same predecessor.
        serialize_ordered_writes(session)
        last = session.scalars(
            select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(1)
        ).first()
        prev_hash = last.hash if last else GENESIS_HASH
        # Round-trip through JSON now so the hashed form equals what the database returns later.
        clean_details = json.loads(json.dumps(details or {}, default=str))
        row = AuditEventRow(
            occurred_at=utcnow(),
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            details=clean_details,
            prev_hash=prev_hash,
        )
        row.hash = _event_hash(prev_hash, row)
        session.add(row)
        session.flush()

    def list(
        self,
        session: Session,
        *,
        action: str | None = None,
        target_type: str | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[AuditEvent]:
        query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit)
        if action:
            query = query.where(AuditEventRow.action == action)
        if target_type:
            query = query.where(AuditEventRow.target_type == target_type)
        if before_id is not None:
            query = query.where(AuditEventRow.id < before_id)
        return [_to_event(row) for row in session.scalars(query)]

    def verify(self, session: Session) -> ChainReport:
        prev_hash = GENESIS_HASH
        checked = 0
        for row in session.scalars(select(AuditEventRow).order_by(AuditEventRow.id)):
            checked += 1
            if row.prev_hash != prev_hash or _event_hash(prev_hash, row) != row.hash:
                return ChainReport(events_checked=checked, intact=False, first_broken_id=row.id)
            prev_hash = row.hash
        return ChainReport(events_checked=checked, intact=True)
