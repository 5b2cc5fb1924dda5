"""API keys: list, create (the secret is shown once) and revoke. Admin scope only."""

from __future__ import annotations

from fastapi import APIRouter

from bastion.api.auth import AdminKey, BastionDep
from bastion.api.schemas import CreatedKeyOut, KeyCreate, KeyList, KeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"])


@router.get("", response_model=KeyList, summary="List API keys (never their secrets)")
def list_keys(key: AdminKey, bastion: BastionDep, include_revoked: bool = False) -> KeyList:
    with bastion.db.session() as session:
        keys = bastion.keys.list(session, include_revoked=include_revoked)
    return KeyList(keys=[KeyOut.model_validate(info) for info in keys])


@router.post(
    "",
    response_model=CreatedKeyOut,
    status_code=201,
    summary="Create an API key; the response is the only time its secret is shown",
)
def create_key(body: KeyCreate, key: AdminKey, bastion: BastionDep) -> CreatedKeyOut:
    with bastion.db.session() as session:
        created = bastion.keys.create(
            session,
            name=body.name,
            scopes=body.scopes,
            actor=key.actor,
            expires_at=body.expires_at,
        )
    return CreatedKeyOut(key=KeyOut.model_validate(created.info), secret=created.secret)


@router.delete("/{prefix}", response_model=KeyOut, summary="Revoke an API key")
def revoke_key(prefix: str, key: AdminKey, bastion: BastionDep) -> KeyOut:
    with bastion.db.session() as session:
        return KeyOut.model_validate(bastion.keys.revoke(session, prefix, actor=key.actor))
