"""The read side of a TAXII 2.1 server: Bastion's banks as STIX 2.1 collections (``docs/taxii.md``).

One collection per bank whose TLP is not ``red`` (TLP:RED never leaves the instance). Its objects
(:mod:`bastion.share.collection_feed`) are the bank's entries as ``indicator`` objects, removed
entries as revoked indicators, and the objects they refer to. Pages are signed: the header
``X-Bastion-Signature`` carries this instance's Ed25519 signature envelope over the exact body
(``docs/taxii.md``), so a partner verifies who sent it.

Who may see what: a key that belongs to a partner (``bastion share partner``) sees the banks the
partner was granted, amber ones only when the partner is named for amber; any other key with
``taxii:read`` sees clear and green banks, amber ones with ``taxii:amber``. The key travels as
``Authorization: Bearer <key>`` or, as most TAXII clients only speak HTTP Basic, as the Basic
password (the user name is ignored). Failures are TAXII error messages, never Bastion's own error
shape, and every response is ``application/taxii+json;version=2.1``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from bastion.accounts.keys import ApiKeyInfo, require_scope
from bastion.api.routers.taxii_protocol import (
    AMBER_SCOPE,
    AMBER_TLP,
    API_ROOT_PATH,
    READ_SCOPE,
    SHARED_TLP,
    STIX_MEDIA_TYPE,
    TAXII_MEDIA_TYPE,
    CollectionNotFound,
    ObjectNotFound,
    TaxiiRoute,
    error_responses,
    taxii_response,
)
from bastion.banks.records import BankInfo, Tlp
from bastion.errors import InvalidInput, Unauthorized
from bastion.runtime import Bastion
from bastion.share import stix
from bastion.share.collection_feed import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Cursor,
    Filters,
    Item,
    page,
    parse_timestamp,
    stamp,
    version_of,
)
from bastion.share.instance import Instance, this_instance
from bastion.share.signing import InstanceIdentity, sign_bundle
from bastion.storage.share_models import ShareEventRow

log = logging.getLogger(__name__)
SIGNATURE_HEADER: Final = "X-Bastion-Signature"
router = APIRouter(
    prefix="/taxii2",
    tags=["taxii"],
    route_class=TaxiiRoute,
    responses=error_responses(
        {
            400: "a bad parameter (also for what would be a 422)",
            401: "missing or bad API key",
            403: "the key lacks taxii:read",
            406: "Accept does not allow the TAXII 2.1 media type",
        }
    ),
)


# --- who is asking ----------------------------------------------------------------------------


def get_bastion(request: Request) -> Bastion:
    """The services of the app serving ``request`` (its ``BastionProvider``, see bastion.api)."""
    bastion: Bastion = request.app.state.bastion.get()
    return bastion


def _secret(request: Request) -> str:
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
    return secret


@dataclass(frozen=True, slots=True)
class Caller:
    """A TAXII caller: its key and, when the key belongs to a partner, the partner's grants."""

    key: ApiKeyInfo
    partner_id: int | None = None
    partner_name: str = ""
    partner_amber: bool = False
    # bank id -> (can_read, can_write)
    grants: Mapping[int, tuple[bool, bool]] = field(default_factory=dict)

    @property
    def who(self) -> str:
        return self.partner_name or f"key:{self.key.prefix}"

    def may_read(self, bank: BankInfo) -> bool:
        """TLP first (red never), then the partner's grant, then amber for named partners."""
        if bank.tlp not in SHARED_TLP:
            return False
        if self.partner_id is not None:
            if not self.grants.get(bank.id, (False, False))[0]:
                return False
            return bank.tlp not in AMBER_TLP or self.partner_amber or self.key.allows(AMBER_SCOPE)
        return bank.tlp not in AMBER_TLP or self.key.allows(AMBER_SCOPE)

    def may_write(self, bank: BankInfo) -> bool:
        """Writes need ``taxii:write`` and a partner's write grant (admin keys may always)."""
        if bank.tlp not in SHARED_TLP or not self.key.allows(WRITE_SCOPE):
            return False
        if self.partner_id is not None:
            return self.grants.get(bank.id, (False, False))[1]
        return self.key.allows("admin")

    def tlps(self) -> frozenset[Tlp]:
        """The markings this caller may receive (entries may be stricter than their bank)."""
        amber = (
            self.partner_amber or self.key.allows(AMBER_SCOPE)
            if self.partner_id is not None
            else self.key.allows(AMBER_SCOPE)
        )
        return SHARED_TLP if amber else SHARED_TLP - AMBER_TLP

    def may_see(self, bank: BankInfo) -> bool:
        return self.may_read(bank) or self.may_write(bank)


