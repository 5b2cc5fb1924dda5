"""Small helpers for the API tests: error-body checks and media uploads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

HMA_PREFIXES = ("/h/", "/m/", "/c/")
TAXII_PREFIX = "/taxii2/"
# TAXII 2.1 routes answer with TAXII's error message; its error_code is Bastion's stable code.
TAXII_ERROR_KEYS = {"title", "description", "error_code", "http_status"}
TAXII_OPTIONAL_KEYS = {"details"}  # the parameter at fault, as TAXII allows


def error_keys(path: str) -> set[str]:
    """Bastion's ``error`` object; HMA-compatible routes add HMA's ``message`` beside it."""
    return {"error", "message"} if path.startswith(HMA_PREFIXES) else {"error"}


def error_code(response: httpx.Response) -> str:
    """The error code of an error response, after checking the body has the one error shape."""
    body = response.json()
    if response.request.url.path.startswith(TAXII_PREFIX):
        assert TAXII_ERROR_KEYS <= set(body) <= TAXII_ERROR_KEYS | TAXII_OPTIONAL_KEYS, body
        assert body["http_status"] == str(response.status_code), body
        taxii_code: str = body["error_code"]
        return taxii_code
    assert isinstance(body["error"]["detail"], str), body
    assert set(body) == error_keys(response.request.url.path), body
    code: str = body["error"]["code"]
    return code


def upload(
    client: httpx.Client,
    path: str,
    data: bytes,
    *,
    filename: str = "upload.jpg",
    content_type: str = "image/jpeg",
    fields: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> httpx.Response:
    """POST ``data`` as the ``file`` part of a multipart form."""
    return client.post(
        path,
        files={"file": (filename, data, content_type)},
        data=fields or {},
        params=params,
    )


def create_bank(client: httpx.Client, name: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/banks", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def pdq_of(client: httpx.Client, data: bytes) -> str:
    """The PDQ hash the server computes for a photo."""
    response = client.post("/v1/hash", content=data, headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 200, response.text
    values = [s["value"] for s in response.json()["signals"] if s["type"] == "pdq"]
    assert len(values) == 1
    return str(values[0])


@contextmanager
def serve_files(files: dict[str, tuple[bytes, str]]) -> Iterator[str]:
    """A web server on loopback serving ``{path: (bytes, content type)}``; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = files.get(self.path.split("?")[0])
            if found is None:
                self.send_error(404)
                return
            data, kind = found
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
