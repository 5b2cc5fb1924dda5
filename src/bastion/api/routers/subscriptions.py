"""Subscriptions to partner feeds, polls on demand, feedback both ways, remote collections."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from bastion.api.auth import BastionDep, ShareReadKey, ShareWriteKey
from bastion.errors import InvalidInput
from bastion.share.subscriptions import SubscriptionInfo

router = APIRouter(tags=["sharing"])


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubscriptionCreate(_Input):
    partner: str = Field(max_length=64, description="The partner's name.")
    bank: str = Field(max_length=128, description="The local bank the feed fills.")
    remote_collection: str = Field(
        min_length=1, max_length=255, description="The TAXII collection id (or programme feed)."
    )
    api_root: str = Field("", max_length=2048, description="Default: the partner's url.")
    interval_seconds: float | None = Field(None, description="Default: the poll interval setting.")
    require_signature: bool | None = Field(
        None, description="Default: true for partners of kind bastion, false otherwise."
    )


class SubscriptionChange(_Input):
    enabled: bool | None = None
    interval_seconds: float | None = None
    require_signature: bool | None = None


class SubscriptionOut(BaseModel):
    id: int
    partner: str
    partner_kind: str
    bank: str
    remote_collection: str
    api_root: str
    checkpoint: dict[str, Any]
    interval_seconds: int
    require_signature: bool
    enabled: bool
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error_code: str
    last_error: str
    objects_received: int
    entries_added: int
    entries_revoked: int
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, info: SubscriptionInfo) -> SubscriptionOut:
        return cls.model_validate(info, from_attributes=True)


class SubscriptionList(BaseModel):
    subscriptions: list[SubscriptionOut]


class FeedbackCreate(_Input):
    bank: str = Field(max_length=128)
    entry_id: int = Field(ge=1)
    kind: Literal["sighting", "opinion"]
    opinion: str = Field("", max_length=32, description="For opinions; default disagree.")
    explanation: str = Field("", max_length=2000)
    count: int = Field(1, ge=1, le=999_999_999)


@router.get(
    "/v1/subscriptions", response_model=SubscriptionList, summary="Subscriptions to partner feeds"
)
def list_subscriptions(key: ShareReadKey, bastion: BastionDep) -> SubscriptionList:
    with bastion.db.session() as session:
        found = bastion.subscriptions.list(session)
    return SubscriptionList(subscriptions=[SubscriptionOut.of(info) for info in found])


@router.post(
    "/v1/subscriptions",
    response_model=SubscriptionOut,
    status_code=201,
    summary="Subscribe a bank to a partner's collection",
)
def create_subscription(
    body: SubscriptionCreate, key: ShareWriteKey, bastion: BastionDep
) -> SubscriptionOut:
    with bastion.db.session() as session:
        info = bastion.subscriptions.create(
            session,
            partner=body.partner,
            bank=body.bank,
            remote_collection=body.remote_collection,
            api_root=body.api_root,
            interval_seconds=body.interval_seconds,
            require_signature=body.require_signature,
            actor=key.actor,
        )
    return SubscriptionOut.of(info)


@router.get(
    "/v1/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    summary="One subscription",
)
def get_subscription(
    subscription_id: int, key: ShareReadKey, bastion: BastionDep
) -> SubscriptionOut:
    with bastion.db.session() as session:
        return SubscriptionOut.of(bastion.subscriptions.get(session, subscription_id))


@router.patch(
    "/v1/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    summary="Enable, disable or retune a subscription",
)
def change_subscription(
    subscription_id: int, body: SubscriptionChange, key: ShareWriteKey, bastion: BastionDep
) -> SubscriptionOut:
    with bastion.db.session() as session:
        info = bastion.subscriptions.update(
            session,
            subscription_id,
            actor=key.actor,
            enabled=body.enabled,
            interval_seconds=body.interval_seconds,
            require_signature=body.require_signature,
        )
    return SubscriptionOut.of(info)


@router.delete(
    "/v1/subscriptions/{subscription_id}", status_code=204, summary="Delete a subscription"
)
def delete_subscription(subscription_id: int, key: ShareWriteKey, bastion: BastionDep) -> Response:
    with bastion.db.session() as session:
        bastion.subscriptions.delete(session, subscription_id, actor=key.actor)
    return Response(status_code=204)


@router.post(
    "/v1/subscriptions/{subscription_id}/poll",
    summary="Poll a subscription now",
    response_model=dict[str, Any],
)
def poll_subscription(
    subscription_id: int, key: ShareWriteKey, bastion: BastionDep
) -> dict[str, Any]:
    # A plain function: FastAPI runs it in the thread pool, so a slow partner blocks no one else.
    return bastion.subscriptions.poll(subscription_id, actor=key.actor).to_dict()


@router.get("/v1/feedback", summary="Feedback sent and received", response_model=dict[str, Any])
def list_feedback(
    key: ShareReadKey,
    bastion: BastionDep,
    direction: Annotated[Literal["in", "out"] | None, Query()] = None,
    kind: Annotated[Literal["sighting", "opinion"] | None, Query()] = None,
    bank: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    with bastion.db.session() as session:
        found = bastion.feedback.list(
            session, direction=direction, kind=kind, bank=bank, limit=limit
        )
    return {"feedback": found}


@router.post(
    "/v1/feedback",
    status_code=201,
    summary="Send a sighting or an opinion about a partner's entry",
    response_model=dict[str, Any],
)
def create_feedback(
    body: FeedbackCreate, key: ShareWriteKey, bastion: BastionDep
) -> dict[str, Any]:
    with bastion.db.session() as session:
        row = bastion.feedback.queue_feedback(
            session,
            bank=body.bank,
            entry_id=body.entry_id,
            kind=body.kind,
            actor=key.actor,
            count=body.count,
            opinion=body.opinion,
            explanation=body.explanation,
        )
        feedback_id = row.id if row is not None else None
    if feedback_id is None:
        raise InvalidInput(
            "the entry did not come from a partner's subscription: there is no one to tell",
            entry_id=body.entry_id,
        )
    # Tried at once; a failure stays on the record (status failed, with its error).
    bastion.feedback.deliver_one(feedback_id)
    with bastion.db.session() as session:
        found = bastion.feedback.get(session, feedback_id)
    return found


@router.get(
    "/v1/remote-collections",
    summary="The collections a partner's TAXII server offers",
    response_model=dict[str, Any],
)
def remote_collections(
    key: ShareReadKey,
    bastion: BastionDep,
    partner: Annotated[str, Query(max_length=64)],
) -> dict[str, Any]:
    with bastion.db.session() as session:
        info = bastion.partners.get(session, partner)
        credentials = bastion.partners.credentials(session, partner)
    return {
        "partner": info.name,
        "collections": bastion.subscriptions.remote_collections(info, credentials),
    }
