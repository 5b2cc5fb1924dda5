"""HMA's hasher: ``/h/hash`` (scope ``scan``). Nothing is matched or recorded."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from bastion.api.auth import BastionDep, ScanKey
from bastion.api.hma import matching_work as work
from bastion.api.hma.errors import HmaRoute
from bastion.api.hma.names import content_kind, requested_types
from bastion.api.hma.openapi import ERRORS, upload_body
from bastion.api.hma.uploads import read_upload
from bastion.api.work import fetch_media

router = APIRouter(prefix="/h", tags=["hma"], route_class=HmaRoute, responses=ERRORS)

UrlQuery = Annotated[str, Query(max_length=8192, description="http(s) URL of the media.")]
ContentTypeQuery = Annotated[
    str | None, Query(max_length=64, description="photo or video; checked against the content.")
]
TypesQuery = Annotated[
    str | None,
    Query(max_length=1024, description="Comma-separated signal types (default: HMA's)."),
]
_HASHES: dict[int | str, dict[str, Any]] = {
    200: {"description": 'Signal type name to hash, e.g. {"pdq": "f8f8..."}.'}
}


@router.get("/hash", summary="Fetch a URL and hash it", responses=_HASHES)
def hash_url(
    key: ScanKey,
    bastion: BastionDep,
    url: UrlQuery,
    content_type: ContentTypeQuery = None,
    types: TypesQuery = None,
) -> dict[str, str]:
    hint, requested = content_kind(content_type), requested_types(types)
    return work.hash_content(bastion, fetch_media(bastion, url), hint, requested)


@router.post(
    "/hash",
    summary="Hash an uploaded file (multipart part named photo, video or file)",
    responses=_HASHES,
    openapi_extra=upload_body(),
)
async def hash_upload(
    request: Request, key: ScanKey, bastion: BastionDep, types: TypesQuery = None
) -> dict[str, str]:
    requested = requested_types(types)
    upload = await read_upload(request, bastion.settings.max_upload_bytes)
    return await run_in_threadpool(work.hash_content, bastion, upload.media, upload.kind, requested)
