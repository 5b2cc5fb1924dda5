"""The write side of the TAXII 2.1 server: ``POST .../objects/`` with status resources.

Partners with a write grant send sightings ("seen this too") and opinions (disputes) about our
indicators, and, where the grant allows it, indicators of their own
(:class:`bastion.share.inbox.Inbox`). The answer is a status resource (``202``); every object is
checked on its own and listed under ``successes`` or ``failures``. Unknown paths under
``/taxii2/`` answer with a TAXII error message too (:data:`fallback_router`, included last).
"""

from __future__ import annotations

import json
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match

from bastion.api.errors import MethodNotAllowed
from bastion.api.routers.taxii import (
    WRITE_SCOPE,
    Caller,
    find_bank,
    get_bastion,
    instance_of,
    taxii_caller,
)
from bastion.api.routers.taxii_protocol import (
    READ_SCOPE,
    TAXII_MEDIA_TYPE,
    TaxiiRoute,
    error_responses,
    taxii_response,
)
from bastion.errors import (
    FeedTooLarge,
    Forbidden,
    InvalidInput,
    NotFound,
    UnsupportedMedia,
)
from bastion.share.inbox import MAX_OBJECTS_PER_POST, Inbox, Sender
from bastion.storage.share_models import TaxiiStatusRow

router = APIRouter(
    prefix="/taxii2",
    tags=["taxii"],
    route_class=TaxiiRoute,
    responses=error_responses(
        {
            400: "the body is not a TAXII envelope",
            401: "missing or bad API key",
            403: "no write grant for this collection",
            413: "more objects or bytes than one request may carry",
            415: "the body is not application/taxii+json",
        }
    ),
)
fallback_router = APIRouter(prefix="/taxii2", route_class=TaxiiRoute, include_in_schema=False)
_POSTED_TYPES: Final = ("application/taxii+json", "application/stix+json", "application/json")


def status_resource(row: TaxiiStatusRow) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "status": row.status,
        "request_timestamp": row.request_timestamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "total_count": row.total_count,
        "success_count": row.success_count,
        "failure_count": row.failure_count,
        "pending_count": row.pending_count,
    }
    if row.successes:
        body["successes"] = row.successes
    if row.failures:
        body["failures"] = row.failures
    return body


def _objects_of(raw: bytes, max_bytes: int) -> list[Any]:
    if len(raw) > max_bytes:
        raise FeedTooLarge(f"the body is larger than {max_bytes} bytes", max_bytes=max_bytes)
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not JSON") from None
    if not isinstance(envelope, dict):
        raise InvalidInput("the body must be a TAXII envelope: {'objects': [...]}")
    objects = envelope.get("objects")
    if not isinstance(objects, list):
        raise InvalidInput("the envelope has no 'objects' list")
    if len(objects) > MAX_OBJECTS_PER_POST:
        raise FeedTooLarge(
            f"at most {MAX_OBJECTS_PER_POST} objects per request; send them in parts",
            max_objects=MAX_OBJECTS_PER_POST,
        )
    return objects


@router.post(
    "/api/collections/{collection_id}/objects/",
    summary="TAXII add objects",
    response_class=Response,
    status_code=202,
)
async def add_objects(request: Request, collection_id: str) -> Response:
    # Async only to read the body; the key lookup, parsing and database work run in the thread
    # pool, so a large post never stalls other requests.
    caller = await run_in_threadpool(taxii_caller, request, scope=WRITE_SCOPE)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in _POSTED_TYPES:
        raise UnsupportedMedia(
            f"send the envelope as {TAXII_MEDIA_TYPE}", accepted=TAXII_MEDIA_TYPE
        )
    raw = await request.body()
    body = await run_in_threadpool(_receive, request, caller, collection_id, raw)
    return taxii_response(body, status=202)


def _receive(request: Request, caller: Caller, collection_id: str, raw: bytes) -> dict[str, Any]:
    bastion = get_bastion(request)
    objects = _objects_of(raw, bastion.settings.max_upload_bytes)
    with bastion.db.session() as session:
        bank = find_bank(session, bastion, caller, collection_id)
        if not caller.may_write(bank):
            raise Forbidden("this collection is read-only for you (no write grant)")
        row = Inbox(bastion.audit, bastion.banks).receive(
            session,
            instance=instance_of(bastion),
            bank=bank,
            objects=objects,
            sender=Sender(caller.who, caller.partner_id, caller.key.id),
            # Entries from a partner come only through an explicit write grant, never from a
            # key that merely holds taxii:write.
            may_add_entries=caller.partner_id is not None,
        )
        return status_resource(row)


@router.get("/api/status/{status_id}/", summary="TAXII status", response_class=Response)
def get_status(request: Request, status_id: str) -> Response:
    caller = taxii_caller(request, scope=READ_SCOPE)
    bastion = get_bastion(request)
    with bastion.db.session() as session:
        row = session.get(TaxiiStatusRow, status_id[:36])
        # Another key's status is as unknown as a missing one.
        if row is None or (row.api_key_id != caller.key.id and not caller.key.allows("admin")):
            raise NotFound(f"no status {status_id[:40]!r}")
        body = status_resource(row)
    return taxii_response(body)


@fallback_router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
)
def unknown_taxii_path(request: Request, rest: str) -> Response:
    """A TAXII error for paths and methods the server does not have."""
    for route in request.app.router.routes:
        if getattr(route, "endpoint", None) is unknown_taxii_path:
            continue
        match, _ = route.matches(request.scope)
        if match is Match.PARTIAL:
            raise MethodNotAllowed(f"{request.method} is not allowed on {request.url.path[:120]}")
    raise NotFound(f"no TAXII resource at /taxii2/{rest[:120]}")
