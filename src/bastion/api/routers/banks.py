"""Banks: create, list, change, export and delete curated lists of known content."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from bastion.api.auth import BanksReadKey, BanksWriteKey, BastionDep
from bastion.api.schemas import BankCreate, BankList, BankOut, BankUpdate
from bastion.banks.exporter import MEDIA_TYPES, start_export, stream_export

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


@router.get(
    "/{name}/export",
    response_class=StreamingResponse,
    summary="Export a bank's entries as JSON Lines, JSON or CSV, in the form import reads",
    description=(
        "Streamed, oldest entry first. Disabled and quarantined entries are included unless "
        "`?skip_disabled=true`; `?variants=false` leaves out PDQ entries' robust variants. "
        "Every export is recorded in the audit log (`bank.export`)."
    ),
    responses={
        200: {
            "description": "The entries, as an attachment.",
            "content": {kind.split(";")[0]: {} for kind in MEDIA_TYPES.values()},
        }
    },
)
def export_bank(
    name: str,
    key: BanksReadKey,
    bastion: BastionDep,
    fmt: Annotated[
        Literal["jsonl", "json", "csv"], Query(alias="format", description="jsonl, json or csv.")
    ] = "jsonl",
    variants: Annotated[bool, Query(description="Include PDQ robust variants.")] = True,
    skip_disabled: Annotated[
        bool, Query(description="Leave out entries disabled until a future time.")
    ] = False,
) -> StreamingResponse:
    # First unit of work: an unknown bank is an ordinary error response, and the audit record is
    # committed before the first byte, so a download cut short is still on record.
    with bastion.db.session() as session:
        job = start_export(
            session,
            bastion.banks,
            name,
            fmt,
            actor=key.actor,
            audit=bastion.audit,
            include_variants=variants,
            skip_disabled=skip_disabled,
        )

    def body() -> Iterator[str]:
        # Its own session, open for as long as the client reads (closed if it goes away).
        with bastion.db.session() as session:
            yield from stream_export(session, job)

    return StreamingResponse(
        body(),
        media_type=job.media_type,
        headers={"Content-Disposition": f'attachment; filename="{job.filename}"'},
    )
