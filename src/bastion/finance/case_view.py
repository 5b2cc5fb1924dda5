"""The finance panel of a case: its content's instruments, the list hits, the appeal wording."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bastion.finance.reports import hit_records, instrument_records
from bastion.review.cases import CaseInfo


def case_finance(session: Session, case: CaseInfo) -> dict[str, Any]:
    """What the case view shows in its finance panel (empty lists when there is nothing)."""
    summary = case.details.get("finance") or {}
    return {
        "case_id": case.id,
        "instruments": instrument_records(session, case.content_id) if case.content_id else [],
        "hits": hit_records(session, case.id, case.content_id),
        "appeal": {
            "score": summary.get("appeal"),
            "phrases": list(summary.get("appeal_phrases") or []),
            "language": summary.get("appeal_language"),
        },
        "obfuscated": bool(summary.get("obfuscated")),
    }
