"""A TAXII 2.1 client for partner feeds: a remote collection read as a :class:`FeedSource`.

Written on httpx rather than a TAXII library so that every request goes through the same guards
as the rest of Bastion's outbound traffic: the address policy (no private or loopback peers
unless ``share_allow_private``), a timeout, and a byte cap on every answer read while it streams.
Whatever a partner's server sends (garbage, a wrong envelope, an endless body, pages that repeat
or go backwards) becomes one of the stable ``remote_*`` / ``feed_too_large`` errors, never a
traceback, and never a half-applied page: the page is refused whole before anything is yielded.

A peer Bastion signs every page: the ``X-Bastion-Signature`` header holds the base64url (no
padding) of the detached signature envelope of :func:`bastion.share.signing.sign_bundle` over
the exact body bytes. With ``require_signature`` a page without a valid signature by a trusted
signer (the partner's named signer, when one is set) is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx

from bastion.banks.records import Tlp
from bastion.errors import (
    BastionError,
    FeedTooLarge,
    FetchFailed,
    FetchTimeout,
    InvalidInput,
    RemoteFeedInvalid,
    RemoteRefused,
    RemoteUnavailable,
    SignatureMalformed,
    SignerUntrusted,
    StixUnsupported,
)
from bastion.ingest.address_policy import (
    IPAddress,
    Target,
    allowed_addresses,
    blocked_reason,
    parse_target,
    system_resolver,
)
from bastion.settings import Settings
from bastion.share import stix
from bastion.share.feeds import Feedback, FeedItem, FeedPage
from bastion.share.instance import this_instance
from bastion.share.signing import TrustStore, verify_bundle

TAXII_MEDIA_TYPE: Final = "application/taxii+json;version=2.1"
SIGNATURE_HEADER: Final = "X-Bastion-Signature"
DATE_ADDED_LAST: Final = "X-TAXII-Date-Added-Last"
# A poll reads at most this many pages; the next poll goes on from the checkpoint.
MAX_PAGES_PER_POLL: Final = 1000
_USER_AGENT: Final = "Bastion-TAXII-client/1"
_MAX_ID_CHARS: Final = 255


def _root(api_root: str) -> str:
    return api_root if api_root.endswith("/") else api_root + "/"


def _auth_headers(credentials: Mapping[str, str]) -> dict[str, str]:
    """``api_key`` as a Bearer token, or ``username``/``password`` as HTTP Basic; none otherwise."""
    if credentials.get("api_key"):
        return {"Authorization": f"Bearer {credentials['api_key']}"}
    if credentials.get("username") or credentials.get("password"):
        pair = f"{credentials.get('username', '')}:{credentials.get('password', '')}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")}
    return {}


def parse_date_added(value: str) -> datetime | None:
    """A ``date_added`` header as an aware datetime; None when absent or unreadable."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _RedIndicator(Exception):
    """A TLP:RED indicator: a well-behaved server never sends one, so its whole page is refused."""


