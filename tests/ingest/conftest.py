"""A real HTTP(S) server on loopback for the URL fetcher, and a guard that keeps tests off the net.

The machine's network is closed and any traffic to a non-loopback address is flagged, so every
test here runs with ``socket.getaddrinfo`` (which every outgoing connection goes through)
refusing anything that is not a loopback IP literal: a fetcher bug that tried to connect to
169.254.169.254, or to resolve a name through real DNS, fails the test instead of leaving the box.
"""

from __future__ import annotations

import contextlib
import gzip
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
GZIPPED_TEXT = b"compressed on the wire, plain in Bastion\n" * 50
BOMB_SIZE = 8 * 1024 * 1024


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real_getaddrinfo = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        text = host.decode() if isinstance(host, bytes) else str(host)
        try:
            loopback = ipaddress.ip_address(text).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise AssertionError(f"test tried to reach {text!r}, which is not a loopback address")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@dataclass
class LoopbackServer:
    base: str  # e.g. http://127.0.0.1:41234
    port: int
    seen: list[dict[str, str]] = field(default_factory=list)  # headers of every request
    # What some routes serve, for tests to compare with.
    photo: ClassVar[bytes] = PHOTO
    gzipped_text: ClassVar[bytes] = GZIPPED_TEXT
    bomb_size: ClassVar[int] = BOMB_SIZE

    def url(self, path: str) -> str:
        return self.base + path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked responses need it
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.server.seen.append({k.lower(): v for k, v in self.headers.items()})
        path = urlsplit(self.path).path
        query = parse_qs(urlsplit(self.path).query)
        # The fetcher hangs up on purpose when a body is too large or too slow.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self._route(path, query)

    def _route(self, path: str, query: dict[str, list[str]]) -> None:
        if path == "/media/photo.jpg":
            self._send(200, PHOTO, {"Content-Type": "Image/JPEG; quality=high"})
        elif path == "/attachment":
            disposition = query.get("cd", ['attachment; filename="report.pdf"'])[0]
            self._send(200, b"%PDF-", {"Content-Disposition": disposition})
        elif path.startswith("/hop/"):
            left = int(path.removeprefix("/hop/"))
            if left == 0:
                self._send(200, b"arrived", {"Content-Type": "text/plain"})
            else:
                self._send(302, b"", {"Location": f"/hop/{left - 1}"})
        elif path == "/to":
            self._send(int(query.get("status", ["302"])[0]), b"", {"Location": query["url"][0]})
        elif path == "/redirect-without-location":
            self._send(302, b"", {})
        elif path.startswith("/status/"):
            self._send(int(path.removeprefix("/status/")), b"nope", {})
        elif path == "/echo-host":
            self._send(200, self.headers["Host"].encode(), {})
        elif path == "/declared-huge":
            self._send_head(200, {"Content-Length": str(10**9)})
            self.wfile.write(b"x" * 1024)
        elif path == "/endless-chunks":
            self._send_head(200, {"Transfer-Encoding": "chunked"})
            for _ in range(2000):  # 32 MiB at most, should the fetcher fail to stop
                self._chunk(b"x" * 16384)
        elif path == "/exact":
            size = int(query["size"][0])
            self._send_head(200, {"Transfer-Encoding": "chunked"})
            self._chunk(b"y" * size)
            self._chunk(b"")
        elif path == "/slow-headers":
            self.server.release.wait(5)
            self._send(200, b"late", {})
        elif path == "/drip":
            self._send_head(200, {"Transfer-Encoding": "chunked"})
            for _ in range(50):
                self._chunk(b"d")
                if self.server.release.wait(0.05):
                    break
        elif path == "/gzip":
            self._send(200, gzip.compress(GZIPPED_TEXT), {"Content-Encoding": "gzip"})
        elif path == "/gzip-bomb":
            self._send(200, self.server.bomb, {"Content-Encoding": "gzip"})
        elif path == "/brotli":
            self._send(200, b"\x1b\x00", {"Content-Encoding": "br"})
        else:
            self._send(200, b"index", {})

    def _send_head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self._send_head(status, {**headers, "Content-Length": str(len(body))})
        self.wfile.write(body)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[dict[str, str]]
    release: threading.Event
    bomb: bytes


@contextlib.contextmanager
def _serve(context: ssl.SSLContext | None) -> Iterator[tuple[_Server, int]]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.seen = []
    server.release = threading.Event()
    server.bomb = _bomb()
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server, server.server_address[1]
    finally:
        server.release.set()  # lets slow handlers finish at once
        server.shutdown()
        server.server_close()
        thread.join()


_BOMB: list[bytes] = []


def _bomb() -> bytes:
    if not _BOMB:
        _BOMB.append(gzip.compress(bytes(BOMB_SIZE), compresslevel=9))
    return _BOMB[0]


@pytest.fixture(scope="session")
def http_server() -> Iterator[LoopbackServer]:
    with _serve(None) as (server, port):
        yield LoopbackServer(base=f"http://127.0.0.1:{port}", port=port, seen=server.seen)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name ``media.test`` (key, certificate)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=media.test"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=DNS:media.test", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


@pytest.fixture(scope="session")
def https_server(tls_files: tuple[Path, Path]) -> Iterator[LoopbackServer]:
    key, cert = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with _serve(context) as (server, port):
        yield LoopbackServer(base=f"https://127.0.0.1:{port}", port=port, seen=server.seen)


@pytest.fixture
def elapsed() -> Callable[[], float]:
    start = time.monotonic()
    return lambda: time.monotonic() - start
