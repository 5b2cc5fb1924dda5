"""A programme's server on loopback: a handler function answers, every request is recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bastion.settings import Settings
from bastion.share.partners import PartnerInfo, PartnerKind
from bastion.storage.share_models import SubscriptionRow


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Seen], Reply]


class Programme:
    """A local server; set ``handler`` per test and read ``seen`` afterwards."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.handler: Handler = lambda _: Reply(404)
        programme = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
                seen = Seen(self.command, split.path, query, dict(self.headers.items()), body)
                programme.seen.append(seen)
                reply = programme.handler(seen)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                try:
                    if isinstance(reply.body, bytes):
                        self.send_header("Content-Length", str(len(reply.body)))
                        self.send_header("Connection", "close")
                        self.end_headers()
                        self.wfile.write(reply.body)
                    else:
                        # Streamed without a length, generated lazily: a client that stops
                        # reading must not make the server build the whole answer.
                        self.send_header("Connection", "close")
                        self.end_headers()
                        for chunk in reply.body:
                            self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            do_GET = do_POST = do_PUT = _serve  # noqa: N815 (http.server's names)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def programme() -> Iterator[Programme]:
    server = Programme()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        share_allow_private=True,
        share_page_objects=10,
        share_max_page_bytes=64 * 1024,
        share_timeout_seconds=5,
    )


def partner(kind: str, url: str, **options: Any) -> PartnerInfo:
    return PartnerInfo(
        id=1,
        name=f"{kind}-partner",
        kind=PartnerKind(kind),
        url=url,
        api_key_id=None,
        amber=False,
        signer="",
        credential_fields=[],
        options=options,
        enabled=True,
        created_at=datetime.now(UTC),
    )


def subscription(remote: str) -> SubscriptionRow:
    return SubscriptionRow(remote_collection=remote, checkpoint={}, created_by="test")


def pdq(n: int) -> str:
    """A valid-looking PDQ hash (64 hex digits) with plenty of bits set."""
    return (f"{n:08x}" + "f0e1d2c3b4a59687" * 4)[:64]


def md5(n: int) -> str:
    return f"{n:032x}"


def big_stream(
    prefix: bytes, item: Callable[[int], bytes], count: int, suffix: bytes
) -> Iterator[bytes]:
    """A huge JSON array generated lazily, a few hundred items a chunk."""
    yield prefix
    batch: list[bytes] = []
    for n in range(count):
        batch.append((b"," if n else b"") + item(n))
        if len(batch) >= 500:
            yield b"".join(batch)
            batch = []
    yield b"".join(batch) + suffix
