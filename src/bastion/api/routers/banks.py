"""Banks: create, list, change and delete curated lists of known content."""

from __future__ import annotations

from fastapi import APIRouter, Response

from bastion.api.auth import BanksReadKey, BanksWriteKey, BastionDep
from bastion.api.schemas import BankCreate, BankList, BankOut, BankUpdate

router = APIRouter(prefix="/v1/banks", tags=["banks"])


@router.get("", response_model=BankList, summary="List banks with their entry counts")
def list_banks(key: BanksReadKey, bastion: BastionDep) -> BankList:
    with bastion.db.session() as session:
        banks = bastion.banks.list(session)
    return BankList(banks=[BankOut.model_validate(bank) for bank in banks])


@router.post("", response_model=BankOut, status_code=201, summary="Create a bank")
def create_bank(body: BankCreate, key: BanksWriteKey, bastion: BastionDep) -> BankOut:
    with bastion.db.session() as session:
        bank = bastion.banks.create(
            session,
            name=body.name,
            actor=key.actor,
            description=body.description,
            kind=body.kind.value,
            labels=body.labels,
            severity=body.severity.value,
            source=body.source.value,
            tlp=body.tlp.value,
            thresholds=body.thresholds,
            enabled=body.enabled,
            enable_ratio=body.enable_ratio,
        )
    return BankOut.model_validate(bank)


@router.get("/{name}", response_model=BankOut, summary="One bank")
def get_bank(name: str, key: BanksReadKey, bastion: BastionDep) -> BankOut:
    with bastion.db.session() as session:
        return BankOut.model_validate(bastion.banks.get(session, name))


@router.patch("/{name}", response_model=BankOut, summary="Rename or change a bank")
def update_bank(name: str, body: BankUpdate, key: BanksWriteKey, bastion: BastionDep) -> BankOut:
    with bastion.db.session() as session:
        bank = bastion.banks.update(
            session,
            name,
            actor=key.actor,
            new_name=body.name,
            description=body.description,
            labels=body.labels,
            severity=body.severity.value if body.severity else None,
            tlp=body.tlp.value if body.tlp else None,
            thresholds=body.thresholds,
            enabled=body.enabled,
            enable_ratio=body.enable_ratio,
        )
    return BankOut.model_validate(bank)


@router.delete(
    "/{name}", status_code=204, response_class=Response, summary="Delete a bank and its entries"
)
def delete_bank(name: str, key: BanksWriteKey, bastion: BastionDep) -> Response:
    with bastion.db.session() as session:
        bastion.banks.delete(session, name, actor=key.actor)
    return Response(status_code=204)
