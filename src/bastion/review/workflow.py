"""From scan results to cases, and from decisions to actions.

Intake (:meth:`Workbench.intake`): a recorded scan result goes through the active verdict policy
(:mod:`bastion.decide`). ``none`` opens nothing. ``review`` opens a case with the verdict's
priority, reasons, category and language; cases that matched the same bank entry share a group
key, so a flood of one banked item is decided in bulk. ``act`` opens the case and decides it at
once as the policy (actor ``system:policy``), so the automatic removal is on record, appealable
and delivered like any other decision. A verdict that escalates (a threat to life) also records
the escalation.

Follow-up (:meth:`Workbench.decide`): every decision enqueues its platform action in the same
transaction, idempotent per decision: ``case.decided`` with ``remove`` (confirmed), ``keep``
(false positive) or ``restore`` (an appeal reversed a removal), plus a counter-narrative
``redirect`` for a removal when resources are configured; an escalation becomes the
law-enforcement escalation record (``case.escalated``). The ledger delivers them with retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.act.escalation import MAX_REASON_CHARS, Escalations
from bastion.act.ledger import ActionLedger
from bastion.act.redirect import Redirects
from bastion.banks.records import BankInfo
from bastion.banks.service import bank_info
from bastion.decide import ACT, NONE, Policy, Verdict, decide
from bastion.decide.policies import Policies
from bastion.finance.case_links import SANCTIONS_REASON, finance_summary, link_hits_to_case
from bastion.match.scanner import ScanResult
from bastion.review.cases import CaseInfo, Cases, NewCase
from bastion.review.decisions import CONFIRM, ESCALATE, FALSE_POSITIVE, DecisionInfo, Decisions
from bastion.storage.models import BankRow

POLICY_ACTOR: Final = "system:policy"
DECIDED_EVENT: Final = "case.decided"


def _platform_action(decision: DecisionInfo) -> str:
    appeal = decision.effects.get("appeal") or {}
    if appeal.get("reinstate"):
        return "restore"
    return "remove" if decision.outcome == CONFIRM else "keep"


class Workbench:
    def __init__(
        self,
        cases: Cases,
        decisions: Decisions,
        policies: Policies,
        actions: ActionLedger,
        escalations: Escalations,
        redirects: Redirects,
    ) -> None:
        self._cases = cases
        self._decisions = decisions
        self._policies = policies
        self._actions = actions
        self._escalations = escalations
        self._redirects = redirects

    # --- intake ---------------------------------------------------------------------------------

    def intake_many(
        self, session: Session, results: Sequence[ScanResult]
    ) -> list[tuple[Verdict, CaseInfo | None]]:
        """:meth:`intake` for a batch, reading the active policy once."""
        policy = self._policies.active(session)
        return [self.intake(session, result, policy=policy) for result in results]

    def intake(
        self,
        session: Session,
        result: ScanResult,
        *,
        account_ref: str | None = None,
        policy: Policy | None = None,
    ) -> tuple[Verdict, CaseInfo | None]:
        """The verdict on a recorded scan result, and the case it opened (if any)."""
        names = sorted({match.bank for match in result.matches})
        banks: dict[str, BankInfo] = {}
        if names:
            for row in session.scalars(select(BankRow).where(BankRow.name.in_(names))):
                banks[row.name] = bank_info(row)
        verdict = decide(result, policy or self._policies.active(session), banks)
        if verdict.action == NONE:
            return verdict, None
        counted = [m for m in result.matches if m.bank_kind == "positive" and not m.suppressed]
        first = counted[0] if counted else None
        case = self._cases.open(
            session,
            NewCase(
                kind="scan_match" if counted else "scan_text",
                priority=verdict.priority,
                severity=first.severity if first is not None else "high",
                title=self._title(result, verdict),
                labels=verdict.labels,
                source=result.name or "",
                bank=first.bank if first is not None else None,
                entry_id=first.entry_id if first is not None else None,
                details=self._details(result, verdict),
                content_id=result.content_id,
                account_ref=account_ref,
                category=verdict.category,
                language=verdict.language,
                verdict=verdict.action,
                reasons=verdict.reasons,
                group_key=f"entry:{first.entry_id}" if first is not None else None,
            ),
            actor=POLICY_ACTOR,
        )
        if result.finance is not None and result.content_id is not None:
            link_hits_to_case(session, result.content_id, case.id)
        if verdict.escalate:
            self._escalations.escalate(
                session,
                case_id=case.id,
                reason=("; ".join(verdict.reasons) or "threat to life")[:MAX_REASON_CHARS],
                threat_summary=case.title,
                requested_by=POLICY_ACTOR,
            )
        if verdict.action == ACT:
            self.decide(
                session,
                case.id,
                outcome=CONFIRM,
                actor=POLICY_ACTOR,
                expected_version=case.version,
                labels=verdict.labels,
                rationale="Automatic: " + "; ".join(verdict.reasons),
            )
            case = self._cases.get(session, case.id)
        return verdict, case

    @staticmethod
    def _details(result: ScanResult, verdict: Verdict) -> dict[str, Any]:
        details: dict[str, Any] = {"verdict": verdict.to_dict()}
        if result.finance is not None:
            details["finance"] = finance_summary(result.finance)
        return details

    @staticmethod
    def _title(result: ScanResult, verdict: Verdict) -> str:
        what = result.name or (f"content {result.content_id}" if result.content_id else "an item")
        if not verdict.reasons:
            return what
        # A sanctions hit names the list entry in the title: it is what the reviewer acts on.
        lead = next((r for r in verdict.reasons if r.startswith(SANCTIONS_REASON)), None)
        return f"{what}: {lead or verdict.reasons[0]}"[:500]

    # --- decisions ------------------------------------------------------------------------------

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
        """Decide (see :class:`Decisions`) and enqueue the decision's platform action."""
        decision = self._decisions.decide(
            session,
            case_id,
            outcome=outcome,
            actor=actor,
            expected_version=expected_version,
            labels=labels,
            rationale=rationale,
            add_to_bank=add_to_bank,
            negative_bank=negative_bank,
        )
        self._follow_up(session, decision)
        return decision

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
        made = self._decisions.decide_group(
            session, group_key, outcome=outcome, actor=actor, labels=labels, rationale=rationale
        )
        for decision in made:
            self._follow_up(session, decision)
        return made

    def _follow_up(self, session: Session, decision: DecisionInfo) -> None:
        case = self._cases.get(session, decision.case_id)
        if decision.outcome == ESCALATE:
            self._escalations.escalate(
                session,
                case_id=case.id,
                reason=(decision.rationale or "escalated by a reviewer")[:MAX_REASON_CHARS],
                threat_summary=case.title,
                requested_by=decision.decided_by,
                decision_id=decision.id,
            )
            return
        if decision.outcome not in (CONFIRM, FALSE_POSITIVE):
            return
        self._actions.enqueue(
            session,
            kind="webhook",
            idempotency_key=f"decision:{decision.id}",
            event=DECIDED_EVENT,
            payload={
                "case_id": case.id,
                "decision_id": decision.id,
                "outcome": decision.outcome,
                "action": _platform_action(decision),
                "labels": decision.labels,
                "content_id": case.content_id,
                "account_ref": case.account_ref,
                "decided_by": decision.decided_by,
            },
            case_id=case.id,
            decision_id=decision.id,
            actor=decision.decided_by,
        )
        if _platform_action(decision) == "remove":
            # The user who posted removed content is shown a counter-narrative resource in
            # their language, when the operator configured any (BASTION_REDIRECT_RESOURCES).
            self._redirects.redirect(
                session,
                case_id=case.id,
                actor=decision.decided_by,
                decision_id=decision.id,
            )
