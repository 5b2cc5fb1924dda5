"""Cases to review (read-only here; decisions arrive with the review workbench)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from bastion.api.auth import BastionDep, CasesReadKey
from bastion.api.stream_schemas import CaseList, CaseOut

router = APIRouter(prefix="/v1/cases", tags=["cases"])


@router.get("", response_model=CaseList, summary="Cases, highest priority first")
def list_cases(
    key: CasesReadKey,
    bastion: BastionDep,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = "open",
    kind: Annotated[str | None, Query(max_length=32)] = None,
    incident_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CaseList:
    with bastion.db.session() as session:
        cases = bastion.cases.list(
            session, status=status, kind=kind, incident_id=incident_id, limit=limit
        )
    return CaseList(cases=[CaseOut.model_validate(case) for case in cases])


@router.get("/{case_id}", response_model=CaseOut, summary="One case with its evidence")
def get_case(case_id: int, key: CasesReadKey, bastion: BastionDep) -> CaseOut:
    with bastion.db.session() as session:
        return CaseOut.model_validate(bastion.cases.get(session, case_id))


@router.get(
    "/{case_id}/related",
    response_model=CaseList,
    summary="Cases from the same account, stream or flood",
)
def related_cases(
    case_id: int,
    key: CasesReadKey,
    bastion: BastionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> CaseList:
    with bastion.db.session() as session:
        related = bastion.cases.related(session, case_id, limit=limit)
    return CaseList(cases=[CaseOut.model_validate(case) for case in related])


@router.get(
    "/{case_id}/images/{image_id}",
    response_class=Response,
    summary="A case's evidence image: blurred, greyscale JPEG",
    responses={200: {"content": {"image/jpeg": {}}}},
)
def get_case_image(case_id: int, image_id: int, key: CasesReadKey, bastion: BastionDep) -> Response:
    with bastion.db.session() as session:
        image = bastion.cases.evidence_image(session, case_id, image_id)
    # Private: evidence images must not sit in shared caches.
    return Response(
        image.data,
        media_type=image.media_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
