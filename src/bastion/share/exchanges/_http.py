"""One guarded HTTP client for every hash programme: address policy, timeout, size cap, errors.

python-threatexchange's clients use ``requests`` and read whole answers with ``response.json()``,
so an answer cannot be capped in size, cannot be pinned to an address that passed our SSRF policy
and retries on its own. The programme modules therefore speak each documented API through this
client instead, and keep the library for its constants (environments, enums).

Credentials travel in headers or request bodies only, never in a URL: httpx logs request URLs at
INFO level, and our own error details carry the host and path but never the query string.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from bastion.errors import (
    FeedTooLarge,
    FetchFailed,
    FetchTimeout,
    RemoteFeedInvalid,
    RemoteRefused,
    RemoteUnavailable,
)
from bastion.ingest.address_policy import (
    AddressCheck,
    Resolver,
    Target,
    allowed_addresses,
    blocked_reason,
    parse_target,
    system_resolver,
)
from bastion.settings import Settings

logger = logging.getLogger(__name__)

_USER_AGENT: Final = "Bastion hash-sharing client"
_CHUNK: Final = 64 * 1024


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class PartnerHttp:
    """Requests to one programme's server, each checked against the address policy first.

    ``programme`` names the partner in error details (``threatexchange``, ``ncmec``...).
    """

    def __init__(
        self,
        settings: Settings,
        programme: str,
        *,
        resolver: Resolver | None = None,
        address_check: AddressCheck | None = None,
    ) -> None:
        self.programme = programme
        self.max_bytes = settings.share_max_page_bytes
        self.timeout = settings.share_timeout_seconds
        self.allow_private = settings.share_allow_private
        self._resolver = resolver or system_resolver
        self._address_check = address_check or blocked_reason

    def __repr__(self) -> str:
        return f"PartnerHttp({self.programme!r})"

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        accept: frozenset[int] = frozenset(),
    ) -> Answer:
        """Send one request; the whole answer body, at most ``share_max_page_bytes``.

        401/403 raise RemoteRefused, any other non-2xx RemoteUnavailable; an answer larger than
        the cap raises FeedTooLarge as soon as the cap is passed, without reading the rest.
        Statuses in ``accept`` are returned instead, for APIs whose error bodies say more.
        """
        target = parse_target(url)
        try:
            addresses = allowed_addresses(
                target,
                allow_private=self.allow_private,
                resolver=self._resolver,
                address_check=self._address_check,
                timeout=self.timeout,
            )
        except (FetchFailed, FetchTimeout) as exc:
            raise RemoteUnavailable(f"{self.programme}: {exc.detail}", host=target.host) from None
        all_headers = {"User-Agent": _USER_AGENT, "Host": target.url.netloc.decode("ascii")}
        all_headers["Connection"] = "close"  # requests go to an IP: no pooled reuse across hosts
        all_headers["Accept-Encoding"] = "identity"  # the size cap counts the bytes we keep
        all_headers.update(headers or {})
        query = {k: str(v) for k, v in (params or {}).items()}
        failure = "could not connect"
        with httpx.Client(verify=_ssl_context(), trust_env=False, follow_redirects=False) as http:
            for address in addresses:
                extensions: dict[str, object] = {"timeout": httpx.Timeout(self.timeout).as_dict()}
                if target.url.scheme == "https" and target.address is None:
                    # TLS still verifies the host name (SNI and certificate), not the IP.
                    extensions["sni_hostname"] = target.host.removesuffix(".")
                request = http.build_request(
                    method,
                    target.url.copy_with(host=str(address)),
                    params=query or None,
                    headers=all_headers,
                    data=dict(data) if data is not None else None,
                    content=content,
                    extensions=extensions,
                )
                try:
                    response = http.send(request, stream=True)
                except httpx.ConnectError:
                    continue
                except httpx.TimeoutException:
                    failure = "timed out"
                    continue
                except httpx.HTTPError:
                    failure = "connection failed"
                    continue
                try:
                    return self._read(response, target, accept)
                finally:
                    response.close()
        raise RemoteUnavailable(
            f"{self.programme}: {failure} ({target.log_location})", host=target.host
        )

    def _read(self, response: httpx.Response, target: Target, accept: frozenset[int]) -> Answer:
        status = response.status_code
        where = target.log_location
        if status in accept:
            pass
        elif status in (401, 403):
            logger.warning(
                "%s refused our credentials at %s (HTTP %d)", self.programme, where, status
            )
            raise RemoteRefused(
                f"{self.programme} refused the credentials (HTTP {status})", status=status
            )
        elif not 200 <= status < 300:
            logger.warning("%s answered HTTP %d at %s", self.programme, status, where)
            raise RemoteUnavailable(
                f"{self.programme} answered HTTP {status} at {where}", status=status
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large()
        body = bytearray()
        try:
            for chunk in response.iter_raw(_CHUNK):
                body += chunk
                if len(body) > self.max_bytes:
                    raise self._too_large()
        except httpx.TimeoutException:
            raise RemoteUnavailable(f"{self.programme}: reading the answer timed out") from None
        except httpx.HTTPError:
            raise RemoteUnavailable(f"{self.programme}: the answer was cut off") from None
        if response.headers.get("content-encoding", "identity") not in ("identity", ""):
            # iter_raw keeps the cap on the bytes received; decoding a compressed answer here
            # could still multiply it, so compressed answers are refused (we never ask for one).
            raise RemoteUnavailable(f"{self.programme} sent a compressed answer we did not ask for")
        return Answer(status, bytes(body), dict(response.headers))

    def _too_large(self) -> FeedTooLarge:
        return FeedTooLarge(
            f"{self.programme} sent an answer larger than {self.max_bytes} bytes; "
            "ask the partner for smaller pages or raise BASTION_SHARE_MAX_PAGE_BYTES",
            max_bytes=self.max_bytes,
        )


def join(base: str, *parts: str) -> str:
    """``base`` and path parts joined with one slash between each; a last part's trailing slash
    stays (some APIs, such as TAT's, route ``token-auth/tcap/`` but not ``token-auth/tcap``)."""
    url = base.rstrip("/")
    for part in parts:
        url += "/" + part.strip("/")
    if parts and parts[-1].endswith("/"):
        url += "/"
    return url


def parse_json(programme: str, body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RemoteFeedInvalid(f"{programme} sent an answer that is not JSON") from None
