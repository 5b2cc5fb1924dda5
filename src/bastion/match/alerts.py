"""Alerts: what an operator must look at (today: entries quarantined by flood control)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.errors import AlertNotFound
from bastion.storage.models import AlertRow, utcnow


@dataclass(frozen=True, slots=True)
class AlertInfo:
    id: int
    kind: str
    severity: str
    summary: str
    bank: str | None
    entry_id: int | None
    details: dict[str, Any]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


def _info(row: AlertRow) -> AlertInfo:
    return AlertInfo(
        id=row.id,
        kind=row.kind,
        severity=row.severity,
        summary=row.summary,
        bank=row.bank_name,
        entry_id=row.entry_id,
        details=dict(row.details),
        created_at=row.created_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
    )


class Alerts:
    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def list(
        self, session: Session, *, open_only: bool = False, limit: int = 100
    ) -> list[AlertInfo]:
        query = select(AlertRow).order_by(AlertRow.id.desc()).limit(max(1, min(limit, 1000)))
        if open_only:
            query = query.where(AlertRow.acknowledged_at.is_(None))
        return [_info(row) for row in session.scalars(query)]

    def acknowledge(self, session: Session, alert_id: int, *, actor: str) -> AlertInfo:
        row = session.get(AlertRow, alert_id)
        if row is None:
            raise AlertNotFound(f"no alert {alert_id}")
        if row.acknowledged_at is None:
            row.acknowledged_at, row.acknowledged_by = utcnow(), actor
            session.flush()
            self._audit.record(
                session,
                actor=actor,
                action="alert.acknowledge",
                target_type="alert",
                target_id=alert_id,
            )
        return _info(row)
