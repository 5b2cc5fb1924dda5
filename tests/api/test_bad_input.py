"""Hostile and broken input gets a stable error code and status, never a 500 or a bare body."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator

import httpx
import pytest

from bastion.demo.media import make_photo

from .conftest import ApiServer
from .helpers import error_code, upload


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header claims ``width`` x ``height`` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"", "image/jpeg", 422, "media_empty"),
        (b"\xff\xd8\xff\xe0" + b"\x00garbage" * 200, "image/jpeg", 422, "media_corrupt"),
        (make_photo(7100, size=(256, 192), fmt="PNG")[:2000], "image/png", 422, "media_corrupt"),
        (png_claiming(100_000, 100_000), "image/png", 422, "image_too_large"),
    ],
    ids=["zero-byte", "corrupt-jpeg", "truncated-png", "decompression-bomb"],
)
def test_broken_media_is_refused(
    client: httpx.Client, data: bytes, content_type: str, status: int, code: str
) -> None:
    for route in ("/v1/scan", "/v1/hash"):
        as_form = upload(client, route, data, content_type=content_type)
        assert (as_form.status_code, error_code(as_form)) == (status, code)
        raw = client.post(route, content=data, headers={"Content-Type": content_type})
        assert (raw.status_code, error_code(raw)) == (status, code)


def test_text_declared_as_a_jpeg_is_refused(client: httpx.Client) -> None:
    response = client.post(
        "/v1/scan", content=b"hello, this is text", headers={"Content-Type": "image/jpeg"}
    )
    assert response.status_code == 415
    assert error_code(response) == "media_unsupported"
    assert response.json()["error"]["declared_kind"] == "photo"


def test_unaccepted_body_types_are_415(client: httpx.Client) -> None:
    for route in ("/v1/scan", "/v1/hash", "/v1/banks/any/entries/media"):
        response = client.post(route, content=b"hi", headers={"Content-Type": "text/plain"})
        assert response.status_code == 415, route
        assert error_code(response) == "media_unsupported"


def test_malformed_json_is_invalid_json(client: httpx.Client) -> None:
    for route in ("/v1/scan", "/v1/banks", "/v1/keys", "/v1/hash"):
        response = client.post(
            route, content=b'{"name": "x",', headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, route
        assert error_code(response) == "invalid_json"


def test_scan_json_needs_exactly_one_source(client: httpx.Client) -> None:
    both = client.post("/v1/scan", json={"url": "http://example.org/", "signals": []})
    assert (both.status_code, error_code(both)) == (422, "validation_error")
    neither = client.post("/v1/scan", json={"external_id": "x"})
    assert error_code(neither) == "validation_error"
    empty = client.post("/v1/scan", json={"signals": []})
    assert error_code(empty) == "invalid_input"
    bad_signal = client.post("/v1/scan", json={"signals": [{"type": "pdq", "value": "00"}]})
    assert (bad_signal.status_code, error_code(bad_signal)) == (422, "invalid_signal")
    unknown = client.post("/v1/scan", json={"signals": [{"type": "tmk", "value": "00"}]})
    assert error_code(unknown) == "invalid_signal"
    long_id = client.post("/v1/scan", json={"url": "http://x.org/", "external_id": "x" * 300})
    assert error_code(long_id) == "validation_error"


def test_broken_multipart_bodies(client: httpx.Client) -> None:
    boundary = "b0undary"
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    part = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + make_photo(7101, size=(64, 64))
    cut_short = client.post("/v1/scan", content=part, headers=headers)
    assert (cut_short.status_code, error_code(cut_short)) == (400, "invalid_multipart")

    no_file = client.post("/v1/scan", data={"external_id": "x"}, files={"other": b"x"})
    assert error_code(no_file) == "invalid_multipart"
    fields_only = client.post(
        "/v1/scan",
        content=f'--{boundary}\r\nContent-Disposition: form-data; name="external_id"\r\n\r\n'
        f"x\r\n--{boundary}--\r\n",
        headers=headers,
    )
    assert error_code(fields_only) == "invalid_multipart"
    no_boundary = client.post(
        "/v1/scan", content=b"x", headers={"Content-Type": "multipart/form-data"}
    )
    assert error_code(no_boundary) == "invalid_multipart"


def test_unknown_routes_and_methods(client: httpx.Client) -> None:
    missing = client.get("/v1/nothing-here")
    assert (missing.status_code, error_code(missing)) == (404, "not_found")
    wrong = client.put("/v1/banks")
    assert (wrong.status_code, error_code(wrong)) == (405, "method_not_allowed")
    assert "GET" in wrong.headers["allow"]
    bad_query = client.get("/v1/audit", params={"limit": 0})
    assert (bad_query.status_code, error_code(bad_query)) == (422, "validation_error")
    bad_path = client.get("/v1/banks/x/entries/not-a-number")
    assert error_code(bad_path) == "validation_error"


def test_oversize_upload_by_content_length(small_api: ApiServer) -> None:
    too_big = b"\xff\xd8\xff\xe0" + b"\x00" * (70 * 1024)  # a JPEG start, then nothing
    with small_api.client() as http:
        for route in ("/v1/scan", "/v1/banks", "/v1/banks/any/import"):
            response = http.post(route, content=too_big, headers={"Content-Type": "image/jpeg"})
            assert response.status_code == 413, route
            assert error_code(response) == "upload_too_large"
            assert response.json()["error"]["max_bytes"] == 64 * 1024
        # Just under the cap is read and judged on its content.
        fits = http.post(
            "/v1/scan", content=too_big[: 60 * 1024], headers={"Content-Type": "image/jpeg"}
        )
        assert error_code(fits) == "media_corrupt"


def test_oversize_upload_by_chunked_streaming(small_api: ApiServer) -> None:
    form_start = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'

    def chunks(first: bytes = b"") -> Iterator[bytes]:
        yield first
        for _ in range(10):
            yield b"\x00" * 8192  # 80 KiB in all, sent without a Content-Length

    with small_api.client() as http:
        for route, content_type, first in [
            ("/v1/scan", "image/jpeg", b""),
            ("/v1/banks", "application/json", b""),
            ("/v1/scan", "multipart/form-data; boundary=xyz", form_start),
        ]:
            response = http.post(
                route, content=chunks(first), headers={"Content-Type": content_type}
            )
            assert response.status_code == 413, (route, content_type)
            assert error_code(response) == "upload_too_large"
        # The server is fine afterwards.
        assert http.get("/healthz").status_code == 200
