"""The read side of a TAXII 2.1 server: Bastion's banks as STIX 2.1 collections (``docs/taxii.md``).

One collection per bank whose TLP is not ``red`` (TLP:RED never leaves the instance). Its objects
are the bank's entries as ``indicator`` objects (:func:`bastion.share.stix.entry_to_indicator`),
preceded by the objects they refer to: the project and instance identities, the extension
definition and the bank's TLP marking definition. Objects are ordered by when they were added
(the entry id, which grows with every insert); a page's ``next`` cursor is the base64url of the
last position sent.

Every route needs an API key with ``taxii:read``; ``amber`` and ``amber+strict`` banks are seen
only by keys that also hold ``taxii:amber``. The key travels as ``Authorization: Bearer <key>`` or,
as most TAXII clients only speak HTTP Basic, as the Basic password (the user name is ignored).
Failures are TAXII error messages (``{"title", "description", "http_status"}``), never Bastion's
own error shape, and every response is ``application/taxii+json;version=2.1``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.accounts.keys import ApiKeyInfo, require_scope
from bastion.api.routers.taxii_protocol import (
    AMBER_SCOPE,
    AMBER_TLP,
    API_ROOT_PATH,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    READ_SCOPE,
    SCAN_CHUNK,
    SHARED_TLP,
    STIX_MEDIA_TYPE,
    TAXII_MEDIA_TYPE,
    CollectionNotFound,
    ObjectNotFound,
    TaxiiErrorBody,
    TaxiiRoute,
    taxii_response,
)
from bastion.banks.records import BankInfo
from bastion.banks.service import entry_info
from bastion.errors import InvalidInput, Unauthorized
from bastion.runtime import Bastion
from bastion.share import stix
from bastion.share.signing import InstanceIdentity
from bastion.storage.models import BankEntryRow

_ERROR_DOC: Final = {"model": TaxiiErrorBody, "content": {TAXII_MEDIA_TYPE: {}}}
router = APIRouter(
    prefix="/taxii2",
    tags=["taxii"],
    route_class=TaxiiRoute,
    responses={
        400: {**_ERROR_DOC, "description": "a bad parameter (also for what would be a 422)"},
        401: {**_ERROR_DOC, "description": "missing or bad API key"},
        403: {**_ERROR_DOC, "description": "the key lacks taxii:read"},
        406: {**_ERROR_DOC, "description": "Accept does not allow the TAXII 2.1 media type"},
        422: {**_ERROR_DOC, "description": "never sent: parameter errors are 400"},
    },
)


# --- who is asking ----------------------------------------------------------------------------


def get_bastion(request: Request) -> Bastion:
    """The services of the app serving ``request`` (its ``BastionProvider``, see bastion.api)."""
    bastion: Bastion = request.app.state.bastion.get()
    return bastion


def taxii_key(request: Request) -> ApiKeyInfo:
    """The live key of the request (Bearer, bare, or the HTTP Basic password) holding taxii:read."""
    authorization = request.headers.get("authorization", "")
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(rest.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("malformed HTTP Basic credentials") from None
        secret = decoded.partition(":")[2]
        if not secret:
            raise Unauthorized("send the API key as the HTTP Basic password")
    elif scheme.lower() == "bearer" and rest.strip():
        secret = rest.strip()
    else:
        secret = authorization.strip()  # a bare key, as the rest of the API accepts
    if not secret:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>' or HTTP Basic")
    bastion = get_bastion(request)
    with bastion.db.session() as session:
        key = bastion.keys.authenticate(session, secret)
    require_scope(key, READ_SCOPE)
    return key


def may_read(key: ApiKeyInfo, bank: BankInfo) -> bool:
    """The TLP rule: clear/green to every taxii:read key, amber only with taxii:amber, red never."""
    if bank.tlp not in SHARED_TLP:
        return False
    return bank.tlp not in AMBER_TLP or key.allows(AMBER_SCOPE)


# --- this instance ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Instance:
    name: str  # stable: this instance's signing-key fingerprint
    identity: dict[str, Any]

    @property
    def producer(self) -> str:
        return str(self.identity["id"])


@lru_cache(maxsize=8)
def _instance(data_dir: Path) -> Instance:
    fingerprint = InstanceIdentity.load_or_create(data_dir).fingerprint
    name = f"Bastion instance {fingerprint[:16]}"
    return Instance(name=fingerprint, identity=stix.identity(name, instance=fingerprint))


def instance_of(bastion: Bastion) -> Instance:
    return _instance(bastion.settings.data_dir)


def collection_id(instance: str, bank: str) -> str:
    """The collection id of ``bank``: a UUIDv5 of the instance and the bank name."""
    return str(uuid.uuid5(stix.NAMESPACE, f"taxii-collection/{instance}/{bank}"))


def collection_resource(instance: str, bank: BankInfo) -> dict[str, Any]:
    description = bank.description or f"Entries of the {bank.kind.value} bank {bank.name!r}."
    return {
        "id": collection_id(instance, bank.name),
        "title": bank.name,
        "description": f"{description} TLP:{bank.tlp.value.upper()}.",
        "can_read": True,
        "can_write": False,
        "media_types": [STIX_MEDIA_TYPE],
    }


def readable_banks(session: Session, bastion: Bastion, key: ApiKeyInfo) -> list[BankInfo]:
    return [bank for bank in bastion.banks.list(session) if may_read(key, bank)]


def find_bank(session: Session, bastion: Bastion, key: ApiKeyInfo, wanted: str) -> BankInfo:
    """The bank behind collection ``wanted``; 404 for unknown ids and for banks the key may not see
    (the same answer, so a key cannot learn that a red or amber bank exists)."""
    instance = instance_of(bastion).name
    for bank in readable_banks(session, bastion, key):
        if collection_id(instance, bank.name) == wanted.lower():
            return bank
    raise CollectionNotFound(f"no collection {wanted[:64]!r}")


# --- filters ----------------------------------------------------------------------------------


def parse_timestamp(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} is not a timestamp: {value[:40]!r}", parameter=name) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def decode_cursor(value: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        if not raw.startswith("p"):
            raise ValueError(raw)
        return int(raw[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("next is not a cursor this server gave out", parameter="next") from None


def _values(request: Request, name: str) -> list[str] | None:
    raw = request.query_params.getlist(name)
    if not raw:
        return None
    return [part.strip() for value in raw for part in value.split(",") if part.strip()]


@dataclass(frozen=True, slots=True)
class Filters:
    added_after: datetime | None = None
    limit: int = DEFAULT_LIMIT
    after: int | None = None  # the position a ``next`` cursor names
    ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    versions: tuple[str, ...] = ("last",)
    spec_versions: frozenset[str] | None = None

    @classmethod
    def from_request(cls, request: Request, *, object_id: str | None = None) -> Filters:
        query = request.query_params
        added_after = None
        if "added_after" in query:
            added_after = parse_timestamp(query["added_after"], "added_after")
        limit = DEFAULT_LIMIT
        if "limit" in query:
            try:
                limit = int(query["limit"])
            except ValueError:
                raise InvalidInput("limit must be a whole number", parameter="limit") from None
            if limit < 1:
                raise InvalidInput("limit must be at least 1", parameter="limit")
        after = decode_cursor(query["next"]) if query.get("next") else None
        versions = tuple(_values(request, "match[version]") or ("last",))
        for version in versions:
            if version not in ("last", "first", "all"):
                parse_timestamp(version, "match[version]")
        ids = _values(request, "match[id]")
        if object_id is not None:
            ids = [object_id]
        types = _values(request, "match[type]")
        specs = _values(request, "match[spec_version]")
        return cls(
            added_after=added_after,
            limit=min(limit, MAX_LIMIT),
            after=after,
            ids=frozenset(ids) if ids is not None else None,
            types=frozenset(types) if types is not None else None,
            versions=versions,
            spec_versions=frozenset(specs) if specs is not None else None,
        )

    def admits(self, obj: Mapping[str, Any]) -> bool:
        """The match[...] filters on one object (each object here has exactly one version)."""
        if self.ids is not None and obj["id"] not in self.ids:
            return False
        if self.types is not None and obj["type"] not in self.types:
            return False
        if self.spec_versions is not None and obj.get("spec_version") not in self.spec_versions:
            return False
        if any(v in ("last", "first", "all") for v in self.versions):
            return True
        stamp = parse_timestamp(version_of(obj), "version")
        return any(parse_timestamp(v, "match[version]") == stamp for v in self.versions)


def version_of(obj: Mapping[str, Any]) -> str:
    return str(obj.get("modified") or obj["created"])


# --- objects of a collection ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    position: int  # the order objects were added in: supporting objects first, then entry ids
    date_added: datetime
    obj: dict[str, Any]


def _supporting(instance: Instance, bank: BankInfo) -> list[Item]:
    """The objects every indicator of ``bank`` refers to, dated when the bank was created."""
    objects = [
        stix.project_identity(),
        stix.extension_definition(),
        instance.identity,
        stix.tlp_marking(bank.tlp),
    ]
    added = bank.created_at
    return [Item(index - len(objects), added, obj) for index, obj in enumerate(objects)]


def _stamp(moment: datetime) -> str:
    """A ``date_added`` timestamp: UTC, microsecond precision (so ``added_after`` with a value
    taken from a page never repeats or skips an object), ``Z``."""
    return _aware(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _entry_items(
    session: Session, instance: Instance, bank: BankInfo, filters: Filters
) -> Iterator[Item]:
    """The bank's entries as indicators, oldest first, from after the cursor."""
    if filters.types is not None and "indicator" not in filters.types:
        return
    start = max(filters.after or 0, 0)
    wanted: set[int] | None = None
    if filters.ids is not None:
        # Indicator ids are one-way (UUIDv5 of the entry id): find the entries they name.
        wanted = set()
        cursor = start
        while True:
            chunk = list(
                session.scalars(
                    select(BankEntryRow.id)
                    .where(BankEntryRow.bank_id == bank.id, BankEntryRow.id > cursor)
                    .order_by(BankEntryRow.id)
                    .limit(SCAN_CHUNK)
                )
            )
            if not chunk:
                break
            wanted.update(
                entry_id
                for entry_id in chunk
                if stix.indicator_id(instance.name, bank.name, entry_id) in filters.ids
            )
            cursor = chunk[-1]
        if not wanted:
            return
    cursor = start
    while True:
        query = (
            select(BankEntryRow)
            .where(BankEntryRow.bank_id == bank.id, BankEntryRow.id > cursor)
            .order_by(BankEntryRow.id)
            .limit(filters.limit + 1)
        )
        if wanted is not None:
            query = query.where(BankEntryRow.id.in_(sorted(wanted)))
        if filters.added_after is not None:
            query = query.where(BankEntryRow.added_at > filters.added_after)
        rows = list(session.scalars(query))
        if not rows:
            return
        for row in rows:
            entry = entry_info(row, bank.name)
            obj = stix.entry_to_indicator(
                entry, bank, producer=instance.producer, instance=instance.name
            )
            yield Item(row.id, _aware(row.added_at), obj)
        cursor = rows[-1].id


