"""What a review case keeps of the finance evidence of the scan that opened it."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import update
from sqlalchemy.orm import Session

from bastion.finance.analysis import FinanceAnalysis
from bastion.storage.finance_models import FinanceHitRow

# How verdict reasons about sanctions hits begin (bastion.decide.finance_rules).
SANCTIONS_REASON: Final = "sanctions rule:"


def finance_summary(analysis: FinanceAnalysis) -> dict[str, Any]:
    """A short account for the case record; the full evidence stays in the finance tables."""
    return {
        "instruments": [
            {
                "kind": i.kind,
                "scheme": i.scheme,
                "value": i.value,
                "status": i.status,
                "folded": i.folded,
            }
            for i in analysis.instruments[:50]
        ],
        "hits": [hit.reference for hit in analysis.hits[:50]],
        "appeal": round(analysis.appeal.score, 3) if analysis.appeal else None,
        "appeal_phrases": [p.text for p in analysis.appeal.phrases[:10]] if analysis.appeal else [],
        "appeal_language": analysis.appeal.language if analysis.appeal else None,
        "obfuscated": analysis.obfuscated,
    }


def link_hits_to_case(session: Session, content_id: int, case_id: int) -> None:
    """The screening hits of the scanned item point at the case it opened."""
    session.execute(
        update(FinanceHitRow)
        .where(FinanceHitRow.content_id == content_id, FinanceHitRow.case_id.is_(None))
        .values(case_id=case_id)
    )