class TaxiiHttp:
    """GET and POST to one partner's TAXII server, with the address policy, timeout and cap."""

    def __init__(self, credentials: Mapping[str, str], settings: Settings) -> None:
        self._headers = _auth_headers(credentials)
        self._settings = settings

    def __repr__(self) -> str:
        return "TaxiiHttp()"  # never the credentials

    def _addresses(self, target: Target) -> list[IPAddress]:
        try:
            return allowed_addresses(
                target,
                allow_private=self._settings.share_allow_private,
                resolver=system_resolver,
                address_check=blocked_reason,
                timeout=self._settings.share_timeout_seconds,
            )
        except (FetchFailed, FetchTimeout) as exc:
            raise RemoteUnavailable(f"cannot reach {target.host}: {exc.detail}") from None

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, httpx.Headers, bytes]:
        """Status, headers and body (at most ``share_max_page_bytes``) of one exchange.

        Raises ``UrlBlocked``, ``RemoteUnavailable`` (unreachable, timed out, 5xx),
        ``RemoteRefused`` (401, 403), ``FeedTooLarge``; other statuses are returned.
        """
        target = parse_target(url)
        if params:
            target = replace(target, url=target.url.copy_merge_params(dict(params)))
        addresses = self._addresses(target)
        timeout = self._settings.share_timeout_seconds
        headers = {
            **self._headers,
            "Accept": TAXII_MEDIA_TYPE,
            "User-Agent": _USER_AGENT,
            "Host": target.url.netloc.decode("ascii"),
            # Requests go to a checked IP: no pooled connection may serve another host name.
            "Connection": "close",
        }
        if body is not None:
            headers["Content-Type"] = TAXII_MEDIA_TYPE
        extensions: dict[str, object] = {"timeout": httpx.Timeout(timeout).as_dict()}
        if target.url.scheme == "https" and target.address is None:
            # TLS still verifies the host name (SNI and certificate), not the IP connected to.
            extensions["sni_hostname"] = target.host.removesuffix(".")
        with httpx.Client(trust_env=False, follow_redirects=False) as http:
            for address in addresses:
                request = httpx.Request(
                    method,
                    target.url.copy_with(host=str(address)),
                    headers=headers,
                    content=body,
                    extensions=extensions,
                )
                try:
                    response = http.send(request, stream=True)
                except httpx.ConnectError:
                    continue
                except httpx.HTTPError as exc:
                    raise RemoteUnavailable(
                        f"{target.log_location}: {type(exc).__name__}", host=target.host
                    ) from None
                try:
                    data = self._read(response, target, time.monotonic() + timeout)
                finally:
                    response.close()
                return self._checked(response, target, data)
        raise RemoteUnavailable(f"cannot connect to {target.log_location}", host=target.host)

    def _read(self, response: httpx.Response, target: Target, deadline: float) -> bytes:
        cap = self._settings.share_max_page_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FeedTooLarge(
                f"{target.log_location} sent {declared} bytes; at most {cap} are accepted",
                max_bytes=cap,
            )
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > cap:
                    raise FeedTooLarge(
                        f"{target.log_location} sent more than {cap} bytes", max_bytes=cap
                    )
                # A server dripping bytes would never trip the read timeout: bound the whole.
                if time.monotonic() > deadline:
                    raise RemoteUnavailable(f"{target.log_location} answered too slowly")
                chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise RemoteUnavailable(
                f"{target.log_location}: {type(exc).__name__} while reading the answer"
            ) from None
        return b"".join(chunks)

    @staticmethod
    def _checked(
        response: httpx.Response, target: Target, data: bytes
    ) -> tuple[int, httpx.Headers, bytes]:
        status = response.status_code
        if status in (401, 403):
            raise RemoteRefused(
                f"{target.log_location} refused our credentials (HTTP {status})", status=status
            )
        if status >= 500 or status in (408, 429):
            raise RemoteUnavailable(f"{target.log_location} answered HTTP {status}", status=status)
        return status, response.headers, data


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise RemoteFeedInvalid(f"{what} is not JSON") from None
    if not isinstance(document, dict):
        raise RemoteFeedInvalid(f"{what} is not a JSON object")
    return document


def _expect_ok(status: int, data: bytes, what: str) -> None:
    if 200 <= status < 300:
        return
    detail = ""
    try:
        document = json.loads(data)
        if isinstance(document, dict):
            detail = str(document.get("description") or document.get("title") or "")[:200]
    except (ValueError, UnicodeDecodeError):
        pass
    raise RemoteFeedInvalid(
        f"{what}: HTTP {status}" + (f" ({detail})" if detail else ""), status=status
    )


