"""HMA's matcher: ``/m/lookup``, ``/m/raw_lookup``, ``/m/compare``, ``/m/index/status``.

Every route needs the ``scan`` scope.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from starlette.concurrency import run_in_threadpool

from bastion.api.auth import BastionDep, ScanKey
from bastion.api.hma import matching_work as work
from bastion.api.hma.compare import compare
from bastion.api.hma.errors import HmaRoute
from bastion.api.hma.names import (
    HMA_NAME,
    MAX_TYPES,
    bank_filter,
    content_kind,
    hma_type,
    requested_types,
    to_bastion,
)
from bastion.api.hma.openapi import ERRORS, upload_body
from bastion.api.hma.schemas import IndexStatus, RawLookupResponse
from bastion.api.hma.uploads import read_upload
from bastion.api.work import fetch_media
from bastion.errors import InvalidInput

router = APIRouter(prefix="/m", tags=["hma"], route_class=HmaRoute, responses=ERRORS)

SignalQuery = Annotated[str, Query(max_length=1_000_000, description="The hash.")]
SignalTypeQuery = Annotated[str, Query(max_length=64, description="pdq, video_md5, vpdq...")]
BanksQuery = Annotated[
    str | None, Query(max_length=100_000, description="Comma-separated bank names to search.")
]
SeedQuery = Annotated[
    str | None, Query(max_length=1024, description="Accepted, not used: see the HMA docs.")
]
BypassQuery = Annotated[bool, Query(description="Accepted, not used: see the HMA docs.")]
TypesQuery = Annotated[
    str | None, Query(max_length=1024, description="Comma-separated signal types to hash.")
]
_LOOKUP: dict[int | str, dict[str, Any]] = {
    200: {
        "description": 'Signal type -> bank -> [{"bank_content_id": 1, "distance": "0"}]; '
        "with signal_type given, just bank -> matches."
    }
}


def _options(banks: str | None) -> work.LookupOptions:
    # HMA's seed and bypass_coinflip are accepted and not used: Bastion picks the share of
    # content a partly enabled bank applies to by the content itself (see the docs).
    return work.LookupOptions(banks=bank_filter(banks))


@router.get(
    "/raw_lookup",
    response_model=RawLookupResponse,
    # Bastion's extra fields appear only on robust matches; HMA's answer stays as HMA's.
    response_model_exclude_none=True,
    summary="Look a hash up in the index (content ids; nothing recorded)",
)
def raw_lookup(
    key: ScanKey,
    bastion: BastionDep,
    signal_type: SignalTypeQuery,
    signal: SignalQuery,
    banks: BanksQuery = None,
    include_distance: bool = False,
) -> dict[str, Any]:
    item = hma_type(signal_type)
    found = work.raw_lookup(bastion, item, signal, bank_filter(banks), include_distance)
    return {"matches": found}


@router.get("/lookup", summary="Look up a hash, or fetch a URL and look it up", responses=_LOOKUP)
def lookup(
    key: ScanKey,
    bastion: BastionDep,
    url: Annotated[str | None, Query(max_length=8192)] = None,
    content_type: Annotated[str | None, Query(max_length=64)] = None,
    types: TypesQuery = None,
    signal: Annotated[str | None, Query(max_length=1_000_000)] = None,
    signal_type: Annotated[str | None, Query(max_length=64)] = None,
    banks: BanksQuery = None,
    seed: SeedQuery = None,
    bypass_coinflip: BypassQuery = False,
) -> dict[str, Any]:
    options = _options(banks)
    if url:
        hint, requested = content_kind(content_type), requested_types(types)
        selected = hma_type(signal_type) if signal_type is not None else None
        media = fetch_media(bastion, url)
        found = work.lookup_media(bastion, media, hint, requested, options, source="url")
        return dict(found.get(selected.name, {})) if selected is not None else dict(found)
    if not signal or not signal_type:
        raise InvalidInput("Either url or both signal and signal_type are required")
    return dict(work.lookup_signal(bastion, hma_type(signal_type), signal, options))


@router.post(
    "/lookup",
    summary="Hash an uploaded file and look it up",
    responses=_LOOKUP,
    openapi_extra=upload_body(),
)
async def lookup_upload(
    request: Request,
    key: ScanKey,
    bastion: BastionDep,
    types: TypesQuery = None,
    banks: BanksQuery = None,
    seed: SeedQuery = None,
    bypass_coinflip: BypassQuery = False,
) -> dict[str, Any]:
    options, requested = _options(banks), requested_types(types)
    upload = await read_upload(request, bastion.settings.max_upload_bytes)
    found = await run_in_threadpool(
        work.lookup_media,
        bastion,
        upload.media,
        upload.kind,
        requested,
        options,
        source="upload",
    )
    return dict(found)


@router.get(
    "/index/status",
    response_model=dict[str, IndexStatus],
    summary="Size and freshness of each signal type's index",
)
def index_status(
    key: ScanKey,
    bastion: BastionDep,
    signal_type: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, IndexStatus]:
    held = bastion.scanner.cache.status()
    if signal_type is not None:
        item = hma_type(signal_type)
        wanted = {item.name: item.bastion_type}
    else:
        wanted = {name: bastion_type for bastion_type, name in HMA_NAME.items()}
    answer: dict[str, IndexStatus] = {}
    for name, bastion_type in wanted.items():
        status = held.get(bastion_type)
        if status is None:
            answer[name] = IndexStatus(present=False, built_to=-1, size=0)
        else:
            built = int(datetime.fromisoformat(status["updated_at"]).timestamp())
            answer[name] = IndexStatus(present=True, built_to=built, size=int(status["size"]))
    return answer


@router.post("/compare", summary="Compare pairs of hashes: [is_match, similarity] per type")
def compare_hashes(
    key: ScanKey,
    bastion: BastionDep,
    body: Annotated[Any, Body(description='{"pdq": ["<hash>", "<hash>"], ...}')],
) -> dict[str, Any]:
    if not isinstance(body, dict) or not body:
        raise InvalidInput('Request input was not a dict: send {"<signal type>": [a, b]}')
    if len(body) > MAX_TYPES:
        raise InvalidInput(f"at most {MAX_TYPES} signal types per comparison")
    results: dict[str, Any] = {}
    for name, pair in body.items():
        item = hma_type(name)
        if not isinstance(pair, list) or len(pair) != 2:
            raise InvalidInput(f"Comparison hash list for {name} must be exactly 2 hashes")
        left, right = (to_bastion(item, value) for value in pair)
        results[name] = compare(bastion.settings, item.bastion_type, left, right)
    return results
