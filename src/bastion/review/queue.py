"""Review queues: which open case a person should look at next, and who holds it.

A queue is a filter over open cases (category, language, kind, incident, assignee), ordered by
priority, then by deadline (the SLA set when the case opened: :data:`cases.SLA_MINUTES`), then
by age. ``next`` hands the first unassigned case of a queue to a reviewer and assigns it in the
same statement (a conditional UPDATE), so two reviewers asking at once never get the same case.
An assignment older than :data:`STALE_ASSIGNMENT` (the reviewer left) may be taken over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, CursorResult, Result, func, or_, select, update
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.errors import CaseClosed, CaseNotFound, DecisionConflict
from bastion.review.cases import CaseInfo, Cases
from bastion.storage.models import CaseRow, utcnow

STALE_ASSIGNMENT: Final = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    category: str | None = None
    language: str | None = None
    languages: Sequence[str] = ()  # any of these (a reviewer's languages); empty: any
    kind: str | None = None
    incident_id: int | None = None
    assigned_to: str | None = None
    unassigned_only: bool = False
    overdue_only: bool = False


@dataclass(frozen=True, slots=True)
class QueueStats:
    open: int
    unassigned: int
    overdue: int
    oldest: datetime | None


def _conditions(where: QueueFilter, now: datetime) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a queue: open cases, narrowed by the filter."""
    found: list[ColumnElement[bool]] = [CaseRow.status == "open"]
    if where.category is not None:
        found.append(CaseRow.category == where.category)
    if where.language is not None:
        found.append(CaseRow.language == where.language)
    if where.languages:
        found.append(or_(CaseRow.language.in_(list(where.languages)), CaseRow.language.is_(None)))
    if where.kind is not None:
        found.append(CaseRow.kind == where.kind)
    if where.incident_id is not None:
        found.append(CaseRow.incident_id == where.incident_id)
    if where.assigned_to is not None:
        found.append(CaseRow.assigned_to == where.assigned_to)
    if where.unassigned_only:
        found.append(_unassigned(now))
    if where.overdue_only:
        found.append(CaseRow.due_at < now)
    return found


def _unassigned(now: datetime) -> ColumnElement[bool]:
    return or_(CaseRow.assigned_to.is_(None), CaseRow.assigned_at < now - STALE_ASSIGNMENT)


def _changed_one(result: Result[Any]) -> bool:
    """Whether a conditional UPDATE hit exactly one row (it won the race)."""
    return isinstance(result, CursorResult) and result.rowcount == 1


class Queue:
    def __init__(self, audit: AuditLog, cases: Cases) -> None:
        self._audit = audit
        self._cases = cases

    def list(self, session: Session, where: QueueFilter, *, limit: int = 100) -> list[CaseInfo]:
        """Open cases in review order: priority, deadline, age."""
        query = (
            select(CaseRow)
            .where(*_conditions(where, utcnow()))
            .order_by(CaseRow.priority.desc(), CaseRow.due_at, CaseRow.id)
        )
        rows = list(session.scalars(query.limit(max(1, min(limit, 1000)))))
        return [self._cases.get(session, row.id) for row in rows]

    def stats(self, session: Session, where: QueueFilter) -> QueueStats:
        now = utcnow()

        def count(scoped: QueueFilter) -> int:
            query = select(func.count(CaseRow.id)).where(*_conditions(scoped, now))
            return int(session.scalar(query) or 0)

        oldest = select(func.min(CaseRow.created_at)).where(*_conditions(where, now))
        return QueueStats(
            open=count(where),
            unassigned=count(replace(where, unassigned_only=True)),
            overdue=count(replace(where, overdue_only=True)),
            oldest=session.scalar(oldest),
        )

    def next(self, session: Session, where: QueueFilter, *, reviewer: str) -> CaseInfo | None:
        """The first case of the queue nobody holds, now assigned to ``reviewer``; None when the
        queue is empty. Safe against a concurrent call: the claim is conditional."""
        now = utcnow()
        query = (
            select(CaseRow.id, CaseRow.version)
            .where(*_conditions(where, now), _unassigned(now))
            .order_by(CaseRow.priority.desc(), CaseRow.due_at, CaseRow.id)
            .limit(20)
        )
        for case_id, version in session.execute(query).all():
            if self._claim(session, case_id, version, reviewer, now):
                return self._cases.get(session, case_id)
        return None

    def _claim(
        self, session: Session, case_id: int, version: int, reviewer: str, now: datetime
    ) -> bool:
        claimed = session.execute(
            update(CaseRow)
            .where(CaseRow.id == case_id, CaseRow.version == version, CaseRow.status == "open")
            .values(assigned_to=reviewer, assigned_at=now, version=version + 1)
            .execution_options(synchronize_session=False)
        )
        if not _changed_one(claimed):
            return False
        session.expire_all()
        self._audit.record(
            session,
            actor=reviewer,
            action="case.assign",
            target_type="case",
            target_id=case_id,
            details={"assigned_to": reviewer},
        )
        return True

    def assign(
        self,
        session: Session,
        case_id: int,
        *,
        assignee: str | None,
        actor: str,
        expected_version: int | None = None,
    ) -> CaseInfo:
        """Give a case to ``assignee`` (None releases it). ``expected_version`` guards against
        reassigning a case that changed since the caller read it."""
        row = session.get(CaseRow, case_id)
        if row is None:
            raise CaseNotFound(f"no case {case_id}")
        if row.status != "open":
            raise CaseClosed(f"case {case_id} is {row.status}")
        version = row.version if expected_version is None else expected_version
        changed = session.execute(
            update(CaseRow)
            .where(CaseRow.id == case_id, CaseRow.version == version)
            .values(
                assigned_to=assignee,
                assigned_at=utcnow() if assignee else None,
                version=version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if not _changed_one(changed):
            raise DecisionConflict(
                f"case {case_id} changed since version {version}; reload it",
                current_version=row.version,
            )
        session.expire_all()
        self._audit.record(
            session,
            actor=actor,
            action="case.assign" if assignee else "case.release",
            target_type="case",
            target_id=case_id,
            details={"assigned_to": assignee},
        )
        return self._cases.get(session, case_id)