def check_signature(
    body: bytes,
    headers: httpx.Headers,
    trust: TrustStore,
    expected_signer: str | None,
) -> str:
    """The trusted signer's name of a signed page; a ``Signature*``/``Signer*`` error otherwise."""
    encoded = headers.get(SIGNATURE_HEADER, "").strip()
    if not encoded:
        raise SignatureMalformed(f"the page carries no {SIGNATURE_HEADER} header")
    try:
        envelope = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise SignatureMalformed(f"{SIGNATURE_HEADER} is not base64url") from None
    signer = verify_bundle(body, envelope, trust)
    if expected_signer and signer.name != expected_signer:
        raise SignerUntrusted(
            f"the page is signed by {signer.name!r}, not by the partner's signer "
            f"{expected_signer!r}",
            signer=signer.fingerprint,
        )
    return signer.name


class TaxiiFeedSource:
    """One remote TAXII 2.1 collection, read page by page after a checkpoint."""

    def __init__(
        self,
        api_root: str,
        collection_id: str,
        credentials: Mapping[str, str],
        settings: Settings,
        *,
        trust: TrustStore | None = None,
        expected_signer: str | None = None,
        require_signature: bool = True,
        max_pages: int = MAX_PAGES_PER_POLL,
    ) -> None:
        if not api_root:
            raise InvalidInput("a TAXII feed needs an API root URL")
        if not collection_id or "/" in collection_id:
            raise InvalidInput("a TAXII collection id is one path segment", field="collection")
        self.api_root = _root(api_root)
        self.collection_id = collection_id
        self.collection_url = f"{self.api_root}collections/{collection_id}/"
        self.objects_url = self.collection_url + "objects/"
        self._http = TaxiiHttp(credentials, settings)
        self._settings = settings
        self._require_signature = require_signature
        self._expected_signer = expected_signer or None
        self._trust = trust
        self._max_pages = max_pages

    def __repr__(self) -> str:
        return f"TaxiiFeedSource({self.collection_url!r})"

    @property
    def provenance(self) -> str:
        return f"taxii:{self.collection_url}"

    def _trust_store(self) -> TrustStore:
        if self._trust is None:
            self._trust = TrustStore.open(self._settings.data_dir)
        return self._trust

    # --- reading ------------------------------------------------------------------------------

    def pages(self, checkpoint: Mapping[str, Any]) -> Iterator[FeedPage]:
        start = checkpoint.get("added_after")
        added_after = start if isinstance(start, str) and start else None
        high_water = parse_date_added(added_after) if added_after else None
        params = {"limit": str(self._settings.share_page_objects)}
        if added_after:
            # Kept the same on every page of this poll: servers check ``next`` against it.
            params["added_after"] = _just_before(added_after)
        seen_pages: set[str] = set()
        cursor: str | None = None
        for _ in range(self._max_pages):
            query = dict(params, next=cursor) if cursor else params
            status, headers, body = self._http.request("GET", self.objects_url, params=query)
            _expect_ok(status, body, "the collection's objects")
            if self._require_signature:
                check_signature(body, headers, self._trust_store(), self._expected_signer)
            envelope = _json_object(body, "the page")
            more, next_token, objects = self._envelope(envelope)
            last = parse_date_added(headers.get(DATE_ADDED_LAST, ""))
            if last is not None and high_water is not None and last < high_water:
                raise RemoteFeedInvalid(
                    "the server sent a page older than the one before (pages going backwards)",
                    date_added_last=_stamp(last),
                )
            if last is not None:
                high_water = last
            # A ``next`` may be a session token that stays the same on every page (medallion's
            # is), so a replay is told by the page itself: the same objects, in the same versions,
            # as a page already read in this poll. Checked before the page is yielded.
            fingerprint = _fingerprint(objects)
            if fingerprint in seen_pages:
                raise RemoteFeedInvalid("the server sent the same page twice (a replayed page)")
            seen_pages.add(fingerprint)
            page = self._page(objects, more)
            checkpoint_out = {"added_after": _stamp(high_water)} if high_water else {}
            yield replace(page, checkpoint=checkpoint_out)
            if not more:
                return
            if next_token is None:
                # TAXII 2.1 servers may page with added_after alone; it must move forward.
                previous = parse_date_added(added_after) if added_after else None
                if last is None or (previous is not None and last <= previous):
                    raise RemoteFeedInvalid("the server says more but gives no way forward")
                added_after = _stamp(last)
                params["added_after"] = _just_before(added_after)
                cursor = None
                continue
            cursor = next_token

    @staticmethod
    def _envelope(envelope: Mapping[str, Any]) -> tuple[bool, str | None, list[Any]]:
        more = envelope.get("more", False)
        next_token = envelope.get("next")
        objects = envelope.get("objects", [])
        if not isinstance(more, bool):
            raise RemoteFeedInvalid("the envelope's 'more' is not true or false")
        if next_token is not None and (not isinstance(next_token, str) or not next_token):
            raise RemoteFeedInvalid("the envelope's 'next' is not a string")
        if not isinstance(objects, list):
            raise RemoteFeedInvalid("the envelope's 'objects' is not a list")
        if len(next_token or "") > 4096:
            raise RemoteFeedInvalid("the envelope's 'next' is too long")
        return more, next_token, objects

    def _page(self, objects: list[Any], more: bool) -> FeedPage:
        return objects_page(objects, more=more, provenance=self.provenance)

    # --- writing feedback ---------------------------------------------------------------------

    def send_feedback(self, feedback: Feedback) -> str:
        me = this_instance(self._settings.data_dir)
        if feedback.kind == "sighting":
            obj = stix.sighting(
                feedback.external_id,
                producer=me.producer,
                instance=me.name,
                seen_at=feedback.seen_at,
                count=feedback.count,
                description=feedback.explanation,
            )
        else:
            obj = stix.opinion(
                feedback.external_id,
                feedback.opinion or "disagree",
                feedback.explanation,
                producer=me.producer,
                instance=me.name,
                created=feedback.seen_at,
            )
        body = json.dumps({"objects": [obj]}, separators=(",", ":")).encode()
        status, _headers, data = self._http.request("POST", self.objects_url, body=body)
        _expect_ok(status, data, "the partner refused the feedback")
        return _status_id(_json_object(data, "the status resource"), str(obj["id"]))


