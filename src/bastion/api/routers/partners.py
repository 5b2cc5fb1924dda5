"""Partners, their collection grants, and what was shared with whom (``docs/sharing.md``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from bastion.api.auth import BastionDep, ShareReadKey, ShareWriteKey
from bastion.share.partners import PartnerInfo
from bastion.storage.models import BankRow
from bastion.storage.share_models import PartnerRow, ShareEventRow

router = APIRouter(tags=["sharing"])


class PartnerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="1-64 lower-case letters, digits, '.', '_', '-'")
    kind: str = Field(description="bastion, taxii, threatexchange, tat, ncmec, stopncii or file")
    url: str = Field("", max_length=2048, description="TAXII API root or the programme's API")
    api_key: str | None = Field(None, description="prefix of the key this partner calls us with")
    amber: bool = Field(False, description="a named partner: may read granted TLP:AMBER banks")
    signer: str = Field("", max_length=64, description="trust-store name of its signing key")
    credentials: dict[str, str] | None = Field(
        None, description="for reaching the partner; stored encrypted, never shown again"
    )
    options: dict[str, Any] | None = None


class PartnerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=2048)
    api_key: str | None = None
    amber: bool | None = None
    signer: str | None = Field(None, max_length=64)
    credentials: dict[str, str] | None = Field(
        None, description="replaces all stored credentials; {} removes them"
    )
    options: dict[str, Any] | None = None
    enabled: bool | None = None


class GrantBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    can_read: bool = True
    can_write: bool = False


class ShareEventOut(BaseModel):
    id: int
    direction: str
    channel: str
    who: str
    partner: str | None
    bank: str | None
    objects: int
    detail: str
    at: datetime


def _partner_body(info: PartnerInfo) -> dict[str, Any]:
    return info.to_dict()


@router.get("/v1/partners", summary="Partners")
def list_partners(key: ShareReadKey, bastion: BastionDep) -> dict[str, Any]:
    with bastion.db.session() as session:
        return {"partners": [_partner_body(p) for p in bastion.partners.list(session)]}


@router.post("/v1/partners", status_code=201, summary="Register a partner")
def create_partner(body: PartnerCreate, key: ShareWriteKey, bastion: BastionDep) -> dict[str, Any]:
    with bastion.db.session() as session:
        info = bastion.partners.create(
            session,
            name=body.name,
            kind=body.kind,
            actor=key.actor,
            url=body.url,
            api_key=body.api_key,
            amber=body.amber,
            signer=body.signer,
            credentials=body.credentials,
            options=body.options,
        )
        return _partner_body(info)


@router.get("/v1/partners/{name}", summary="One partner")
def get_partner(name: str, key: ShareReadKey, bastion: BastionDep) -> dict[str, Any]:
    with bastion.db.session() as session:
        return _partner_body(bastion.partners.get(session, name))


@router.patch("/v1/partners/{name}", summary="Change a partner")
def update_partner(
    name: str, body: PartnerUpdate, key: ShareWriteKey, bastion: BastionDep
) -> dict[str, Any]:
    with bastion.db.session() as session:
        info = bastion.partners.update(
            session,
            name,
            actor=key.actor,
            url=body.url,
            api_key=body.api_key,
            amber=body.amber,
            signer=body.signer,
            credentials=body.credentials,
            options=body.options,
            enabled=body.enabled,
        )
        return _partner_body(info)


@router.delete("/v1/partners/{name}", status_code=204, summary="Remove a partner")
def delete_partner(name: str, key: ShareWriteKey, bastion: BastionDep) -> Response:
    with bastion.db.session() as session:
        bastion.partners.delete(session, name, actor=key.actor)
    return Response(status_code=204)


@router.put("/v1/partners/{name}/grants/{bank}", summary="Grant a partner a bank's collection")
def grant_bank(
    name: str, bank: str, body: GrantBody, key: ShareWriteKey, bastion: BastionDep
) -> dict[str, Any]:
    with bastion.db.session() as session:
        info = bastion.partners.grant(
            session, name, bank, actor=key.actor, can_read=body.can_read, can_write=body.can_write
        )
        return _partner_body(info)


@router.get("/v1/share-events", summary="What was shared with whom")
def share_events(
    key: ShareReadKey,
    bastion: BastionDep,
    partner: Annotated[str | None, Query(max_length=64)] = None,
    bank: Annotated[str | None, Query(max_length=128)] = None,
    direction: Annotated[str | None, Query(pattern="^(in|out)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    with bastion.db.session() as session:
        query = (
            select(ShareEventRow, PartnerRow.name, BankRow.name)
            .outerjoin(PartnerRow, PartnerRow.id == ShareEventRow.partner_id)
            .outerjoin(BankRow, BankRow.id == ShareEventRow.bank_id)
            .order_by(ShareEventRow.id.desc())
            .limit(limit)
        )
        if partner is not None:
            query = query.where(PartnerRow.name == partner)
        if bank is not None:
            query = query.where(BankRow.name == bank)
        if direction is not None:
            query = query.where(ShareEventRow.direction == direction)
        if before_id is not None:
            query = query.where(ShareEventRow.id < before_id)
        events = [
            ShareEventOut(
                id=row.id,
                direction=row.direction,
                channel=row.channel,
                who=row.who,
                partner=partner_name,
                bank=bank_name,
                objects=row.objects,
                detail=row.detail,
                at=row.at,
            ).model_dump(mode="json")
            for row, partner_name, bank_name in session.execute(query)
        ]
    return {"events": events, "next_before_id": events[-1]["id"] if len(events) == limit else None}
