"""A scriptable TAXII server on loopback, for answers no well-behaved server gives."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bastion.share import stix

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
TAXII = "application/taxii+json;version=2.1"


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)


# Given the request's query (one value per name) and body, the answer to send.
Script = Callable[[dict[str, str], bytes], Answer]


@dataclass
class Stub:
    base_url: str
    requests: list[tuple[str, str, dict[str, str], bytes]]
    routes: dict[tuple[str, str], Script]

    @property
    def api_root(self) -> str:
        return f"{self.base_url}/api/"

    @property
    def objects_path(self) -> str:
        return f"/api/collections/{COLLECTION}/objects/"

    def on_objects(self, script: Script) -> None:
        self.routes[("GET", self.objects_path)] = script

    def pages(self, *answers: Answer) -> None:
        """Serve ``answers`` in turn to successive object requests (the last one repeats)."""
        served = iter(answers)
        last: list[Answer] = []

        def script(_query: dict[str, str], _body: bytes) -> Answer:
            answer = next(served, None)
            if answer is None:
                return last[0]
            last[:] = [answer]
            return answer

        self.on_objects(script)


@contextmanager
def taxii_stub() -> Iterator[Stub]:
    requests: list[tuple[str, str, dict[str, str], bytes]] = []
    routes: dict[tuple[str, str], Script] = {}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            requests.append((method, parts.path, {**query, **headers}, body))
            script = routes.get((method, parts.path))
            answer = script(query, body) if script else Answer(404, b'{"title": "not found"}')
            self.send_response(answer.status)
            self.send_header("Content-Type", TAXII)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Stub(f"http://127.0.0.1:{server.server_address[1]}", requests, routes)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def indicator(
    number: int,
    *,
    modified: str = "2026-03-01T00:00:00.000Z",
    note: str = "",
    revoked: bool = False,
    tlp: str | None = "green",
    pattern: str | None = None,
    ident: str | None = None,
) -> dict[str, Any]:
    """An indicator of our profile for MD5 ``number`` (its id depends on the number alone)."""
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ident or f"indicator--00000000-0000-4000-8000-{number:012d}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "pattern": pattern or f"[file:hashes.MD5 = '{number:032x}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00.000Z",
        "labels": ["tvec6"],
    }
    if note:
        obj["description"] = note
    if revoked:
        obj["revoked"] = True
    if tlp is not None:
        from bastion.banks.records import Tlp

        obj["object_marking_refs"] = [stix.TLP_MARKING_IDS[Tlp(tlp)]]
    return obj


def envelope(
    objects: list[dict[str, Any]],
    *,
    more: bool = False,
    next_token: str | None = None,
    last: str | None = "2026-03-01T00:00:00.000000Z",
    extra_headers: dict[str, str] | None = None,
) -> Answer:
    body: dict[str, Any] = {"more": more}
    if objects:
        body["objects"] = objects
    if next_token is not None:
        body["next"] = next_token
    headers = dict(extra_headers or {})
    if last is not None:
        headers["X-TAXII-Date-Added-Last"] = last
    return Answer(200, json.dumps(body).encode(), headers)