WRITE_SCOPE: Final = "taxii:write"


def taxii_caller(request: Request, *, scope: str = READ_SCOPE) -> Caller:
    """The live key of the request, holding ``scope``, with its partner's grants."""
    secret = _secret(request)
    bastion = get_bastion(request)
    with bastion.db.session() as session:
        key = bastion.keys.authenticate(session, secret)
        require_scope(key, scope)
        partner = bastion.partners.for_key(session, key.id)
        if partner is None:
            return Caller(key)
        grants = bastion.partners.grants_of(session, partner.id)
        return Caller(
            key,
            partner_id=partner.id,
            partner_name=partner.name,
            partner_amber=partner.amber,
            grants={bank_id: (g.can_read, g.can_write) for bank_id, g in grants.items()},
        )


def may_read(key: ApiKeyInfo, bank: BankInfo) -> bool:
    """The TLP rule for a key that belongs to no partner."""
    return Caller(key).may_read(bank)


# --- this instance ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signing:
    instance: Instance
    identity: InstanceIdentity


@lru_cache(maxsize=8)
def _signing(data_dir: Path) -> Signing:
    return Signing(this_instance(data_dir), InstanceIdentity.load_or_create(data_dir))


def instance_of(bastion: Bastion) -> Instance:
    return _signing(bastion.settings.data_dir).instance


