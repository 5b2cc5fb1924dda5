"""Looking back: content scanned before a wallet was listed, screened again when it is.

Lists grow after the fact: a wallet posted in an appeal last month may be designated today. When
a list version becomes active, every payment instrument Bastion has already recorded is compared
with the version's wallets (one indexed join, no content is re-read: only findings are kept),
and each item that carried a newly listed wallet gets its hit and a review case naming the list
entry, at the policy's sanctions priority. An item whose hit on the same wallet is already
recorded (by its scan, or an earlier version of a list) is left alone, so importing the next
version does not open the same cases again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session, aliased

from bastion.decide.policy import Policy
from bastion.finance.list_store import list_name
from bastion.review.cases import Cases, NewCase
from bastion.storage.finance_models import (
    FinanceFindingRow,
    FinanceHitRow,
    SanctionsEntityRow,
    SanctionsListRow,
    SanctionsWalletRow,
)

ACTOR = "system:finance"
CASE_KIND = "sanctions_rescreen"


@dataclass(slots=True)
class RescreenReport:
    list_id: int
    hits: int = 0
    cases: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"list_id": self.list_id, "hits": self.hits, "cases": list(self.cases)}


def rescreen(session: Session, list_id: int, cases: Cases, policy: Policy) -> RescreenReport:
    """Hits and cases for recorded content carrying wallets that list version ``list_id``
    holds; nothing for superseded versions or when the policy's finance rules are off."""
    report = RescreenReport(list_id)
    listed = session.get(SanctionsListRow, list_id)
    if listed is None or listed.status != "active" or not policy.finance.enabled:
        return report
    earlier = aliased(FinanceHitRow)
    already = exists().where(
        and_(
            earlier.content_id == FinanceFindingRow.content_id,
            earlier.matched == SanctionsWalletRow.signal_value,
        )
    )
    rows = session.execute(
        select(FinanceFindingRow, SanctionsWalletRow, SanctionsEntityRow)
        .join(SanctionsWalletRow, SanctionsWalletRow.signal_value == FinanceFindingRow.signal_value)
        .join(SanctionsEntityRow, SanctionsEntityRow.id == SanctionsWalletRow.entity_id)
        .where(SanctionsWalletRow.list_id == list_id, ~already)
        .order_by(FinanceFindingRow.content_id, FinanceFindingRow.id)
    ).all()
    called = list_name(listed.source)
    published = listed.published.isoformat() if listed.published else "an undated list"
    by_content: dict[int, list[str]] = {}
    seen: set[tuple[int, int]] = set()
    for finding, wallet, entity in rows:
        if (finding.content_id, entity.id) in seen:
            continue
        seen.add((finding.content_id, entity.id))
        reference = f"{called} {entity.external_id} ({entity.caption})"
        session.add(
            FinanceHitRow(
                content_id=finding.content_id,
                finding_id=finding.id,
                list_id=list_id,
                entity_id=entity.id,
                match_kind="wallet",
                matched=wallet.signal_value,
                listed=wallet.raw,
                score=1.0,
                explanation=(
                    f"Exact match, found when {called} of {published} was imported: "
                    f"{wallet.signal_value} (seen {finding.found_at:%Y-%m-%d}) is listed as "
                    f"{wallet.currency} address {wallet.raw} of {reference}"
                ),
                details={"rescreen": True, "currency": wallet.currency},
            )
        )
        report.hits += 1
        by_content.setdefault(finding.content_id, []).append(
            f"sanctions rule: wallet {wallet.signal_value}, seen {finding.found_at:%Y-%m-%d}, "
            f"is now listed by {reference}, list of {published}"
        )
    session.flush()
    rule = policy.finance
    for content_id, reasons in by_content.items():
        case = cases.open(
            session,
            NewCase(
                kind=CASE_KIND,
                priority=rule.sanctions_wallet_priority,
                severity="high",
                title=f"content {content_id}: {reasons[0]}"[:500],
                labels=list(rule.labels),
                content_id=content_id,
                verdict="review",
                reasons=reasons,
                details={"finance": {"rescreen": list_id}},
            ),
            actor=ACTOR,
        )
        session.execute(
            update(FinanceHitRow)
            .where(
                FinanceHitRow.content_id == content_id,
                FinanceHitRow.list_id == list_id,
                FinanceHitRow.case_id.is_(None),
            )
            .values(case_id=case.id)
        )
        report.cases.append(case.id)
    return report
