"""Bank entries: list, add (as hashes, from media, by bulk import), change and delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from bastion.api import work
from bastion.api.auth import BanksReadKey, BanksWriteKey, BastionDep
from bastion.api.body import read_body, read_form
from bastion.api.inputs import media_type, read_media
from bastion.api.openapi_bodies import import_body, media_body
from bastion.api.schemas import AddResult, EntryIn, EntryOut, EntryPage, EntryUpdate
from bastion.banks.importer import ImportFormat, guess_format
from bastion.banks.records import AddReport, NewEntry

router = APIRouter(prefix="/v1/banks/{name}", tags=["entries"])

MAX_LISTED = 1000
# Content types that name an import's format; anything else is guessed from the bytes.
_IMPORT_TYPES: dict[str, ImportFormat] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
}
_MEDIA_FIELDS = {
    "labels": "TVEC codes for the new entries, comma-separated.",
    "note": "Free text kept with each entry.",
}


def _result(report: AddReport) -> AddResult:
    return AddResult.model_validate(
        {
            "added": len(report.added),
            "duplicates": report.duplicates,
            "errors": report.errors,
            "skipped": report.skipped,
            "entries": [EntryOut.model_validate(e) for e in report.added[:MAX_LISTED]],
        }
    )


@router.get("/entries", response_model=EntryPage, summary="List a bank's entries, oldest first")
def list_entries(
    name: str,
    key: BanksReadKey,
    bastion: BastionDep,
    signal_type: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    after_id: Annotated[int, Query(ge=0, description="Cursor from next_after_id.")] = 0,
) -> EntryPage:
    with bastion.db.session() as session:
        entries = bastion.banks.list_entries(
            session, name, signal_type=signal_type, limit=limit, after_id=after_id
        )
    return EntryPage(
        entries=[EntryOut.model_validate(entry) for entry in entries],
        next_after_id=entries[-1].id if len(entries) == limit else None,
    )


@router.post(
    "/entries",
    response_model=AddResult,
    status_code=201,
    summary="Add entries from signal values (hashes)",
)
def add_entries(
    name: str, body: list[EntryIn], key: BanksWriteKey, bastion: BastionDep
) -> AddResult:
    entries = [
        NewEntry(
            signal_type=item.signal_type,
            value=item.value,
            labels=item.labels,
            note=item.note,
            added_from="api",
            tlp=item.tlp.value if item.tlp is not None else None,
        )
        for item in body
    ]
    with bastion.db.session() as session:
        report = bastion.banks.add_entries(session, name, entries, actor=key.actor)
    return _result(report)


@router.post(
    "/entries/media",
    response_model=AddResult,
    status_code=201,
    summary="Bank a photo, video or file: its signals become entries",
    openapi_extra=media_body(_MEDIA_FIELDS),
)
async def add_media(
    name: str,
    request: Request,
    key: BanksWriteKey,
    bastion: BastionDep,
    labels: Annotated[str | None, Query(description="Comma-separated TVEC codes.")] = None,
    note: Annotated[str | None, Query(max_length=10_000)] = None,
    filename: Annotated[
        str | None, Query(max_length=1024, description="File name for a raw body.")
    ] = None,
) -> AddResult:
    media = await read_media(
        request,
        bastion.settings.max_upload_bytes,
        name=filename,
        external_id=None,
        form_fields=frozenset(_MEDIA_FIELDS),
    )
    report = await run_in_threadpool(
        work.bank_media,
        bastion,
        name,
        media,
        labels=media.fields.get("labels", labels),
        note=media.fields.get("note", note),
        actor=key.actor,
    )
    return _result(report)


@router.post(
    "/import",
    response_model=AddResult,
    status_code=201,
    summary="Import entries from CSV, JSON or JSON Lines",
    description=(
        "All or nothing by default: any bad row fails the import with 422 `import_malformed` "
        "and every bad row's line number. `?partial=true` imports the good rows and reports "
        "the bad ones in `errors`."
    ),
    openapi_extra=import_body(),
)
async def import_entries(
    name: str,
    request: Request,
    key: BanksWriteKey,
    bastion: BastionDep,
    fmt: Annotated[
        Literal["csv", "json", "jsonl"] | None,
        Query(alias="format", description="Overrides the Content-Type and the guess."),
    ] = None,
    partial: bool = False,
) -> AddResult:
    limit = bastion.settings.max_upload_bytes
    kind = media_type(request)
    filename: str | None = None
    if kind == "multipart/form-data":
        form = await read_form(request, limit, frozenset())
        data = form.file.data if form.file else b""
        filename = form.file.filename if form.file else None
    else:
        data = await read_body(request, limit)
    chosen: ImportFormat = fmt or _IMPORT_TYPES.get(kind) or guess_format(data, filename)
    source = f"import:{filename}" if filename else "import"
    report = await run_in_threadpool(
        work.import_file,
        bastion,
        name,
        data,
        fmt=chosen,
        partial=partial,
        actor=key.actor,
        source=source[:900],
    )
    return _result(report)


@router.get("/entries/{entry_id}", response_model=EntryOut, summary="One entry")
def get_entry(name: str, entry_id: int, key: BanksReadKey, bastion: BastionDep) -> EntryOut:
    with bastion.db.session() as session:
        return EntryOut.model_validate(bastion.banks.get_entry(session, name, entry_id))


@router.patch(
    "/entries/{entry_id}",
    response_model=EntryOut,
    summary="Disable an entry until a time, or change its note or labels",
)
def update_entry(
    name: str, entry_id: int, body: EntryUpdate, key: BanksWriteKey, bastion: BastionDep
) -> EntryOut:
    # Left out means unchanged; an explicit null re-enables. The domain tells them apart by False.
    disabled = body.disabled_until if "disabled_until" in body.model_fields_set else False
    with bastion.db.session() as session:
        entry = bastion.banks.update_entry(
            session,
            name,
            entry_id,
            actor=key.actor,
            disabled_until=disabled,
            note=body.note,
            labels=body.labels,
            tlp=body.tlp,
        )
    return EntryOut.model_validate(entry)


@router.delete(
    "/entries/{entry_id}", status_code=204, response_class=Response, summary="Delete an entry"
)
def delete_entry(name: str, entry_id: int, key: BanksWriteKey, bastion: BastionDep) -> Response:
    with bastion.db.session() as session:
        bastion.banks.delete_entry(session, name, entry_id, actor=key.actor)
    return Response(status_code=204)


@router.post(
    "/entries/{entry_id}/release",
    response_model=EntryOut,
    summary="Release an entry from flood-control quarantine (its matches may act again)",
)
def release_entry(name: str, entry_id: int, key: BanksWriteKey, bastion: BastionDep) -> EntryOut:
    with bastion.db.session() as session:
        entry = bastion.banks.release_quarantine(session, name, entry_id, actor=key.actor)
    return EntryOut.model_validate(entry)