def objects_page(objects: list[Any], *, more: bool, provenance: str) -> FeedPage:
    """STIX objects (a TAXII page, a bundle) as a feed page: indicators become items, other
    objects are counted as ignored, indicators outside the profile are rejected one by one;
    a TLP:RED indicator refuses the whole page."""
    items: list[FeedItem] = []
    rejected: list[dict[str, Any]] = []
    ignored = 0
    for position, obj in enumerate(objects):
        if not isinstance(obj, dict):
            raise RemoteFeedInvalid(f"object {position} of the page is not a JSON object")
        if obj.get("type") != "indicator":
            ignored += 1
            continue
        ident = str(obj.get("id", ""))[:_MAX_ID_CHARS]
        try:
            item = _item(obj, provenance)
        except _RedIndicator:
            raise RemoteFeedInvalid(
                "the server shared a TLP:RED indicator, which must never leave its "
                "instance; the page is refused",
                indicator=ident,
            ) from None
        except BastionError as exc:  # InvalidSignal: a value its signal type refuses
            rejected.append({"id": ident, "code": exc.code, "detail": exc.detail})
        else:
            items.append(item)
    return FeedPage(items=items, checkpoint={}, more=more, ignored=ignored, rejected=rejected)


def _item(obj: Mapping[str, Any], provenance: str) -> FeedItem:
    modified = _modified(obj)
    if obj.get("revoked") is True:
        # A revocation only names the indicator: its pattern need not be one we take.
        stix_id = obj.get("id")
        if not isinstance(stix_id, str) or not stix_id.startswith("indicator--"):
            raise StixUnsupported("a revoked indicator without an indicator id")
        _refuse_red(obj)
        return FeedItem(external_id=stix_id, entry=None, modified=modified, revoked=True)
    shared = stix.indicator_to_entry(obj)
    if shared.tlp is Tlp.RED:
        raise _RedIndicator
    entry = replace(
        shared.entry,
        added_from=provenance,
        external_id=shared.indicator_id,
        external_modified=modified,
    )
    return FeedItem(external_id=shared.indicator_id, entry=entry, modified=modified)


