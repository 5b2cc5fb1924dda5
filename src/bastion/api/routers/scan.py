"""Scanning: hash content and look it up in every enabled bank; or only hash it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bastion.api import work
from bastion.api.auth import AnyKey, BastionDep, ScanKey
from bastion.api.body import read_body
from bastion.api.inputs import parse_json_model, read_scan_input
from bastion.api.openapi_bodies import media_body
from bastion.api.schemas import (
    MAX_BULK_TEXTS,
    BulkScanResponse,
    BulkTextRequest,
    HashResponse,
    ScanResponse,
    SignalTypeList,
)
from bastion.match.matcher import default_threshold
from bastion.review.intake import with_verdicts
from bastion.signals.base import BytesHasher, DistanceSignal
from bastion.signals.registry import all_signal_types

router = APIRouter(prefix="/v1", tags=["scan"])

NameQuery = Annotated[
    str | None, Query(max_length=1024, description="File name for a raw body (helps detection).")
]
ExternalIdQuery = Annotated[
    str | None, Query(max_length=255, description="Your own id for the content.")
]
_TEXT_FIELDS = {
    "caption": "Text posted with the media (at most 20,000 characters): its text and link "
    "signals are matched and it is analysed with the media's own text.",
    "ocr": "true or false: read the text in a photo with OCR (default BASTION_OCR_IMAGES).",
}
_SCAN_FIELDS = {"external_id": "Your own id for the content.", **_TEXT_FIELDS}


@router.post(
    "/scan",
    response_model=ScanResponse,
    summary="Scan content against every enabled bank",
    description=(
        "Send a file (multipart `file` part, optionally with `caption` and `ocr`, or a raw "
        "image/video/audio body; documents (text, HTML, PDF, DOCX) are files too), a URL to "
        'fetch (`{"url": ...}`), precomputed signals (`{"signals": [...]}`) or a post\'s text '
        '(`{"text": ..., "language": ...}`). Answers 200 whether or not anything matched; '
        "`matched` says which, `review` whether a person should look (the text classifier or a "
        "quarantined entry; never a reason to act). The scan is recorded (signals and matches, "
        "never the media or the text)."
    ),
    openapi_extra=media_body(_SCAN_FIELDS, json_schema="ScanJsonRequest"),
)
async def scan(
    request: Request,
    key: ScanKey,
    bastion: BastionDep,
    name: NameQuery = None,
    external_id: ExternalIdQuery = None,
) -> JSONResponse:
    limit = bastion.settings.max_upload_bytes
    item = await read_scan_input(request, limit, name=name, external_id=external_id)
    result = await run_in_threadpool(work.scan, bastion, item)
    # Rendered as the scanner renders it (signals without null fields; a long video has
    # thousands); ScanResponse documents the shape and a test holds the two together.
    return JSONResponse(result.to_dict())


@router.post(
    "/scan/texts",
    response_model=BulkScanResponse,
    summary="Scan many posts given as text in one request",
    description=(
        f'`{{"texts": [{{"text": ..., "external_id": ...}}, ...]}}` with 1 to {MAX_BULK_TEXTS} '
        "posts. Each is matched, analysed and recorded as a single text scan would be, in one "
        "database session (one bank list, one index refresh, one classifier lookup): the fast "
        "path for bulk checks. A post that cannot be scanned has its own `error`; the others "
        "still are."
    ),
)
async def scan_texts(request: Request, key: ScanKey, bastion: BastionDep) -> JSONResponse:
    body = await read_body(request, bastion.settings.max_upload_bytes)
    bulk = parse_json_model(BulkTextRequest, body)
    results = await run_in_threadpool(
        bastion.scanner.scan_texts,
        [item.text for item in bulk.texts],
        external_ids=[item.external_id for item in bulk.texts],
    )
    results = await run_in_threadpool(with_verdicts, bastion, results)
    return JSONResponse({"results": [result.to_dict() for result in results]})


@router.post(
    "/hash",
    response_model=HashResponse,
    summary="Compute signals only: no matching, nothing recorded",
    description=(
        "The inputs of /v1/scan; answers the content's kind (photo, video, audio, text for "
        "posts and documents, file) and the signals a scan would record (text and link "
        "signals for posts, documents and captions)."
    ),
    openapi_extra=media_body(_TEXT_FIELDS, json_schema="ScanJsonRequest"),
)
async def hash_content(
    request: Request,
    key: ScanKey,
    bastion: BastionDep,
    name: NameQuery = None,
) -> JSONResponse:
    limit = bastion.settings.max_upload_bytes
    item = await read_scan_input(request, limit, name=name, external_id=None)
    return JSONResponse(await run_in_threadpool(work.hash_only, bastion, item))


@router.get(
    "/signal-types",
    response_model=SignalTypeList,
    summary="Signal types, their display names and default match thresholds (any key)",
)
def signal_types(key: AnyKey, bastion: BastionDep) -> SignalTypeList:
    found: list[dict[str, Any]] = []
    for kind in all_signal_types():
        item: dict[str, Any] = {
            "name": kind.name,
            "display_name": kind.display_name,
            "default_threshold": default_threshold(bastion.settings, kind.name),
            "max_distance": None,
            "applies_to": [],
        }
        if issubclass(kind, DistanceSignal):
            item["max_distance"] = kind.max_distance
        if issubclass(kind, BytesHasher):
            item["applies_to"] = sorted(k.value for k in kind.applies_to)
        found.append(item)
    return SignalTypeList.model_validate({"signal_types": found})