def page(
    session: Session, instance: Instance, bank: BankInfo, filters: Filters
) -> tuple[list[Item], bool]:
    """Up to ``filters.limit`` objects passing the filters, and whether more follow."""
    found: list[Item] = []

    def candidates() -> Iterator[Item]:
        if filters.after is None or filters.after < 0:
            for item in _supporting(instance, bank):
                if filters.after is not None and item.position <= filters.after:
                    continue
                if filters.added_after is not None and item.date_added <= filters.added_after:
                    continue
                yield item
        yield from _entry_items(session, instance, bank, filters)

    for item in candidates():
        if not filters.admits(item.obj):
            continue
        if len(found) == filters.limit:
            return found, True
        found.append(item)
    return found, False


def _page_headers(items: list[Item]) -> dict[str, str]:
    if not items:
        return {}
    return {
        "X-TAXII-Date-Added-First": _stamp(items[0].date_added),
        "X-TAXII-Date-Added-Last": _stamp(items[-1].date_added),
    }


def _envelope(items: list[Item], more: bool, key: str, entry: Callable[[Item], Any]) -> Response:
    body: dict[str, Any] = {"more": more}
    if more:
        body["next"] = encode_cursor(items[-1].position)
    if items:
        body[key] = [entry(item) for item in items]
    return taxii_response(body, headers=_page_headers(items))


