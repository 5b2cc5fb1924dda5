"""Fetch a URL on a user's behalf, guarded against server-side request forgery and abuse.

Every hop (the URL and each redirect) is parsed and checked by :mod:`address_policy`; the request
then goes to the checked IP address itself, never to the name, so DNS cannot answer differently
between the check and the connection (rebinding). The body is streamed against a byte limit and
the whole fetch against one deadline. Every failure is a BastionError: UrlBlocked, FetchFailed,
FetchTimeout or FetchTooLarge.
"""

from __future__ import annotations

import contextlib
import email.message
import functools
import logging
import ssl
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import httpx

from bastion.errors import FetchFailed, FetchTimeout, UnsupportedMedia, UrlBlocked
from bastion.ingest.address_policy import (
    AddressCheck,
    IPAddress,
    Resolver,
    Target,
    allowed_addresses,
    blocked_reason,
    parse_target,
    system_resolver,
)
from bastion.ingest.response_body import Deadline, read_limited
from bastion.settings import Settings

__all__ = ["FetchPolicy", "FetchedContent", "fetch_url"]

logger = logging.getLogger(__name__)

_REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_MAX_FILENAME_LENGTH: Final = 255
_REQUEST_HEADERS: Final = {
    "User-Agent": "Bastion-URL-Fetch",
    "Accept": "*/*",
    # The limit counts decoded bytes; asking for identity keeps decoding (and its cost) rare.
    "Accept-Encoding": "identity",
    # Requests go to an IP, so a pooled connection could otherwise be reused for another host
    # name on the same address, under a TLS certificate that was verified for the first name.
    "Connection": "close",
}


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch; build it from settings with :meth:`from_settings`."""

    max_bytes: int
    timeout_seconds: float = 20.0
    max_redirects: int = 5
    allow_private: bool = False
    # Media types accepted ("image/jpeg", or "video/*" for a whole family); None accepts any.
    # Checked on the response headers, so a refused type costs no body download.
    allowed_types: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.timeout_seconds <= 0 or self.max_redirects < 0:
            raise ValueError(f"invalid fetch policy: {self}")

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        return cls(
            max_bytes=settings.max_upload_bytes,
            timeout_seconds=settings.fetch_timeout_seconds,
            max_redirects=settings.fetch_max_redirects,
            allow_private=settings.fetch_allow_private,
        )


@dataclass(frozen=True)
class FetchedContent:
    data: bytes
    content_type: str | None  # media type without parameters, lower-case
    final_url: str  # after redirects
    filename: str | None  # from Content-Disposition or the last path segment


def fetch_url(
    url: str,
    policy: FetchPolicy,
    *,
    client: httpx.Client | None = None,
    resolver: Resolver | None = None,
    address_check: AddressCheck | None = None,
) -> FetchedContent:
    """Fetch ``url`` within ``policy``.

    ``client`` lends its transport (connection pool, proxies, TLS settings); its default headers,
    cookies and auth are never sent to the fetched site. It must speak HTTP/1.1 (httpx's default):
    requests carry ``Connection: close``, which HTTP/2 forbids. ``resolver`` replaces
    ``socket.getaddrinfo`` and ``address_check`` replaces :func:`blocked_reason` (both for tests
    and for deployments with their own rules); ``policy.allow_private`` skips the address check.
    """
    deadline = Deadline(policy.timeout_seconds)
    target = parse_target(url)
    http = client or httpx.Client(
        verify=_default_ssl_context(), trust_env=False, follow_redirects=False
    )
    try:
        for _ in range(policy.max_redirects + 1):
            addresses = allowed_addresses(
                target,
                allow_private=policy.allow_private,
                resolver=resolver or system_resolver,
                address_check=address_check or blocked_reason,
                timeout=deadline.remaining(),
            )
            logger.info("fetching %s", target.log_location)
            with _translated_errors(target, deadline):
                response = _send(http, target, addresses, deadline)
                try:
                    next_target = _redirect_target(target, response)
                    if next_target is None:
                        return _content(target, response, policy, deadline)
                finally:
                    response.close()
            logger.info("%s redirects to %s", target.log_location, next_target.log_location)
            target = next_target
        raise FetchFailed(
            f"more than {policy.max_redirects} redirects", max_redirects=policy.max_redirects
        )
    finally:
        if client is None:
            http.close()


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs milliseconds; one verified context is shared by every fetch.
    return httpx.create_ssl_context()


def _send(
    http: httpx.Client, target: Target, addresses: list[IPAddress], deadline: Deadline
) -> httpx.Response:
    """Open a streamed GET to the first checked address that accepts a connection.

    Rebinding defence: the request URL carries the checked IP, so httpx never resolves the name
    again; the name travels in the Host header and, for https, in the ``sni_hostname`` extension,
    which httpcore uses for both SNI and certificate verification. Chosen over a custom transport
    or network backend because it needs only httpx's public API and works through any client,
    including a caller's with its own proxies and TLS settings.
    """
    failure: httpx.ConnectError | None = None
    for address in addresses:
        extensions: dict[str, object] = {"timeout": httpx.Timeout(deadline.remaining()).as_dict()}
        if target.url.scheme == "https" and target.address is None:
            # TLS still presents and verifies the host name (SNI and certificate), not the IP.
            extensions["sni_hostname"] = target.host.removesuffix(".")
        request = httpx.Request(
            "GET",
            target.url.copy_with(host=str(address)),
            headers={**_REQUEST_HEADERS, "Host": target.url.netloc.decode("ascii")},
            extensions=extensions,
        )
        try:
            # auth=None: never hand the lent client's credentials to an arbitrary site.
            return http.send(request, stream=True, follow_redirects=False, auth=None)
        except httpx.ConnectError as exc:
            failure = exc
    logger.info("could not connect to %s", target.log_location)
    raise FetchFailed(f"could not connect to {target.host}", host=target.host) from failure


def _redirect_target(current: Target, response: httpx.Response) -> Target | None:
    """The next hop, checked like the first; None if the response is not a redirect."""
    if response.status_code not in _REDIRECT_STATUSES:
        return None
    location = response.headers.get("location")
    if not location:
        raise FetchFailed("redirect without a Location header", status=response.status_code)
    try:
        joined = current.url.join(location)
    except (httpx.InvalidURL, ValueError, UnicodeError):
        raise UrlBlocked("redirect to a malformed URL") from None
    return parse_target(str(joined))


def _content(
    target: Target, response: httpx.Response, policy: FetchPolicy, deadline: Deadline
) -> FetchedContent:
    status = response.status_code
    if not 200 <= status < 300:
        raise FetchFailed(f"{target.host} answered HTTP {status}", status=status, host=target.host)
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if policy.allowed_types is not None and not _type_allowed(content_type, policy.allowed_types):
        raise UnsupportedMedia(
            f"content type {content_type or '(none given)'} is not accepted",
            content_type=content_type[:100] or None,
        )
    data = read_limited(response, policy.max_bytes, deadline)
    disposition = _disposition_filename(response.headers.get("content-disposition"))
    return FetchedContent(
        data=data,
        content_type=content_type or None,
        final_url=str(target.url),
        filename=disposition or _clean_filename(target.url.path.rsplit("/", 1)[-1]),
    )


def _type_allowed(content_type: str, allowed: frozenset[str]) -> bool:
    family = content_type.split("/", 1)[0]
    return bool(content_type) and (content_type in allowed or f"{family}/*" in allowed)


def _disposition_filename(header: str | None) -> str | None:
    if not header:
        return None
    # The email package already implements RFC 2231/6266 parameters (filename*=UTF-8''...).
    message = email.message.Message()
    message["content-disposition"] = header
    try:
        name = message.get_filename()
    except (ValueError, LookupError, UnicodeError):
        return None
    return _clean_filename(name) if name else None


def _clean_filename(name: str) -> str | None:
    """A bare file name: no directories, control characters or surrounding spaces."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    if name in ("", ".", ".."):
        return None
    return name[:_MAX_FILENAME_LENGTH]


@contextlib.contextmanager
def _translated_errors(target: Target, deadline: Deadline) -> Iterator[None]:
    """Turn httpx's exceptions into Bastion's, so no raw httpx exception reaches a caller."""
    try:
        yield
    except httpx.TimeoutException as exc:
        seconds = deadline.seconds
        raise FetchTimeout(
            f"fetch took longer than {seconds:g} seconds", host=target.host, timeout_seconds=seconds
        ) from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        logger.info("fetch of %s failed: %s", target.log_location, type(exc).__name__)
        raise FetchFailed(f"could not fetch from {target.host}", host=target.host) from exc
