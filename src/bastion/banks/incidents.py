"""Crisis mode: an incident and its crisis bank.

Declaring an incident creates a positive bank (``crisis-<incident>`` unless named), severity
critical, that analysts fill with the new footage as it surfaces: uploads, hashes, or a range of
a watched stream (:mod:`bastion.stream.clips`). Nothing else is special about the bank, on
purpose: every scanner and watcher already follows the bank change log before each lookup
(watchers at most a second apart), so an entry added here is matched everywhere within seconds,
and the bank can be exported and shared like any other.

Closing an incident ends the crisis, not the knowledge: its bank stays enabled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.banks.records import Severity
from bastion.banks.service import Banks
from bastion.errors import IncidentClosed, IncidentExists, IncidentNotFound, InvalidInput
from bastion.storage.models import BankEntryRow, BankRow, CaseRow, IncidentRow, utcnow

INCIDENT_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,119}")
CRISIS_BANK_PREFIX: Final = "crisis-"


@dataclass(frozen=True, slots=True)
class IncidentInfo:
    id: int
    name: str
    description: str
    status: str
    severity: str
    bank: str | None
    bank_entries: int
    open_cases: int
    declared_by: str
    declared_at: datetime
    closed_by: str | None
    closed_at: datetime | None


class Incidents:
    def __init__(self, audit: AuditLog, banks: Banks) -> None:
        self._audit = audit
        self._banks = banks

    def _row(self, session: Session, incident_id: int) -> IncidentRow:
        row = session.get(IncidentRow, incident_id)
        if row is None:
            raise IncidentNotFound(f"no incident {incident_id}")
        return row

    def _info(self, session: Session, row: IncidentRow) -> IncidentInfo:
        bank = session.get(BankRow, row.bank_id) if row.bank_id is not None else None
        entries = (
            int(session.scalar(select(func.count()).where(BankEntryRow.bank_id == bank.id)) or 0)
            if bank is not None
            else 0
        )
        open_cases = int(
            session.scalar(
                select(func.count()).where(CaseRow.incident_id == row.id, CaseRow.status == "open")
            )
            or 0
        )
        return IncidentInfo(
            id=row.id,
            name=row.name,
            description=row.description,
            status=row.status,
            severity=row.severity,
            bank=bank.name if bank is not None else None,
            bank_entries=entries,
            open_cases=open_cases,
            declared_by=row.declared_by,
            declared_at=row.declared_at,
            closed_by=row.closed_by,
            closed_at=row.closed_at,
        )

    def declare(
        self,
        session: Session,
        *,
        name: str,
        actor: str,
        description: str = "",
        labels: Iterable[str] = (),
        severity: str = "critical",
        tlp: str = "amber",
        bank: str | None = None,
    ) -> IncidentInfo:
        """Declare an incident and create its crisis bank, in one audited transaction."""
        if not INCIDENT_NAME.fullmatch(name):
            raise InvalidInput(
                f"bad incident name {name[:130]!r}: 1-120 letters, digits, '_', '.', '-', "
                "starting with a letter or digit"
            )
        try:
            level = Severity(severity.lower())
        except ValueError:
            allowed = ", ".join(s.value for s in Severity)
            raise InvalidInput(f"bad severity {severity!r}; use one of: {allowed}") from None
        if session.scalars(select(IncidentRow.id).where(IncidentRow.name == name)).first():
            raise IncidentExists(f"an incident named {name!r} already exists")
        crisis_bank = self._banks.create(
            session,
            name=bank or f"{CRISIS_BANK_PREFIX}{name}",
            actor=actor,
            description=f"Crisis bank of incident {name}. {description}".strip(),
            labels=labels,
            severity=level.value,
            tlp=tlp,
        )
        row = IncidentRow(
            name=name,
            description=description,
            severity=level.value,
            bank_id=crisis_bank.id,
            declared_by=actor,
        )
        session.add(row)
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="incident.declare",
            target_type="incident",
            target_id=row.id,
            details={"name": name, "bank": crisis_bank.name, "severity": level.value},
        )
        return self._info(session, row)

    def get(self, session: Session, incident_id: int) -> IncidentInfo:
        return self._info(session, self._row(session, incident_id))

    def list(self, session: Session, *, active_only: bool = False) -> list[IncidentInfo]:
        query = select(IncidentRow).order_by(IncidentRow.id.desc())
        if active_only:
            query = query.where(IncidentRow.status == "active")
        return [self._info(session, row) for row in session.scalars(query)]

    def active_bank(self, session: Session, incident_id: int) -> str:
        """The crisis bank's name, for adding footage; a closed incident takes no more."""
        info = self.get(session, incident_id)
        if info.status != "active":
            raise IncidentClosed(f"incident {info.name!r} is closed; add to a bank instead")
        if info.bank is None:
            raise IncidentClosed(f"incident {info.name!r} lost its crisis bank (deleted)")
        return info.bank

    def close(self, session: Session, incident_id: int, *, actor: str) -> IncidentInfo:
        row = self._row(session, incident_id)
        if row.status != "closed":
            row.status, row.closed_by, row.closed_at = "closed", actor, utcnow()
            session.flush()
            self._audit.record(
                session,
                actor=actor,
                action="incident.close",
                target_type="incident",
                target_id=row.id,
                details={"name": row.name},
            )
        return self._info(session, row)
