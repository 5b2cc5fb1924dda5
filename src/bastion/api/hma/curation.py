"""HMA's curation API: banks and bank content under ``/c``.

Reads need ``banks:read``, changes ``banks:write``. Bank content is added from a URL (``?url=``),
an upload (a multipart part named photo, video or file) or signal values (``/signal``).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from bastion.api.auth import BanksReadKey, BanksWriteKey, BastionDep
from bastion.api.body import read_body
from bastion.api.errors import ValidationFailed
from bastion.api.hma import banking_work as work
from bastion.api.hma.errors import HmaRoute
from bastion.api.hma.names import content_kind, hma_type, requested_types
from bastion.api.hma.openapi import ERRORS, upload_body
from bastion.api.hma.schemas import (
    BankContent,
    ContentAdded,
    ContentAddJson,
    ContentMetadata,
    Deleted,
    HmaBank,
    HmaBankCreate,
    HmaBankUpdate,
    HmaContentUpdate,
    HmaMessage,
)
from bastion.api.hma.uploads import read_upload
from bastion.api.inputs import ModelT, media_type, parse_json_model
from bastion.api.work import fetch_media
from bastion.errors import InvalidInput

router = APIRouter(prefix="/c", tags=["hma"], route_class=HmaRoute, responses=ERRORS)

BankName = Annotated[str, Path(max_length=128)]
ContentId = Annotated[int, Path(ge=1, le=2**62, description="The bank content id.")]
_FORM_FIELDS = frozenset({"note", "metadata"})


@router.get("/banks", response_model=list[HmaBank], summary="List banks")
def list_banks(key: BanksReadKey, bastion: BastionDep) -> list[dict[str, Any]]:
    with bastion.db.session() as session:
        return [work.bank_json(info) for info in bastion.banks.list(session)]


@router.post("/banks", response_model=HmaBank, status_code=201, summary="Create a bank")
def create_bank(body: HmaBankCreate, key: BanksWriteKey, bastion: BastionDep) -> dict[str, Any]:
    return work.create_bank(bastion, body, key.actor)


@router.get("/bank/{bank_name}", response_model=HmaBank, summary="One bank")
def get_bank(bank_name: BankName, key: BanksReadKey, bastion: BastionDep) -> dict[str, Any]:
    with bastion.db.session() as session:
        return work.bank_json(bastion.banks.get(session, bank_name))


@router.put(
    "/bank/{bank_name}",
    response_model=HmaBank,
    summary="Rename a bank or change its matching_enabled_ratio",
)
def update_bank(
    bank_name: BankName, body: HmaBankUpdate, key: BanksWriteKey, bastion: BastionDep
) -> dict[str, Any]:
    return work.update_bank(bastion, bank_name, body, key.actor)


@router.delete("/bank/{bank_name}", response_model=HmaMessage, summary="Delete a bank")
def delete_bank(bank_name: BankName, key: BanksWriteKey, bastion: BastionDep) -> dict[str, str]:
    work.delete_bank(bastion, bank_name, key.actor)
    return {"message": "Done"}


def _metadata(raw: str | None) -> ContentMetadata | None:
    if not raw:
        return None
    return _parsed(ContentMetadata, raw.encode(), "metadata")


def _parsed(model: type[ModelT], raw: bytes, what: str) -> ModelT:
    """A JSON body or field; one that does not validate is a 400, as in HMA."""
    try:
        return parse_json_model(model, raw)
    except ValidationFailed as exc:
        raise InvalidInput(f"Invalid {what}: {exc.detail}") from None


@router.post(
    "/bank/{bank_name}/content",
    response_model=ContentAdded,
    summary="Bank content from ?url= or an uploaded file",
    openapi_extra=upload_body({"note": "Kept with the content.", "metadata": "HMA metadata JSON."}),
)
async def add_content(
    bank_name: BankName,
    request: Request,
    key: BanksWriteKey,
    bastion: BastionDep,
    url: Annotated[str | None, Query(max_length=8192)] = None,
    content_type: Annotated[str | None, Query(max_length=64)] = None,
    types: Annotated[str | None, Query(max_length=1024)] = None,
    note: Annotated[str | None, Query(max_length=10_000)] = None,
    metadata: Annotated[str | None, Query(max_length=100_000)] = None,
) -> dict[str, Any]:
    hint, requested = content_kind(content_type), requested_types(types)
    limit = bastion.settings.max_upload_bytes
    meta = _metadata(metadata)
    if media_type(request) == "application/json":
        raw = await read_body(request, limit)
        extra = _parsed(ContentAddJson, raw, "metadata") if raw.strip() else ContentAddJson()
        url, note, meta = url or extra.url, note or extra.note, extra.metadata or meta
    if url:
        media = await run_in_threadpool(fetch_media, bastion, url)
    elif media_type(request) not in ("", "application/json"):
        upload = await read_upload(request, limit, _FORM_FIELDS)
        media, hint = upload.media, hint or upload.kind
        note = upload.media.fields.get("note", note)
        meta = _metadata(upload.media.fields.get("metadata")) or meta
    else:
        raise InvalidInput("Neither `url` nor multipart file upload was received")
    banked = partial(
        work.add_content,
        bastion,
        bank_name,
        media,
        hint=hint,
        requested=requested,
        url=url,
        content_uri=meta.content_uri if meta else None,
        note=note,
        actor=key.actor,
    )
    return await run_in_threadpool(banked)


@router.post(
    "/bank/{bank_name}/signal",
    response_model=ContentAdded,
    summary='Bank signal values as one content: {"pdq": "<hash>", ...}',
)
def add_signals(
    bank_name: BankName,
    key: BanksWriteKey,
    bastion: BastionDep,
    body: Annotated[Any, Body(description='{"<signal type>": "<value>", ...}')],
) -> dict[str, Any]:
    return work.add_signals(bastion, bank_name, body, key.actor)


@router.get(
    "/bank/{bank_name}/content/{content_id}",
    response_model=BankContent,
    response_model_exclude_unset=True,
    summary="One bank content",
)
def get_content(
    bank_name: BankName,
    content_id: ContentId,
    key: BanksReadKey,
    bastion: BastionDep,
    include_signals: bool = False,
    signal_type: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    shown = hma_type(signal_type) if signal_type else include_signals
    return work.get_content(bastion, bank_name, content_id, shown)


@router.put(
    "/bank/{bank_name}/content/{content_id}",
    response_model=BankContent,
    response_model_exclude_unset=True,
    summary="Disable bank content until a time (disable_until_ts), or change its note",
)
def update_content(
    bank_name: BankName,
    content_id: ContentId,
    body: HmaContentUpdate,
    key: BanksWriteKey,
    bastion: BastionDep,
) -> dict[str, Any]:
    return work.update_content(bastion, bank_name, content_id, body, key.actor)


@router.delete(
    "/bank/{bank_name}/content/{content_id}",
    response_model=Deleted,
    summary="Remove bank content",
)
def delete_content(
    bank_name: BankName, content_id: ContentId, key: BanksWriteKey, bastion: BastionDep
) -> dict[str, int]:
    return {"deleted": work.delete_content(bastion, bank_name, content_id, key.actor)}
