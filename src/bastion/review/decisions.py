"""Decisions on cases, their effects, bulk decisions for floods, and appeals.

A decision is one of :data:`OUTCOMES`, with TVEC labels and a rationale, and it is never edited:
a later decision (an appeal's) names the one it ``supersedes``. Deciding is guarded twice: the
case must be open (``case_closed`` otherwise) and the caller names the case ``version`` it saw;
the decision applies only if the version is still current (one conditional UPDATE), so two
reviewers deciding at once produce one decision and one ``decision_conflict``, never two.

Effects, in the decision's transaction (recorded in ``decision.effects``):

* ``confirm``: closes the case; with ``add_to_bank`` the content's signals become entries of that
  (positive) bank, with the case as provenance.
* ``false_positive``: closes the case; the content's signals go to the negative bank
  (:data:`FALSE_POSITIVE_BANK` unless named), and the matched entry's precision counts it.
* ``escalate``: the case stays open at priority 100, unassigned, for the people who handle
  threats to life; an escalation is requested (the action stage records and delivers it).

Every decision with labels is a training label for the classifier (``training_labels``): the
platform supplies the text when a model is trained, since Bastion keeps no content.

Appeals: a user's complaint reopens a closed case for a *different* reviewer
(``appeal_needs_another_reviewer``); the decision on it upholds or reverses the appealed one,
and reversing a confirmed removal asks for reinstatement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import CursorResult, Result, func, select, update
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.banks.records import NewEntry
from bastion.banks.service import Banks
from bastion.errors import (
    AppealNotFound,
    BankNotFound,
    CaseClosed,
    CaseNotFound,
    DecisionConflict,
    InvalidInput,
    SameReviewer,
)
from bastion.review.cases import CaseInfo, Cases, due_for
from bastion.storage.models import (
    AppealRow,
    BankRow,
    CaseRow,
    DecisionRow,
    SignalRow,
    utcnow,
)
from bastion.taxonomy import normalize_labels

CONFIRM: Final = "confirm"
FALSE_POSITIVE: Final = "false_positive"
ESCALATE: Final = "escalate"
OUTCOMES: Final = (CONFIRM, FALSE_POSITIVE, ESCALATE)
MAX_RATIONALE_CHARS: Final = 10_000
MAX_BULK_CASES: Final = 1000
FALSE_POSITIVE_BANK: Final = "known-false-positives"
ESCALATED_PRIORITY: Final = 100
APPEAL_PRIORITY: Final = 60
# Signals worth banking from a decided item (content hashes, not derived text shingles).
BANKABLE_SIGNALS: Final = frozenset(
    {"pdq", "vpdq", "md5", "sha256", "text_sha256", "text_minhash", "chromaprint", "url"}
)


@dataclass(frozen=True, slots=True)
class DecisionInfo:
    id: int
    case_id: int
    outcome: str
    labels: list[str]
    rationale: str
    decided_by: str
    decided_at: datetime
    supersedes_id: int | None
    appeal_id: int | None
    effects: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AppealInfo:
    id: int
    case_id: int
    decision_id: int
    complaint: str
    submitted_by: str
    status: str
    excluded_reviewer: str
    submitted_at: datetime
    resolved_at: datetime | None
    resolution_id: int | None


@dataclass(frozen=True, slots=True)
class Precision:
    """How an entry's matches were decided: a low share confirmed means a noisy entry."""

    entry_id: int
    confirmed: int
    false_positives: int

    @property
    def precision(self) -> float | None:
        decided = self.confirmed + self.false_positives
        return self.confirmed / decided if decided else None


def _decision_info(row: DecisionRow) -> DecisionInfo:
    return DecisionInfo(
        id=row.id,
        case_id=row.case_id,
        outcome=row.outcome,
        labels=list(row.labels),
        rationale=row.rationale,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        supersedes_id=row.supersedes_id,
        appeal_id=row.appeal_id,
        effects=dict(row.effects),
    )


def _appeal_info(row: AppealRow) -> AppealInfo:
    return AppealInfo(
        id=row.id,
        case_id=row.case_id,
        decision_id=row.decision_id,
        complaint=row.complaint,
        submitted_by=row.submitted_by,
        status=row.status,
        excluded_reviewer=row.excluded_reviewer,
        submitted_at=row.submitted_at,
        resolved_at=row.resolved_at,
        resolution_id=row.resolution_id,
    )