def signed_response(bastion: Bastion, body: Mapping[str, Any], headers: dict[str, str]) -> Response:
    """A TAXII response whose exact body bytes carry this instance's detached signature."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    envelope = sign_bundle(raw, _signing(bastion.settings.data_dir).identity).envelope
    compact = json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()
    headers[SIGNATURE_HEADER] = base64.urlsafe_b64encode(compact).decode().rstrip("=")
    return Response(raw, media_type=TAXII_MEDIA_TYPE, headers=headers)


def collection_id(instance: str, bank: str) -> str:
    """The collection id of ``bank``: a UUIDv5 of the instance and the bank name."""
    return str(uuid.uuid5(stix.NAMESPACE, f"taxii-collection/{instance}/{bank}"))


def collection_resource(instance: str, bank: BankInfo, caller: Caller) -> dict[str, Any]:
    description = bank.description or f"Entries of the {bank.kind.value} bank {bank.name!r}."
    return {
        "id": collection_id(instance, bank.name),
        "title": bank.name,
        "description": f"{description} TLP:{bank.tlp.value.upper()}.",
        "can_read": caller.may_read(bank),
        "can_write": caller.may_write(bank),
        "media_types": [STIX_MEDIA_TYPE],
    }


def visible_banks(session: Session, bastion: Bastion, caller: Caller) -> list[BankInfo]:
    return [bank for bank in bastion.banks.list(session) if caller.may_see(bank)]


def find_bank(session: Session, bastion: Bastion, caller: Caller, wanted: str) -> BankInfo:
    """The bank behind collection ``wanted``; 404 for unknown ids and for banks the caller may
    not see (the same answer, so a key cannot learn that a red or amber bank exists)."""
    instance = instance_of(bastion).name
    for bank in visible_banks(session, bastion, caller):
        if collection_id(instance, bank.name) == wanted.lower():
            return bank
    raise CollectionNotFound(f"no collection {wanted[:64]!r}")


# --- filters ----------------------------------------------------------------------------------


def _values(request: Request, name: str) -> list[str] | None:
    raw = request.query_params.getlist(name)
    if not raw:
        return None
    return [part.strip() for value in raw for part in value.split(",") if part.strip()]


def filters_from(request: Request, caller: Caller, *, object_id: str | None = None) -> Filters:
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
    after = Cursor.decode(query["next"]) if query.get("next") else None
    versions = tuple(_values(request, "match[version]") or ("last",))
    for version in versions:
        if version not in ("last", "first", "all"):
            parse_timestamp(version, "match[version]")
    ids = _values(request, "match[id]")
    if object_id is not None:
        ids = [object_id]
    types = _values(request, "match[type]")
    specs = _values(request, "match[spec_version]")
    return Filters(
        added_after=added_after,
        limit=min(limit, MAX_LIMIT),
        after=after,
        ids=frozenset(ids) if ids is not None else None,
        types=frozenset(types) if types is not None else None,
        versions=versions,
        spec_versions=frozenset(specs) if specs is not None else None,
        tlps=caller.tlps(),
    )


def _page_headers(items: list[Item]) -> dict[str, str]:
    if not items:
        return {}
    return {
        "X-TAXII-Date-Added-First": stamp(items[0].date_added),
        "X-TAXII-Date-Added-Last": stamp(items[-1].date_added),
    }


@dataclass(frozen=True, slots=True)
class Served:
    items: list[Item]
    more: bool
    cursor: Cursor


def _envelope(bastion: Bastion, served: Served, key: str, entry: Callable[[Item], Any]) -> Response:
    body: dict[str, Any] = {"more": served.more}
    if served.more:
        body["next"] = served.cursor.encode()
    if served.items:
        body[key] = [entry(item) for item in served.items]
    return signed_response(bastion, body, _page_headers(served.items))


def record_served(bastion: Bastion, caller: Caller, bank: BankInfo, served: Served) -> None:
    """What was shared with whom: one row per page that carried objects."""
    if not served.items:
        return
    with bastion.db.session() as session:
        session.add(
            ShareEventRow(
                direction="out",
                channel="taxii",
                partner_id=caller.partner_id,
                who=caller.who,
                bank_id=bank.id,
                objects=len(served.items),
            )
        )


# --- routes -----------------------------------------------------------------------------------


@router.get("/", summary="TAXII discovery", response_class=Response)
def discovery(request: Request) -> Response:
    taxii_caller(request)
    root = str(request.base_url).rstrip("/") + API_ROOT_PATH
    return taxii_response(
        {
            "title": "Bastion TAXII server",
            "description": "Bastion's hash banks as STIX 2.1 indicators, with partner feedback.",
            "default": root,
            "api_roots": [root],
        }
    )


@router.get("/api/", summary="TAXII API root", response_class=Response)
def api_root(request: Request) -> Response:
    taxii_caller(request)
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
    caller = taxii_caller(request)
    bastion = get_bastion(request)
    instance = instance_of(bastion).name
    with bastion.db.session() as session:
        banks = visible_banks(session, bastion, caller)
    found = [collection_resource(instance, bank, caller) for bank in banks]
    return taxii_response({"collections": found} if found else {})


@router.get(
    "/api/collections/{collection_id}/", summary="TAXII collection", response_class=Response
)
def collection(request: Request, collection_id: str) -> Response:
    caller = taxii_caller(request)
    bastion = get_bastion(request)
    with bastion.db.session() as session:
        bank = find_bank(session, bastion, caller, collection_id)
    return taxii_response(collection_resource(instance_of(bastion).name, bank, caller))


def _collection_page(
    request: Request, collection_id: str, object_id: str | None = None
) -> tuple[Bastion, Served]:
    caller = taxii_caller(request)
    filters = filters_from(request, caller, object_id=object_id)
    bastion = get_bastion(request)
    with bastion.db.session() as session:
        bank = find_bank(session, bastion, caller, collection_id)
        if not caller.may_read(bank):
            raise CollectionNotFound(f"collection {collection_id[:64]!r} is write-only for you")
        items, more, cursor = page(session, instance_of(bastion), bank, filters)
    if object_id is not None and not items:
        raise ObjectNotFound(f"collection has no object {object_id[:80]!r}")
    served = Served(items, more, cursor)
    record_served(bastion, caller, bank, served)
    return bastion, served


@router.get(
    "/api/collections/{collection_id}/objects/", summary="TAXII objects", response_class=Response
)
def objects(request: Request, collection_id: str) -> Response:
    bastion, served = _collection_page(request, collection_id)
    return _envelope(bastion, served, "objects", lambda item: item.obj)


def _manifest_record(item: Item) -> dict[str, Any]:
    return {
        "id": item.obj["id"],
        "date_added": stamp(item.date_added),
        "version": version_of(item.obj),
        "media_type": STIX_MEDIA_TYPE,
    }


@router.get(
    "/api/collections/{collection_id}/manifest/", summary="TAXII manifest", response_class=Response
)
def manifest(request: Request, collection_id: str) -> Response:
    bastion, served = _collection_page(request, collection_id)
    return _envelope(bastion, served, "objects", _manifest_record)


@router.get(
    "/api/collections/{collection_id}/objects/{object_id}/",
    summary="TAXII object",
    response_class=Response,
)
def single_object(request: Request, collection_id: str, object_id: str) -> Response:
    bastion, served = _collection_page(request, collection_id, object_id)
    return _envelope(bastion, served, "objects", lambda item: item.obj)


@router.get(
    "/api/collections/{collection_id}/objects/{object_id}/versions/",
    summary="TAXII object versions",
    response_class=Response,
)
def object_versions(request: Request, collection_id: str, object_id: str) -> Response:
    bastion, served = _collection_page(request, collection_id, object_id)
    return _envelope(bastion, served, "versions", lambda item: version_of(item.obj))
