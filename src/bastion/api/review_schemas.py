"""Request and response bodies of the queue, decision, appeal, action and policy endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bastion.api.stream_schemas import CaseOut
from bastion.review.decisions import MAX_RATIONALE_CHARS


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Record(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class QueueStatsOut(_Record):
    open: int
    unassigned: int
    overdue: int
    oldest: datetime | None


class QueueOut(BaseModel):
    stats: QueueStatsOut
    cases: list[CaseOut]


class AssignIn(_Input):
    assignee: str | None = Field(
        max_length=255, description="Who holds the case (e.g. user:amira); null releases it."
    )
    version: int | None = Field(None, description="The case version you saw (optional guard).")


class DecisionIn(_Input):
    outcome: Literal["confirm", "false_positive", "escalate"]
    version: int = Field(description="The case version you saw: a stale one is refused (409).")
    labels: list[str] = Field(default_factory=list, max_length=20, description="TVEC codes.")
    rationale: str = Field("", max_length=MAX_RATIONALE_CHARS)
    add_to_bank: str | None = Field(None, max_length=128, description="confirm: bank the item.")
    negative_bank: str | None = Field(
        None, max_length=128, description="false_positive: the negative bank (default known-...)."
    )


class GroupDecisionIn(_Input):
    outcome: Literal["confirm", "false_positive"]
    labels: list[str] = Field(default_factory=list, max_length=20)
    rationale: str = Field("", max_length=MAX_RATIONALE_CHARS)


class DecisionOut(_Record):
    id: int
    case_id: int
    outcome: str
    labels: list[str]
    rationale: str
    decided_by: str
    decided_at: datetime
    supersedes_id: int | None
    appeal_id: int | None
    effects: dict[str, Any]


class DecisionList(BaseModel):
    decisions: list[DecisionOut]


class TrainingLabelOut(BaseModel):
    decision_id: int
    content_id: int | None = Field(description="Join with your own copy of the item's text.")
    labels: list[str]
    harmful: bool = Field(description="False for a false positive: a negative example.")


class TrainingLabelList(BaseModel):
    labels: list[TrainingLabelOut]


class AppealIn(_Input):
    complaint: str = Field(min_length=1, max_length=MAX_RATIONALE_CHARS)
    submitted_by: str = Field(
        min_length=1, max_length=255, description="The platform's reference for the user."
    )


class AppealOut(_Record):
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


class ActionOut(_Record):
    id: int
    idempotency_key: str
    kind: str
    event: str
    case_id: int | None
    decision_id: int | None
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_by: str
    created_at: datetime
    completed_at: datetime | None


class ActionList(BaseModel):
    actions: list[ActionOut]


class PolicyIn(_Input):
    rules: dict[str, Any] = Field(description="The policy (docs/decisions.md); missing: defaults.")
    note: str = Field("", max_length=2000)
    activate: bool = False


class PolicyOut(BaseModel):
    version: int = Field(description="0: the built-in default (no stored version is active).")
    active: bool
    created_by: str
    created_at: datetime | None
    note: str
    rules: dict[str, Any]


class PolicyList(BaseModel):
    policies: list[PolicyOut]
