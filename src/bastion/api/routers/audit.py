"""The audit log: read events newest first, and verify the hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from bastion.api.auth import AuditKey, BastionDep
from bastion.api.schemas import AuditEventOut, AuditPage, ChainReportOut

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage, summary="Audit events, newest first")
def list_events(
    key: AuditKey,
    bastion: BastionDep,
    action: Annotated[str | None, Query(description="e.g. bank.create")] = None,
    target_type: Annotated[str | None, Query(description="e.g. bank, bank_entry")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1, description="Cursor: next_before_id.")] = None,
) -> AuditPage:
    with bastion.db.session() as session:
        events = bastion.audit.list(
            session, action=action, target_type=target_type, limit=limit, before_id=before_id
        )
    return AuditPage(
        events=[AuditEventOut.model_validate(event) for event in events],
        next_before_id=events[-1].id if len(events) == limit else None,
    )


@router.get("/verify", response_model=ChainReportOut, summary="Check the audit hash chain")
def verify_chain(key: AuditKey, bastion: BastionDep) -> ChainReportOut:
    with bastion.db.session() as session:
        return ChainReportOut.model_validate(bastion.audit.verify(session))
