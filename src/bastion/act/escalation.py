"""Law-enforcement escalation: the record made when content shows a threat to life.

An escalation is an action of kind ``escalation`` in the ledger holding the case, the reason,
a summary of the threat, references to the evidence (the content id and its matches, never the
content itself), who asked and when. There is one per case: asking again returns the first.
It is always kept as a record, and delivered as the webhook event ``case.escalated`` when an
action webhook is configured (the platform's own route to the authorities). Creating one is
audited as ``escalation.create``, in the same transaction.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.act.ledger import ActionInfo, ActionLedger
from bastion.audit import AuditLog
from bastion.errors import CaseNotFound, InvalidInput
from bastion.storage.models import CaseRow, MatchRow, utcnow

__all__ = ["ESCALATION_EVENT", "EscalationInfo", "Escalations"]

ESCALATION_EVENT: Final = "case.escalated"
MAX_REASON_CHARS: Final = 500
_MAX_SUMMARY: Final = 5000
_MAX_MATCHES: Final = 100


@dataclass(frozen=True, slots=True)
class EscalationInfo:
    case_id: int
    reason: str
    threat_summary: str
    evidence: dict[str, Any]
    requested_by: str
    requested_at: datetime
    action: ActionInfo
    created: bool  # False when the case had been escalated already


def _key(case_id: int) -> str:
    return f"escalation:case:{case_id}"


def _info(action: ActionInfo, created: bool) -> EscalationInfo:
    payload = action.payload
    return EscalationInfo(
        case_id=int(payload["case_id"]),
        reason=str(payload["reason"]),
        threat_summary=str(payload["threat_summary"]),
        evidence=dict(payload["evidence"]),
        requested_by=str(payload["requested_by"]),
        requested_at=datetime.fromisoformat(str(payload["requested_at"])),
        action=action,
        created=created,
    )


def _required(value: str, what: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"an escalation needs a {what}")
    if len(value) > limit:
        raise InvalidInput(f"the escalation {what} is longer than {limit} characters")
    return value


class Escalations:
    """Creates and reads escalation records (through the ledger, in the caller's session)."""

    def __init__(self, ledger: ActionLedger, audit: AuditLog) -> None:
        self._ledger = ledger
        self._audit = audit

    def escalate(
        self,
        session: Session,
        *,
        case_id: int,
        reason: str,
        threat_summary: str,
        requested_by: str,
        references: builtins.list[str] | None = None,
        decision_id: int | None = None,
    ) -> EscalationInfo:
        """Record (once per case) that case ``case_id`` is escalated for a threat to life.

        ``references`` adds the requester's own evidence references (a report number, a URL on
        the platform) to those Bastion knows: the case's content id and its matches.
        """
        existing = self._ledger.find(session, _key(case_id))
        if existing is not None:
            return _info(existing, created=False)
        case = session.get(CaseRow, case_id)
        if case is None:
            raise CaseNotFound(f"no case {case_id}")
        clean_reason = _required(reason, "reason", MAX_REASON_CHARS)
        summary = _required(threat_summary, "threat summary", _MAX_SUMMARY)
        evidence = self._evidence(session, case, references or [])
        requested_at = utcnow()
        action, created = self._ledger.ensure(
            session,
            kind="escalation",
            idempotency_key=_key(case_id),
            event=ESCALATION_EVENT,
            payload={
                "case_id": case_id,
                "reason": clean_reason,
                "threat_summary": summary,
                "evidence": evidence,
                "requested_by": requested_by,
                "requested_at": requested_at.isoformat(),
            },
            case_id=case_id,
            decision_id=decision_id,
            actor=requested_by,
        )
        if created:
            self._audit.record(
                session,
                actor=requested_by,
                action="escalation.create",
                target_type="case",
                target_id=case_id,
                details={"action_id": action.id, "reason": clean_reason},
            )
        return _info(action, created)

    def get(self, session: Session, case_id: int) -> EscalationInfo | None:
        action = self._ledger.find(session, _key(case_id))
        return _info(action, created=False) if action is not None else None

    def list(self, session: Session, *, limit: int = 100) -> builtins.list[EscalationInfo]:
        actions = self._ledger.list(session, kind="escalation", limit=limit)
        return [_info(action, created=False) for action in actions]

    def _evidence(
        self, session: Session, case: CaseRow, references: builtins.list[str]
    ) -> dict[str, Any]:
        matches: builtins.list[dict[str, Any]] = []
        if case.content_id is not None:
            rows = session.scalars(
                select(MatchRow)
                .where(MatchRow.content_id == case.content_id)
                .order_by(MatchRow.id)
                .limit(_MAX_MATCHES)
            )
            matches = [
                {
                    "match_id": row.id,
                    "bank": row.bank_name,
                    "entry_id": row.bank_entry_id,
                    "signal_type": row.signal_type,
                    "distance": row.distance,
                }
                for row in rows
            ]
        return {
            "content_id": case.content_id,
            "alert_id": case.alert_id,
            "stream_id": case.stream_id,
            "bank": case.bank_name,
            "entry_id": case.entry_id,
            "category": case.category,
            "labels": list(case.labels),
            "matches": matches,
            "references": [ref.strip() for ref in references if ref.strip()][:_MAX_MATCHES],
        }