# --- routes -----------------------------------------------------------------------------------


@router.get("/", summary="TAXII discovery", response_class=Response)
def discovery(request: Request) -> Response:
    taxii_key(request)
    root = str(request.base_url).rstrip("/") + API_ROOT_PATH
    return taxii_response(
        {
            "title": "Bastion TAXII server",
            "description": "Bastion's hash banks as STIX 2.1 indicators (read only).",
            "default": root,
            "api_roots": [root],
        }
    )


@router.get("/api/", summary="TAXII API root", response_class=Response)
def api_root(request: Request) -> Response:
    taxii_key(request)
    bastion = get_bastion(request)
    return taxii_response(
        {
            "title": "Bastion banks",
            "description": "One collection per bank shared beyond this instance.",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": bastion.settings.max_upload_bytes,
        }
    )


@router.get("/api/collections/", summary="TAXII collections", response_class=Response)
def collections(request: Request) -> Response:
    key = taxii_key(request)
    bastion = get_bastion(request)
    instance = instance_of(bastion).name
    with bastion.db.session() as session:
        banks = readable_banks(session, bastion, key)
    found = [collection_resource(instance, bank) for bank in banks]
    return taxii_response({"collections": found} if found else {})


@router.get(
    "/api/collections/{collection_id}/", summary="TAXII collection", response_class=Response
)
def collection(request: Request, collection_id: str) -> Response:
    key = taxii_key(request)
    bastion = get_bastion(request)
    with bastion.db.session() as session:
        bank = find_bank(session, bastion, key, collection_id)
    return taxii_response(collection_resource(instance_of(bastion).name, bank))


