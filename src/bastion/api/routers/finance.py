"""Terrorist financing over HTTP: extraction, screening, sanctions lists, case evidence reports.

Thin: each route parses, calls :mod:`bastion.finance`, renders. Lists are uploaded as the file
the operator downloaded (raw body, at most ``BASTION_MAX_UPLOAD_MB``; larger files go through
``bastion finance lists import``), kept in a temporary file only while it is read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from bastion.api.auth import BastionDep, CasesReadKey, FinanceReadKey, FinanceWriteKey
from bastion.api.body import read_body
from bastion.errors import InvalidInput
from bastion.finance.batch_screen import MAX_ITEMS, ScreenItem, screen_batch
from bastion.finance.case_view import case_finance
from bastion.finance.entities import bank_list_wallets, entity_details
from bastion.finance.extract import extract_instruments
from bastion.finance.ftm import export_list
from bastion.finance.reports import report_file, report_for_case
from bastion.finance.screening import screen_wallets
from bastion.signals.payment import CryptoAddressSignal

router = APIRouter(prefix="/v1", tags=["finance"])

MAX_EXTRACT_CHARS = 2_000_000


class ExtractRequest(BaseModel):
    text: str = Field(max_length=MAX_EXTRACT_CHARS, description="The text to search.")


class ScreenRequest(BaseModel):
    name: str | None = Field(None, max_length=500, description="A person or organisation.")
    wallet: str | None = Field(None, max_length=4000, description="A crypto address or URI.")
    threshold: float | None = Field(None, ge=0.5, le=1.0)
    limit: int = Field(10, ge=1, le=100)
    birth_year: int | None = Field(
        None, ge=1800, le=2100, description="A person's birth year, to corroborate hits."
    )
    schema_: str | None = Field(
        None, alias="schema", description="Only entities of this FtM schema (Person...)."
    )


class WalletBankRequest(BaseModel):
    source: str = Field(description="ofac_sdn, un_sc, uk_sl or eu_fsf.")
    bank: str = Field(min_length=1, max_length=128)
    tlp: str = "green"


@router.post("/finance/extract", summary="Payment instruments in a text")
def extract(body: ExtractRequest, key: FinanceReadKey) -> dict[str, Any]:
    found = extract_instruments(body.text)
    return {"instruments": [instrument.to_dict() for instrument in found]}


@router.post("/finance/screen", summary="Screen a name or a wallet against the active lists")
def screen(body: ScreenRequest, key: FinanceReadKey, bastion: BastionDep) -> dict[str, Any]:
    if (body.name is None) == (body.wallet is None):
        raise InvalidInput("give either name or wallet", field="name")
    with bastion.db.session() as session:
        if body.wallet is not None:
            hits = screen_wallets(session, [CryptoAddressSignal.normalize(body.wallet)])
        else:
            threshold = body.threshold or bastion.settings.finance_name_threshold
            hits = bastion.scanner.finance.names.screen(
                session,
                body.name or "",
                threshold=threshold,
                limit=body.limit,
                schema=body.schema_,
                birth_year=body.birth_year,
            )
    return {"hits": [hit.to_dict() for hit in hits]}


class BatchItem(BaseModel):
    id: str = Field("", max_length=255)
    name: str | None = Field(None, max_length=500)
    wallet: str | None = Field(None, max_length=4000)


class BatchRequest(BaseModel):
    items: list[BatchItem] = Field(min_length=1, max_length=MAX_ITEMS)
    threshold: float | None = Field(None, ge=0.5, le=1.0)
    limit: int = Field(3, ge=1, le=20)


@router.post("/finance/screen/batch", summary="Screen many names and wallets")
def screen_many(body: BatchRequest, key: FinanceReadKey, bastion: BastionDep) -> dict[str, Any]:
    items = [
        ScreenItem(item.id or str(number), item.name, item.wallet)
        for number, item in enumerate(body.items, start=1)
    ]
    threshold = body.threshold or bastion.settings.finance_name_threshold
    with bastion.db.session() as session:
        results = screen_batch(
            session, bastion.scanner.finance.names, items, threshold=threshold, limit=body.limit
        )
    return {"results": [result.to_dict() for result in results]}


@router.get("/finance/lists", summary="Imported sanctions lists")
def list_lists(
    key: FinanceReadKey,
    bastion: BastionDep,
    all_versions: Annotated[bool, Query(alias="all", description="Also superseded.")] = False,
) -> dict[str, Any]:
    with bastion.db.session() as session:
        infos = bastion.sanctions.list(session, include_superseded=all_versions)
    return {"lists": [info.to_dict() for info in infos]}


@router.post("/finance/lists", status_code=201, summary="Import a sanctions list file")
async def import_list(
    request: Request,
    key: FinanceWriteKey,
    bastion: BastionDep,
    format: Annotated[str | None, Query(description="Default: detected.")] = None,
    file_name: Annotated[str, Query(max_length=255)] = "upload",
) -> JSONResponse:
    data = await read_body(request, bastion.settings.max_upload_bytes)
    if not data:
        raise InvalidInput("the request body is the list file, and it is empty", field="body")
    outcome = await run_in_threadpool(
        partial(
            bastion.lists.import_upload,
            bastion.db,
            data,
            data_dir=bastion.settings.data_dir,
            actor=key.actor,
            format=format,
            file_name=file_name,
        )
    )
    return JSONResponse(outcome.to_dict(), status_code=201 if outcome.new else 200)


@router.get("/finance/lists/{list_id}", summary="One imported list version")
def get_list(list_id: int, key: FinanceReadKey, bastion: BastionDep) -> dict[str, Any]:
    with bastion.db.session() as session:
        return bastion.sanctions.get(session, list_id).to_dict()


@router.delete("/finance/lists/{list_id}", status_code=204, summary="Remove a wrong import")
def remove_list(list_id: int, key: FinanceWriteKey, bastion: BastionDep) -> Response:
    with bastion.db.session() as session:
        bastion.sanctions.remove(session, list_id, actor=key.actor)
    return Response(status_code=204)


@router.get("/finance/lists/{list_id}/ftm", summary="A list version as FollowTheMoney entities")
def export_ftm(list_id: int, key: FinanceReadKey, bastion: BastionDep) -> StreamingResponse:
    with bastion.db.session() as session:
        source = bastion.sanctions.get(session, list_id).source

    def lines() -> Iterator[bytes]:
        with bastion.db.session() as session:
            for entity in export_list(session, list_id, source):
                yield (json.dumps(entity, ensure_ascii=False) + "\n").encode("utf-8")

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/finance/entities/{entity_id}", summary="One listed entity")
def get_entity(entity_id: int, key: FinanceReadKey, bastion: BastionDep) -> dict[str, Any]:
    with bastion.db.session() as session:
        return entity_details(session, entity_id)


@router.post("/finance/wallet-banks", summary="Put a list's wallets into a bank")
def wallet_bank(
    body: WalletBankRequest, key: FinanceWriteKey, bastion: BastionDep
) -> dict[str, Any]:
    with bastion.db.session() as session:
        report = bank_list_wallets(
            session,
            bastion.banks,
            source=body.source,
            bank=body.bank,
            actor=key.actor,
            tlp=body.tlp,
        )
    return {"bank": body.bank, "added": len(report.added), "duplicates": report.duplicates}


@router.get("/cases/{case_id}/finance", summary="A case's payment instruments and list hits")
def get_case_finance(case_id: int, key: CasesReadKey, bastion: BastionDep) -> dict[str, Any]:
    with bastion.db.session() as session:
        case = bastion.cases.get(session, case_id)
        return case_finance(session, case)


@router.get("/cases/{case_id}/finance-report", summary="Evidence summary for an FIU")
def finance_report(
    case_id: int,
    key: FinanceReadKey,
    bastion: BastionDep,
    format: Annotated[str, Query(pattern="^(json|pdf)$")] = "json",
    tlp: Annotated[str, Query(max_length=20)] = "amber",
) -> Response:
    with bastion.db.session() as session:
        report = report_for_case(
            session,
            bastion.cases,
            bastion.audit,
            case_id,
            actor=key.actor,
            data_dir=bastion.settings.data_dir,
            tlp=tlp,
            form=format,
        )
    body, media_type, name = report_file(report, format)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media_type, headers=headers)
