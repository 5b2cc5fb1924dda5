"""Review over the API: queues, assignment, decisions (single and bulk), appeals."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from bastion.api.auth import AppealsWriteKey, BastionDep, CasesReadKey, CasesWriteKey
from bastion.api.review_schemas import (
    AppealIn,
    AppealOut,
    AssignIn,
    DecisionIn,
    DecisionList,
    DecisionOut,
    GroupDecisionIn,
    QueueOut,
    QueueStatsOut,
    TrainingLabelList,
    TrainingLabelOut,
)
from bastion.api.stream_schemas import CaseOut
from bastion.review.queue import QueueFilter

router = APIRouter(prefix="/v1", tags=["review"])

CategoryQuery = Annotated[str | None, Query(max_length=32, description="A TVEC code.")]
LanguageQuery = Annotated[str | None, Query(max_length=16, description="e.g. en, ar.")]


def _filter(
    category: str | None, language: str | None, kind: str | None, incident_id: int | None
) -> QueueFilter:
    return QueueFilter(category=category, language=language, kind=kind, incident_id=incident_id)


@router.get("/queue", response_model=QueueOut, summary="Open cases in review order, with counts")
def queue(
    key: CasesReadKey,
    bastion: BastionDep,
    category: CategoryQuery = None,
    language: LanguageQuery = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    incident_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> QueueOut:
    where = _filter(category, language, kind, incident_id)
    with bastion.db.session() as session:
        cases = bastion.queue.list(session, where, limit=limit)
        stats = bastion.queue.stats(session, where)
    return QueueOut(
        stats=QueueStatsOut.model_validate(stats),
        cases=[CaseOut.model_validate(case) for case in cases],
    )


@router.post(
    "/queue/next",
    response_model=CaseOut | None,
    summary="Take the next unassigned case of a queue (assigned to this key)",
)
def take_next(
    key: CasesWriteKey,
    bastion: BastionDep,
    category: CategoryQuery = None,
    language: LanguageQuery = None,
) -> CaseOut | None:
    with bastion.db.session() as session:
        case = bastion.queue.next(
            session, _filter(category, language, None, None), reviewer=key.actor
        )
    return CaseOut.model_validate(case) if case is not None else None


@router.post("/cases/{case_id}/assign", response_model=CaseOut, summary="Assign or release")
def assign(case_id: int, body: AssignIn, key: CasesWriteKey, bastion: BastionDep) -> CaseOut:
    with bastion.db.session() as session:
        case = bastion.queue.assign(
            session,
            case_id,
            assignee=body.assignee,
            actor=key.actor,
            expected_version=body.version,
        )
    return CaseOut.model_validate(case)


@router.get("/cases/{case_id}/decisions", response_model=DecisionList, summary="A case's decisions")
def decisions(case_id: int, key: CasesReadKey, bastion: BastionDep) -> DecisionList:
    with bastion.db.session() as session:
        bastion.cases.get(session, case_id)  # 404 for an unknown case
        history = bastion.decisions.history(session, case_id)
    return DecisionList(decisions=[DecisionOut.model_validate(asdict(d)) for d in history])


@router.post(
    "/cases/{case_id}/decisions",
    response_model=DecisionOut,
    status_code=201,
    summary="Decide a case (confirm, false positive, escalate)",
)
def decide(case_id: int, body: DecisionIn, key: CasesWriteKey, bastion: BastionDep) -> DecisionOut:
    with bastion.db.session() as session:
        decision = bastion.workbench.decide(
            session,
            case_id,
            outcome=body.outcome,
            actor=key.actor,
            expected_version=body.version,
            labels=body.labels,
            rationale=body.rationale,
            add_to_bank=body.add_to_bank,
            negative_bank=body.negative_bank,
        )
    return DecisionOut.model_validate(asdict(decision))


@router.post(
    "/case-groups/{group_key}/decisions",
    response_model=DecisionList,
    status_code=201,
    summary="Decide every open case of a flood (same matched entry) at once",
)
def decide_group(
    group_key: str, body: GroupDecisionIn, key: CasesWriteKey, bastion: BastionDep
) -> DecisionList:
    with bastion.db.session() as session:
        made = bastion.workbench.decide_group(
            session,
            group_key,
            outcome=body.outcome,
            actor=key.actor,
            labels=body.labels,
            rationale=body.rationale,
        )
    return DecisionList(decisions=[DecisionOut.model_validate(asdict(d)) for d in made])


@router.get(
    "/training-labels",
    response_model=TrainingLabelList,
    summary="Reviewers' labels, for the classifier's training data",
)
def training_labels(
    key: CasesReadKey,
    bastion: BastionDep,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> TrainingLabelList:
    with bastion.db.session() as session:
        labels = bastion.decisions.training_labels(session, limit=limit)
    return TrainingLabelList(labels=[TrainingLabelOut.model_validate(item) for item in labels])


@router.post(
    "/cases/{case_id}/appeals",
    response_model=AppealOut,
    status_code=201,
    summary="A user's appeal: reopens the case for a different reviewer",
)
def appeal(case_id: int, body: AppealIn, key: AppealsWriteKey, bastion: BastionDep) -> AppealOut:
    with bastion.db.session() as session:
        info = bastion.decisions.appeal(
            session,
            case_id,
            complaint=body.complaint,
            submitted_by=body.submitted_by,
            actor=key.actor,
        )
    return AppealOut.model_validate(asdict(info))