def _collection_page(
    request: Request, collection_id: str, object_id: str | None = None
) -> tuple[list[Item], bool]:
    key = taxii_key(request)
    filters = Filters.from_request(request, object_id=object_id)
    bastion = get_bastion(request)
    with bastion.db.session() as session:
        bank = find_bank(session, bastion, key, collection_id)
        items, more = page(session, instance_of(bastion), bank, filters)
    if object_id is not None and not items:
        raise ObjectNotFound(f"collection has no object {object_id[:80]!r}")
    return items, more


@router.get(
    "/api/collections/{collection_id}/objects/", summary="TAXII objects", response_class=Response
)
def objects(request: Request, collection_id: str) -> Response:
    items, more = _collection_page(request, collection_id)
    return _envelope(items, more, "objects", lambda item: item.obj)


def _manifest_record(item: Item) -> dict[str, Any]:
    return {
        "id": item.obj["id"],
        "date_added": _stamp(item.date_added),
        "version": version_of(item.obj),
        "media_type": STIX_MEDIA_TYPE,
    }


@router.get(
    "/api/collections/{collection_id}/manifest/", summary="TAXII manifest", response_class=Response
)
def manifest(request: Request, collection_id: str) -> Response:
    items, more = _collection_page(request, collection_id)
    return _envelope(items, more, "objects", _manifest_record)


@router.get(
    "/api/collections/{collection_id}/objects/{object_id}/",
    summary="TAXII object",
    response_class=Response,
)
def single_object(request: Request, collection_id: str, object_id: str) -> Response:
    items, more = _collection_page(request, collection_id, object_id)
    return _envelope(items, more, "objects", lambda item: item.obj)


@router.get(
    "/api/collections/{collection_id}/objects/{object_id}/versions/",
    summary="TAXII object versions",
    response_class=Response,
)
def object_versions(request: Request, collection_id: str, object_id: str) -> Response:
    items, more = _collection_page(request, collection_id, object_id)
    return _envelope(items, more, "versions", lambda item: version_of(item.obj))