def _won(result: Result[Any]) -> bool:
    return isinstance(result, CursorResult) and result.rowcount == 1


# Told of each confirmed or false-positive verdict on a case that matched a bank entry:
# ``(session, entry_id, outcome, actor)``. Sharing uses it to send the partner whose feed brought
# the entry a sighting or a dispute; it runs inside the decision's transaction.
EntryVerdictHook = Callable[[Session, int, str, str], None]


class Decisions:
    def __init__(self, audit: AuditLog, cases: Cases, banks: Banks) -> None:
        self._audit = audit
        self._cases = cases
        self._banks = banks
        self.entry_verdict_hooks: list[EntryVerdictHook] = []

    # --- deciding -------------------------------------------------------------------------------

    def decide(
        self,
        session: Session,
        case_id: int,
        *,
        outcome: str,
        actor: str,
        expected_version: int,
        labels: Sequence[str] = (),
        rationale: str = "",
        add_to_bank: str | None = None,
        negative_bank: str | None = None,
    ) -> DecisionInfo:
        """Decide an open case seen at ``expected_version`` (see the module notes)."""
        if outcome not in OUTCOMES:
            raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}", outcome=outcome)
        if len(rationale) > MAX_RATIONALE_CHARS:
            raise InvalidInput(
                f"the rationale is {len(rationale)} characters; at most {MAX_RATIONALE_CHARS}",
                max_chars=MAX_RATIONALE_CHARS,
            )
        codes = normalize_labels(labels)
        row = session.get(CaseRow, case_id)
        if row is None:
            raise CaseNotFound(f"no case {case_id}")
        if row.status != "open":
            raise CaseClosed(f"case {case_id} is already decided; an appeal reopens it")
        appeal = self._open_appeal(session, case_id)
        if appeal is not None and appeal.excluded_reviewer == actor:
            raise SameReviewer(
                f"{actor} made the appealed decision; another reviewer decides the appeal"
            )
        escalating = outcome == ESCALATE
        values: dict[str, Any] = {"version": expected_version + 1}
        if escalating:
            values.update(priority=ESCALATED_PRIORITY, assigned_to=None, assigned_at=None)
        else:
            values.update(status="closed", closed_at=utcnow())
        won = session.execute(
            update(CaseRow)
            .where(
                CaseRow.id == case_id,
                CaseRow.version == expected_version,
                CaseRow.status == "open",
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if not _won(won):
            session.expire_all()
            current = session.get(CaseRow, case_id)
            raise DecisionConflict(
                f"case {case_id} changed since version {expected_version}; reload it",
                current_version=current.version if current is not None else None,
            )
        session.expire_all()
        previous = self._latest(session, case_id)
        decision = DecisionRow(
            case_id=case_id,
            outcome=outcome,
            labels=codes,
            rationale=rationale,
            decided_by=actor,
            supersedes_id=previous.id if previous is not None else None,
            appeal_id=appeal.id if appeal is not None else None,
        )
        session.add(decision)
        session.flush()
        case = session.get(CaseRow, case_id)
        assert case is not None
        effects = self._effects(
            session, case, decision, add_to_bank=add_to_bank, negative_bank=negative_bank
        )
        if appeal is not None and not escalating:
            effects["appeal"] = self._resolve_appeal(session, appeal, decision, previous)
        decision.effects = effects
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="case.decide",
            target_type="case",
            target_id=case_id,
            details={
                "decision_id": decision.id,
                "outcome": outcome,
                "labels": codes,
                "effects": sorted(effects),
            },
        )
        return _decision_info(decision)

    def decide_group(
        self,
        session: Session,
        group_key: str,
        *,
        outcome: str,
        actor: str,
        labels: Sequence[str] = (),
        rationale: str = "",
    ) -> list[DecisionInfo]:
        """One decision for every open case of a flood (same ``group_key``): each case gets its
        own decision row, all in this transaction. Escalation is decided case by case."""
        if outcome == ESCALATE:
            raise InvalidInput("escalations are decided one case at a time")
        rows = list(
            session.execute(
                select(CaseRow.id, CaseRow.version)
                .where(CaseRow.group_key == group_key, CaseRow.status == "open")
                .order_by(CaseRow.id)
                .limit(MAX_BULK_CASES + 1)
            )
        )
        if len(rows) > MAX_BULK_CASES:
            raise InvalidInput(
                f"more than {MAX_BULK_CASES} open cases share this key; decide them in parts",
                max_cases=MAX_BULK_CASES,
            )
        return [
            self.decide(
                session,
                case_id,
                outcome=outcome,
                actor=actor,
                expected_version=version,
                labels=labels,
                rationale=rationale,
            )
            for case_id, version in rows
        ]

    def _effects(
        self,
        session: Session,
        case: CaseRow,
        decision: DecisionRow,
        *,
        add_to_bank: str | None,
        negative_bank: str | None,
    ) -> dict[str, Any]:
        effects: dict[str, Any] = {}
        if decision.labels:
            effects["training_label"] = {
                "content_id": case.content_id,
                "labels": list(decision.labels),
                "harmful": decision.outcome != FALSE_POSITIVE,
            }
        if decision.outcome in (CONFIRM, FALSE_POSITIVE) and case.entry_id is not None:
            for hook in self.entry_verdict_hooks:
                hook(session, case.entry_id, decision.outcome, decision.decided_by)
        if decision.outcome == CONFIRM and add_to_bank:
            effects["banked"] = self._bank_content(session, case, decision, add_to_bank)
        elif decision.outcome == FALSE_POSITIVE:
            effects["negative_bank"] = self._bank_content(
                session, case, decision, negative_bank or FALSE_POSITIVE_BANK, negative=True
            )
            if case.entry_id is not None:
                effects["counted_against_entry"] = case.entry_id
        elif decision.outcome == ESCALATE:
            effects["escalation_requested"] = True
        return effects

    def _bank_content(
        self,
        session: Session,
        case: CaseRow,
        decision: DecisionRow,
        bank_name: str,
        *,
        negative: bool = False,
    ) -> dict[str, Any]:
        """The case's content signals into ``bank_name`` (a missing negative bank is created)."""
        bank = session.scalars(select(BankRow).where(BankRow.name == bank_name)).first()
        if bank is None:
            if not negative:
                raise BankNotFound(f"no bank {bank_name!r} to add the content to")
            self._banks.create(
                session,
                name=bank_name,
                actor=decision.decided_by,
                kind="negative",
                description="Known false positives, added by review decisions.",
            )
        elif negative and bank.kind != "negative":
            raise InvalidInput(f"bank {bank_name!r} is not a negative bank")
        if case.content_id is None:
            return {"bank": bank_name, "entry_ids": [], "note": "no content signals on the case"}
        signals = session.scalars(
            select(SignalRow).where(
                SignalRow.content_id == case.content_id,
                SignalRow.signal_type.in_(sorted(BANKABLE_SIGNALS)),
            )
        )
        entries = [
            NewEntry(
                signal_type=signal.signal_type,
                value=signal.value,
                labels=list(decision.labels),
                note=f"case {case.id}: {decision.outcome} by {decision.decided_by}",
                quality=signal.quality,
                added_from=f"case:{case.id}",
            )
            for signal in signals
        ]
        report = self._banks.add_entries(
            session, bank_name, entries, actor=decision.decided_by, group=True
        )
        return {
            "bank": bank_name,
            "entry_ids": [entry.id for entry in report.added],
            "duplicates": report.duplicates,
        }

    # --- reading --------------------------------------------------------------------------------

    def _latest(self, session: Session, case_id: int) -> DecisionRow | None:
        return session.scalars(
            select(DecisionRow)
            .where(DecisionRow.case_id == case_id)
            .order_by(DecisionRow.id.desc())
            .limit(1)
        ).first()

    def history(self, session: Session, case_id: int) -> list[DecisionInfo]:
        rows = session.scalars(
            select(DecisionRow).where(DecisionRow.case_id == case_id).order_by(DecisionRow.id)
        )
        return [_decision_info(row) for row in rows]

    def precision(self, session: Session, entry_id: int) -> Precision:
        """Confirmed and false-positive decisions (the latest per case) on an entry's cases."""
        latest = (
            select(func.max(DecisionRow.id))
            .join(CaseRow, CaseRow.id == DecisionRow.case_id)
            .where(CaseRow.entry_id == entry_id)
            .group_by(DecisionRow.case_id)
        )
        outcomes = session.scalars(
            select(DecisionRow.outcome).where(DecisionRow.id.in_(latest))
        ).all()
        return Precision(
            entry_id,
            confirmed=sum(1 for o in outcomes if o == CONFIRM),
            false_positives=sum(1 for o in outcomes if o == FALSE_POSITIVE),
        )

    def training_labels(self, session: Session, *, limit: int = 10_000) -> list[dict[str, Any]]:
        """The labels reviewers gave, newest first, for the classifier's training data."""
        rows = session.scalars(
            select(DecisionRow).order_by(DecisionRow.id.desc()).limit(max(1, limit))
        )
        return [
            {"decision_id": row.id, **row.effects["training_label"]}
            for row in rows
            if "training_label" in row.effects
        ]

    # --- appeals --------------------------------------------------------------------------------

    def _open_appeal(self, session: Session, case_id: int) -> AppealRow | None:
        return session.scalars(
            select(AppealRow).where(AppealRow.case_id == case_id, AppealRow.status == "open")
        ).first()

    def appeal(
        self, session: Session, case_id: int, *, complaint: str, submitted_by: str, actor: str
    ) -> AppealInfo:
        """A user's complaint about the latest decision: the case reopens for another reviewer."""
        complaint = complaint.strip()
        if not complaint or len(complaint) > MAX_RATIONALE_CHARS:
            raise InvalidInput(f"a complaint is 1-{MAX_RATIONALE_CHARS} characters")
        row = session.get(CaseRow, case_id)
        if row is None:
            raise CaseNotFound(f"no case {case_id}")
        decision = self._latest(session, case_id)
        if row.status != "closed" or decision is None:
            raise DecisionConflict(f"case {case_id} is not decided; there is nothing to appeal")
        won = session.execute(
            update(CaseRow)
            .where(CaseRow.id == case_id, CaseRow.version == row.version)
            .values(
                status="open",
                closed_at=None,
                assigned_to=None,
                assigned_at=None,
                priority=max(row.priority, APPEAL_PRIORITY),
                due_at=due_for(max(row.priority, APPEAL_PRIORITY), utcnow()),
                version=row.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if not _won(won):
            raise DecisionConflict(f"case {case_id} changed while appealing; try again")
        session.expire_all()
        appeal = AppealRow(
            case_id=case_id,
            decision_id=decision.id,
            complaint=complaint,
            submitted_by=submitted_by[:255],
            excluded_reviewer=decision.decided_by,
        )
        session.add(appeal)
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="appeal.open",
            target_type="case",
            target_id=case_id,
            details={"appeal_id": appeal.id, "decision_id": decision.id},
        )
        return _appeal_info(appeal)

    def _resolve_appeal(
        self,
        session: Session,
        appeal: AppealRow,
        decision: DecisionRow,
        appealed: DecisionRow | None,
    ) -> dict[str, Any]:
        reversed_ = appealed is not None and appealed.outcome != decision.outcome
        appeal.status = "reversed" if reversed_ else "upheld"
        appeal.resolved_at = utcnow()
        appeal.resolution_id = decision.id
        resolution: dict[str, Any] = {"appeal_id": appeal.id, "status": appeal.status}
        if reversed_ and appealed is not None and appealed.outcome == CONFIRM:
            resolution["reinstate"] = True  # the removal was wrong: the content comes back
        self._audit.record(
            session,
            actor=decision.decided_by,
            action="appeal.resolve",
            target_type="case",
            target_id=appeal.case_id,
            details=resolution,
        )
        return resolution

    def open_appeal(self, session: Session, case_id: int) -> AppealInfo | None:
        """The case's appeal waiting for a decision, if any."""
        row = self._open_appeal(session, case_id)
        return _appeal_info(row) if row is not None else None

    def get_appeal(self, session: Session, appeal_id: int) -> AppealInfo:
        row = session.get(AppealRow, appeal_id)
        if row is None:
            raise AppealNotFound(f"no appeal {appeal_id}")
        return _appeal_info(row)

    def case(self, session: Session, case_id: int) -> CaseInfo:
        return self._cases.get(session, case_id)
