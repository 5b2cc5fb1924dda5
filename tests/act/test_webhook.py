"""Signed webhooks against a real loopback receiver: signatures verify, 5xx and dead ports are
retried, 4xx is not, nothing raises, and private addresses are refused unless allowed."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bastion.act.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    URL_BLOCKED,
    WEBHOOK_REJECTED,
    WEBHOOK_UNREACHABLE,
    WebhookAction,
    sign,
    verify_signature,
)
from bastion.ingest.address_policy import IPAddress

SECRET = "s3cret-shared-with-the-platform"


@dataclass
class Delivery:
    event: str
    timestamp: str
    signature: str
    body: bytes
    verified: bool

    def json(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    """A platform's webhook endpoint: answers with ``statuses`` in turn (then 200)."""

    url: str
    statuses: list[int]
    deliveries: list[Delivery] = field(default_factory=list)


@contextmanager
def receiver(statuses: list[int] | None = None, secret: str = SECRET) -> Iterator[Receiver]:
    """A webhook receiver on loopback that verifies every signature it gets."""
    state = Receiver(url="", statuses=list(statuses or []))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            timestamp = self.headers.get(TIMESTAMP_HEADER, "")
            signature = self.headers.get(SIGNATURE_HEADER, "")
            with lock:
                state.deliveries.append(
                    Delivery(
                        event=self.headers.get("X-Bastion-Event", ""),
                        timestamp=timestamp,
                        signature=signature,
                        body=body,
                        verified=verify_signature(secret, timestamp, body, signature),
                    )
                )
                status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/bastion?token=abc"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def loopback_webhook(url: str, *, retries: int = 3) -> WebhookAction:
    """A webhook allowed to reach loopback (as tests must), with no back-off waits."""
    return WebhookAction(url, SECRET, allow_private=True, backoff=0.0, retries=retries)


def test_a_delivery_is_signed_and_verifies() -> None:
    with receiver() as platform:
        result = loopback_webhook(platform.url).send("stream.match", {"entry_id": 7})
    assert result.delivered and result.status == 200 and result.attempts == 1
    assert result.error_code is None and result.seconds >= 0
    [delivery] = platform.deliveries
    assert delivery.verified and delivery.event == "stream.match"
    assert delivery.json() == {"event": "stream.match", "data": {"entry_id": 7}}
    assert delivery.signature == sign(SECRET, delivery.timestamp, delivery.body)


def test_verify_signature_refuses_forgeries_and_stale_deliveries() -> None:
    body = b'{"event":"stream.match","data":{}}'
    good = sign(SECRET, 1_700_000_000, body)
    now = 1_700_000_100.0
    assert verify_signature(SECRET, "1700000000", body, good, now=now)
    assert not verify_signature("other-secret", "1700000000", body, good, now=now)
    assert not verify_signature(SECRET, "1700000000", body + b" ", good, now=now)
    assert not verify_signature(SECRET, "1700000001", body, good, now=now)
    assert not verify_signature(SECRET, "1700000000", body, good, now=now + 300)  # replayed
    assert not verify_signature(SECRET, "not-a-number", body, good, now=now)
    assert not verify_signature(SECRET, "1700000000", body, "sha256=00", now=now)


def test_a_server_error_is_retried_until_delivered() -> None:
    with receiver([503, 500]) as platform:
        result = loopback_webhook(platform.url).send("stream.match", {"entry_id": 1})
    assert (result.status, result.attempts, result.error_code) == (200, 3, None)
    assert len(platform.deliveries) == 3 and all(d.verified for d in platform.deliveries)


def test_server_errors_past_the_retries_are_a_rejection() -> None:
    with receiver([502] * 10) as platform:
        result = loopback_webhook(platform.url, retries=2).send("stream.match", {})
    assert (result.status, result.attempts, result.error_code) == (502, 3, WEBHOOK_REJECTED)


def test_a_client_error_is_not_retried() -> None:
    with receiver([401]) as platform:
        result = loopback_webhook(platform.url).send("stream.match", {})
    assert (result.status, result.attempts, result.error_code) == (401, 1, WEBHOOK_REJECTED)
    assert len(platform.deliveries) == 1


def test_back_off_doubles_between_attempts() -> None:
    waits: list[float] = []
    with receiver([500, 500, 500]) as platform:
        action = WebhookAction(
            platform.url, SECRET, allow_private=True, backoff=0.25, sleep=waits.append
        )
        assert action.send("stream.match", {}).attempts == 4
    assert waits == [0.25, 0.5, 1.0]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_receiver_is_reported_without_raising() -> None:
    waits: list[float] = []
    action = WebhookAction(
        f"http://127.0.0.1:{closed_port()}/hook",
        SECRET,
        allow_private=True,
        retries=2,
        sleep=waits.append,
    )
    result = action.send("stream.match", {})
    assert (result.status, result.attempts, result.error_code) == (None, 3, WEBHOOK_UNREACHABLE)
    assert waits == [0.5, 1.0]


def test_private_addresses_are_refused_before_connecting_unless_allowed() -> None:
    with receiver() as platform:
        refused = WebhookAction(platform.url, SECRET, backoff=0.0).send("stream.match", {})
        assert (refused.status, refused.attempts, refused.error_code) == (None, 0, URL_BLOCKED)
        assert platform.deliveries == []  # refused before any connection
        allowed = loopback_webhook(platform.url).send("stream.match", {})
    assert allowed.delivered and len(platform.deliveries) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hook",
        "http://0x7f.1/hook",
        "ftp://example.org/hook",
        "http://user:pass@example.org/hook",
        "not a url",
    ],
)
def test_urls_the_policy_refuses_give_url_blocked(url: str) -> None:
    result = WebhookAction(url, SECRET).send("stream.match", {})
    assert (result.attempts, result.error_code) == (0, URL_BLOCKED)


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    def resolver(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("192.168.1.5")]

    action = WebhookAction("https://hooks.example.org/x", SECRET, resolver=resolver)
    assert action.send("stream.match", {}).error_code == URL_BLOCKED


def test_the_secret_is_never_shown() -> None:
    action = WebhookAction("https://hooks.example.org/x?token=abc", SECRET)
    assert SECRET not in repr(action) and "token" not in repr(action)
    with pytest.raises(ValueError, match="secret"):
        WebhookAction("https://hooks.example.org/x", "")