def _just_before(date_added: str) -> str:
    """``added_after`` is exclusive and several objects may share one ``date_added`` (entries
    added in one batch): asking from a microsecond earlier reads the boundary's objects again,
    which the applier ignores as versions it holds, instead of losing those not yet read."""
    moment = parse_date_added(date_added)
    return _stamp(moment - timedelta(microseconds=1)) if moment is not None else date_added


def _fingerprint(objects: list[Any]) -> str:
    """What identifies a page's content: its objects' ids and versions, in order."""
    versions = [
        [obj.get("id"), obj.get("modified"), obj.get("revoked")] if isinstance(obj, dict) else obj
        for obj in objects
    ]
    text = json.dumps(versions, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _modified(obj: Mapping[str, Any]) -> datetime | None:
    for name in ("modified", "created"):
        value = obj.get(name)
        if isinstance(value, str):
            parsed = parse_date_added(value)
            if parsed is not None:
                return parsed
    return None


def _refuse_red(obj: Mapping[str, Any]) -> None:
    markings = obj.get("object_marking_refs")
    if isinstance(markings, list) and stix.TLP_MARKING_IDS[Tlp.RED] in markings:
        raise _RedIndicator


def _status_id(status: Mapping[str, Any], object_id: str) -> str:
    """The status resource's id; ``RemoteFeedInvalid`` when it lists our object as failed."""
    ident = status.get("id")
    if not isinstance(ident, str) or not ident:
        raise RemoteFeedInvalid("the status resource has no id")
    failures = status.get("failures") or []
    if not isinstance(failures, list):
        raise RemoteFeedInvalid("the status resource's failures is not a list")
    for failure in failures:
        if isinstance(failure, dict) and failure.get("id") == object_id:
            message = str(failure.get("message") or "no reason given")[:500]
            raise RemoteFeedInvalid(f"the partner did not accept the feedback: {message}")
    return ident


def list_collections(
    url: str, credentials: Mapping[str, str], settings: Settings
) -> list[dict[str, Any]]:
    """The collections reachable from ``url``: a discovery URL (every API root it lists is read)
    or an API root. Each collection gets the ``api_root`` it lives under."""
    http = TaxiiHttp(credentials, settings)
    status, _headers, data = http.request("GET", _root(url))
    _expect_ok(status, data, "discovery")
    document = _json_object(data, "the discovery answer")
    roots = [_root(url)]
    if "api_roots" in document:
        listed = document.get("api_roots")
        if not isinstance(listed, list) or not all(isinstance(r, str) for r in listed):
            raise RemoteFeedInvalid("the discovery answer's api_roots is not a list of URLs")
        roots = [_root(str(httpx.URL(_root(url)).join(root))) for root in listed[:20]]
    found: list[dict[str, Any]] = []
    for root in roots:
        status, _headers, data = http.request("GET", root + "collections/")
        _expect_ok(status, data, "the collections")
        listed_collections = _json_object(data, "the collections").get("collections", [])
        if not isinstance(listed_collections, list):
            raise RemoteFeedInvalid("'collections' is not a list")
        for item in listed_collections:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise RemoteFeedInvalid("a collection without an id")
            found.append(
                {
                    "api_root": root,
                    "id": item["id"],
                    "title": str(item.get("title", "")),
                    "description": str(item.get("description", "")),
                    "can_read": bool(item.get("can_read", False)),
                    "can_write": bool(item.get("can_write", False)),
                }
            )
    return found
