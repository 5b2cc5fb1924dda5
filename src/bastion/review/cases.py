"""Cases: what people must review, with the evidence that opened them.

A case is opened in the same transaction as the alert or match that caused it, so there is never
an alert without its case. Priority is a 0-100 scale, higher first, so queues sort on one number:

=========  ========================================================================
priority   opened for (and the deadline to decide it, the SLA)
=========  ========================================================================
95         banked footage on a live stream (the broadcast may still be on air): 15 min
80         a match against a bank of severity critical (e.g. an incident's crisis bank): 1 h
60         a match against a high-severity bank, or a classifier score above its review
           mark: 4 h
40         everything else that needs a look: 24 h
=========  ========================================================================

Evidence images are stored already blurred and greyscale (:mod:`bastion.review.evidence_image`):
Bastion does not keep the footage, and a reviewer sees a recognisable scene, never the raw frame.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.errors import CaseNotFound
from bastion.review.evidence_image import EvidenceImage
from bastion.storage.models import CaseRow, EvidenceImageRow, utcnow

LIVE_STREAM_PRIORITY: Final = 95
CRITICAL_PRIORITY: Final = 80
HIGH_PRIORITY: Final = 60
DEFAULT_PRIORITY: Final = 40
CASE_STATUSES: Final = ("open", "closed")
# Review deadlines by priority: (lowest priority, minutes to decide), highest first.
SLA_MINUTES: Final = ((95, 15), (80, 60), (60, 240), (0, 1440))


@dataclass(frozen=True, slots=True)
class CaseInfo:
    id: int
    kind: str
    status: str
    priority: int
    severity: str
    title: str
    labels: list[str]
    source: str
    stream_id: int | None
    alert_id: int | None
    incident_id: int | None
    bank: str | None
    entry_id: int | None
    details: dict[str, Any]
    evidence_image_ids: list[int]
    created_at: datetime
    updated_at: datetime
    content_id: int | None = None
    account_ref: str | None = None
    category: str | None = None
    language: str | None = None
    verdict: str | None = None
    reasons: list[str] = field(default_factory=list)
    group_key: str | None = None
    assigned_to: str | None = None
    assigned_at: datetime | None = None
    due_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 1

    @property
    def overdue(self) -> bool:
        return self.status == "open" and self.due_at is not None and self.due_at < utcnow()


@dataclass(frozen=True, slots=True)
class NewCase:
    kind: str
    priority: int
    severity: str
    title: str
    labels: list[str]
    source: str = ""
    stream_id: int | None = None
    alert_id: int | None = None
    incident_id: int | None = None
    bank: str | None = None
    entry_id: int | None = None
    details: dict[str, Any] | None = None
    content_id: int | None = None
    account_ref: str | None = None
    category: str | None = None
    language: str | None = None
    verdict: str | None = None
    reasons: list[str] = field(default_factory=list)
    group_key: str | None = None


def due_for(priority: int, now: datetime) -> datetime:
    """The review deadline (SLA) of a case opened ``now`` with ``priority``."""
    for floor, minutes in SLA_MINUTES:
        if priority >= floor:
            return now + timedelta(minutes=minutes)
    return now + timedelta(minutes=SLA_MINUTES[-1][1])


def info_of(row: CaseRow, image_ids: list[int]) -> CaseInfo:
    return CaseInfo(
        id=row.id,
        kind=row.kind,
        status=row.status,
        priority=row.priority,
        severity=row.severity,
        title=row.title,
        labels=list(row.labels),
        source=row.source,
        stream_id=row.stream_id,
        alert_id=row.alert_id,
        incident_id=row.incident_id,
        bank=row.bank_name,
        entry_id=row.entry_id,
        details=dict(row.details),
        evidence_image_ids=image_ids,
        created_at=row.created_at,
        updated_at=row.updated_at,
        content_id=row.content_id,
        account_ref=row.account_ref,
        category=row.category,
        language=row.language,
        verdict=row.verdict,
        reasons=list(row.reasons or []),
        group_key=row.group_key,
        assigned_to=row.assigned_to,
        assigned_at=row.assigned_at,
        due_at=row.due_at,
        closed_at=row.closed_at,
        version=row.version,
    )


class Cases:
    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def open(
        self, session: Session, case: NewCase, *, actor: str, image: EvidenceImage | None = None
    ) -> CaseInfo:
        """Open a case (audited as ``case.open``), with its evidence image if there is one."""
        row = CaseRow(
            kind=case.kind,
            priority=max(0, min(100, case.priority)),
            severity=case.severity,
            title=case.title,
            labels=sorted(set(case.labels)),
            source=case.source,
            stream_id=case.stream_id,
            alert_id=case.alert_id,
            incident_id=case.incident_id,
            bank_name=case.bank,
            entry_id=case.entry_id,
            details=dict(case.details or {}),
            content_id=case.content_id,
            account_ref=case.account_ref,
            category=case.category or (sorted(case.labels)[0] if case.labels else None),
            language=case.language,
            verdict=case.verdict,
            reasons=list(case.reasons),
            group_key=case.group_key,
            due_at=due_for(case.priority, utcnow()),
        )
        session.add(row)
        session.flush()
        image_ids: list[int] = []
        if image is not None:
            image_row = EvidenceImageRow(
                case_id=row.id,
                alert_id=case.alert_id,
                media_type=image.media_type,
                width=image.width,
                height=image.height,
                data=image.data,
            )
            session.add(image_row)
            session.flush()
            image_ids.append(image_row.id)
        self._audit.record(
            session,
            actor=actor,
            action="case.open",
            target_type="case",
            target_id=row.id,
            details={
                "kind": row.kind,
                "priority": row.priority,
                "alert_id": row.alert_id,
                "entry_id": row.entry_id,
                "incident_id": row.incident_id,
            },
        )
        return info_of(row, image_ids)

    def _image_ids(self, session: Session, case_ids: list[int]) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {case_id: [] for case_id in case_ids}
        rows = session.execute(
            select(EvidenceImageRow.case_id, EvidenceImageRow.id)
            .where(EvidenceImageRow.case_id.in_(case_ids))
            .order_by(EvidenceImageRow.id)
        )
        for case_id, image_id in rows:
            if case_id is not None:
                found[case_id].append(image_id)
        return found

    def get(self, session: Session, case_id: int) -> CaseInfo:
        row = session.get(CaseRow, case_id)
        if row is None:
            raise CaseNotFound(f"no case {case_id}")
        return info_of(row, self._image_ids(session, [row.id])[row.id])

    def list(
        self,
        session: Session,
        *,
        status: str | None = "open",
        kind: str | None = None,
        incident_id: int | None = None,
        limit: int = 100,
    ) -> list[CaseInfo]:
        """Highest priority first, then oldest first (the one waiting longest)."""
        query = (
            select(CaseRow)
            .order_by(CaseRow.priority.desc(), CaseRow.id)
            .limit(max(1, min(limit, 1000)))
        )
        if status is not None:
            query = query.where(CaseRow.status == status)
        if kind is not None:
            query = query.where(CaseRow.kind == kind)
        if incident_id is not None:
            query = query.where(CaseRow.incident_id == incident_id)
        rows = list(session.scalars(query))
        images = self._image_ids(session, [row.id for row in rows])
        return [info_of(row, images[row.id]) for row in rows]

    def related(
        self, session: Session, case_id: int, *, limit: int = 20
    ) -> builtins.list[CaseInfo]:
        """Other cases from the same account, the same stream or the same flood, newest first:
        the context a reviewer needs (a repeat poster, a stream that aired several items)."""
        case = self.get(session, case_id)
        links = [
            column == value
            for column, value in (
                (CaseRow.account_ref, case.account_ref),
                (CaseRow.stream_id, case.stream_id),
                (CaseRow.group_key, case.group_key),
            )
            if value is not None
        ]
        if not links:
            return []
        rows = list(
            session.scalars(
                select(CaseRow)
                .where(or_(*links), CaseRow.id != case_id)
                .order_by(CaseRow.id.desc())
                .limit(max(1, min(limit, 200)))
            )
        )
        images = self._image_ids(session, [row.id for row in rows])
        return [info_of(row, images[row.id]) for row in rows]

    def evidence_image(self, session: Session, case_id: int, image_id: int) -> EvidenceImage:
        row = session.get(EvidenceImageRow, image_id)
        if row is None or row.case_id != case_id:
            raise CaseNotFound(f"case {case_id} has no evidence image {image_id}")
        return EvidenceImage(row.media_type, row.width, row.height, row.data)
