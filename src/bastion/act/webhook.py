"""Signed webhooks: how Bastion tells a platform, within seconds, that something must be acted on.

A delivery is one ``POST`` of a JSON body ``{"event": <event>, "data": <payload>}`` with headers

* ``X-Bastion-Event``: the event name, e.g. ``stream.match``;
* ``X-Bastion-Timestamp``: when this attempt was signed, in Unix seconds;
* ``X-Bastion-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with the shared secret, of
  the bytes ``<timestamp>.<body>`` (the timestamp header's ASCII digits, a full stop, the body
  exactly as received).

A receiver verifies with :func:`verify_signature` (or the same few lines in its own language):
recompute the HMAC over the raw body, compare in constant time and refuse timestamps more than
five minutes away from its clock. Signing the timestamp with the body means a captured delivery
cannot be replayed later, and only holders of the secret can make a platform cut a stream.

The URL is operator configuration, but it is still held to the fetcher's SSRF policy
(:mod:`bastion.ingest.address_policy`) before every connection: private, loopback and link-local
addresses are refused unless ``allow_private`` is set, and the request goes to the checked IP
itself, so a DNS answer cannot change between check and use.

Delivery failures never raise: an alerting path must not be broken by a platform that is down.
:class:`WebhookResult` says what happened with a stable ``error_code`` (``webhook_unreachable``,
``webhook_rejected``, ``webhook_timeout``, ``url_blocked``), or ``None`` when delivered.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from bastion.errors import FetchFailed, FetchTimeout, UrlBlocked
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

__all__ = [
    "URL_BLOCKED",
    "WEBHOOK_REJECTED",
    "WEBHOOK_TIMEOUT",
    "WEBHOOK_UNREACHABLE",
    "WebhookAction",
    "WebhookResult",
    "sign",
    "verify_signature",
]

logger = logging.getLogger(__name__)

# Stable result codes: integrations and dashboards switch on them, so they are never renamed.
WEBHOOK_UNREACHABLE: Final = "webhook_unreachable"  # no connection (refused, DNS, reset)
WEBHOOK_REJECTED: Final = "webhook_rejected"  # the receiver answered, but not with 2xx
WEBHOOK_TIMEOUT: Final = "webhook_timeout"  # connecting or waiting for the answer took too long
URL_BLOCKED: Final = "url_blocked"  # the URL or its address is refused by the SSRF policy

EVENT_HEADER: Final = "X-Bastion-Event"
TIMESTAMP_HEADER: Final = "X-Bastion-Timestamp"
SIGNATURE_HEADER: Final = "X-Bastion-Signature"
_SIGNATURE_PREFIX: Final = "sha256="
_USER_AGENT: Final = "Bastion-Webhook"


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What one :meth:`WebhookAction.send` did.

    ``status`` is the last HTTP status received (None if no answer came), ``attempts`` how many
    deliveries were tried (0 when the URL policy refused before any), ``seconds`` the wall time
    of the whole send including back-off, and ``error_code`` None when delivered.
    """

    status: int | None
    attempts: int
    seconds: float
    error_code: str | None

    @property
    def delivered(self) -> bool:
        return self.error_code is None


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: int | None
    error_code: str | None
    retry: bool


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Bastion-Signature`` value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return _SIGNATURE_PREFIX + digest


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes,
    signature: str,
    *,
    max_age: float = 300,
    now: float | None = None,
) -> bool:
    """Whether a delivery is authentic and fresh: for receivers (and Bastion's own tests).

    ``timestamp`` and ``signature`` are the header values as received, ``body`` the raw bytes.
    A timestamp further than ``max_age`` seconds from ``now`` (default: this clock) either way
    is refused, which bounds how long a captured delivery could be replayed.
    """
    try:
        sent_at = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > max_age:
        return False
    expected = sign(secret, sent_at, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8"))


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs milliseconds; one verified context serves every delivery.
    return httpx.create_ssl_context()


class WebhookAction:
    """Delivers signed events to one URL, retrying what may succeed on a second try.

    Connection errors and 5xx answers are retried up to ``retries`` more times, waiting
    ``backoff``, then twice that, and so on: a receiver restarting or briefly overloaded still
    gets the event. A 4xx (or any other non-2xx) answer is final: the receiver understood and
    refused, and repeating the same signed request cannot change its mind. A timeout waiting for
    the answer is final too, since the receiver may already be acting on it; a connect timeout
    is retried like any connection error. ``timeout`` bounds each attempt (and each DNS lookup).

    ``resolver`` and ``address_check`` replace the system resolver and the SSRF address policy
    (for tests and deployments with their own rules); ``sleep`` replaces :func:`time.sleep`.
    """

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        allow_private: bool = False,
        backoff: float = 0.5,
        resolver: Resolver | None = None,
        address_check: AddressCheck | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret: unsigned deliveries could be forged")
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("webhook timeout must be positive, retries and backoff not negative")
        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._retries = retries
        self._allow_private = allow_private
        self._backoff = backoff
        self._resolver = resolver or system_resolver
        self._address_check = address_check or blocked_reason
        self._sleep = sleep

    def __repr__(self) -> str:
        # Never the secret, nor the query string, which may carry a token of the receiver's.
        return f"WebhookAction({self._location()!r})"

    def send(self, event: str, payload: Mapping[str, Any]) -> WebhookResult:
        """Deliver ``event`` with ``payload`` (JSON-serialisable); never raises on failure."""
        started = time.monotonic()
        body = json.dumps(
            {"event": event, "data": payload}, separators=(",", ":"), sort_keys=True, default=str
        ).encode("utf-8")
        try:
            target = parse_target(self._url)
        except UrlBlocked as exc:
            logger.warning("webhook %s not sent: URL refused (%s)", event, exc.detail)
            return WebhookResult(None, 0, time.monotonic() - started, URL_BLOCKED)
        attempts = 0
        outcome = _Outcome(None, WEBHOOK_UNREACHABLE, retry=False)
        http = httpx.Client(verify=_ssl_context(), trust_env=False, follow_redirects=False)
        with http:
            for attempt in range(self._retries + 1):
                if attempt:
                    self._sleep(self._backoff * 2 ** (attempt - 1))
                try:
                    addresses = allowed_addresses(
                        target,
                        allow_private=self._allow_private,
                        resolver=self._resolver,
                        address_check=self._address_check,
                        timeout=self._timeout,
                    )
                except UrlBlocked:
                    # Logged by the policy, without the secret or the query string.
                    outcome = _Outcome(None, URL_BLOCKED, retry=False)
                    break
                except FetchTimeout:
                    outcome = _Outcome(None, WEBHOOK_TIMEOUT, retry=True)
                except FetchFailed:
                    outcome = _Outcome(None, WEBHOOK_UNREACHABLE, retry=True)
                else:
                    outcome = self._post(http, target, addresses, event, body)
                attempts += 1
                if not outcome.retry:
                    break
        seconds = time.monotonic() - started
        if outcome.error_code is None:
            logger.info(
                "webhook %s delivered to %s (HTTP %s, %d attempts, %.3f s)",
                event,
                target.log_location,
                outcome.status,
                attempts,
                seconds,
            )
        else:
            logger.warning(
                "webhook %s to %s failed: %s (HTTP %s, %d attempts)",
                event,
                target.log_location,
                outcome.error_code,
                outcome.status,
                attempts,
            )
        return WebhookResult(outcome.status, attempts, seconds, outcome.error_code)

    def _post(
        self,
        http: httpx.Client,
        target: Target,
        addresses: list[IPAddress],
        event: str,
        body: bytes,
    ) -> _Outcome:
        """One attempt: POST to the first checked address that accepts a connection.

        Signed now, so the timestamp is the moment of this attempt and a retry after back-off is
        not refused as stale by a strict receiver.
        """
        timestamp = int(time.time())
        headers = {
            "User-Agent": _USER_AGENT,
            "Content-Type": "application/json",
            "Host": target.url.netloc.decode("ascii"),
            # Requests go to an IP: no pooled connection may be reused under another host name.
            "Connection": "close",
            EVENT_HEADER: event,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        failure = WEBHOOK_UNREACHABLE
        for address in addresses:
            extensions: dict[str, object] = {"timeout": httpx.Timeout(self._timeout).as_dict()}
            if target.url.scheme == "https" and target.address is None:
                # TLS still presents and verifies the host name (SNI and certificate), not the IP.
                extensions["sni_hostname"] = target.host.removesuffix(".")
            request = httpx.Request(
                "POST",
                target.url.copy_with(host=str(address)),
                headers=headers,
                content=body,
                extensions=extensions,
            )
            try:
                # Streamed and closed unread: a receiver's answer body is never needed, and a
                # hostile one could be endless.
                response = http.send(request, stream=True, follow_redirects=False, auth=None)
            except httpx.ConnectError:
                continue
            except httpx.ConnectTimeout:
                failure = WEBHOOK_TIMEOUT
                continue
            except httpx.TimeoutException:
                return _Outcome(None, WEBHOOK_TIMEOUT, retry=False)
            except httpx.HTTPError:
                # Connection dropped before an answer (reset, protocol error): nothing was acted
                # on that we know of, so it is retried like a refused connection.
                return _Outcome(None, WEBHOOK_UNREACHABLE, retry=True)
            status = response.status_code
            response.close()
            if 200 <= status < 300:
                return _Outcome(status, None, retry=False)
            return _Outcome(status, WEBHOOK_REJECTED, retry=status >= 500)
        return _Outcome(None, failure, retry=True)

    def _location(self) -> str:
        try:
            return parse_target(self._url).log_location
        except UrlBlocked:
            return "(invalid URL)"
