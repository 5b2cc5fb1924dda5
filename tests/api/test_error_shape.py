"""No route ever answers with FastAPI's bare ``{"detail": ...}`` or with a 500 for bad input."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.api import create_app
from bastion.demo.media import make_photo
from bastion.runtime import Bastion
from bastion.settings import Settings as BastionSettings

from .conftest import ApiServer, ServerThread
from .helpers import TAXII_ERROR_KEYS, TAXII_PREFIX, error_code, error_keys

ATTEMPTS: list[dict[str, Any]] = [
    {},
    {"content": b"{", "headers": {"Content-Type": "application/json"}},
    {"content": b"[1, 2]", "headers": {"Content-Type": "application/json"}},
    {"content": b"x", "headers": {"Content-Type": "text/plain"}},
    {"content": b"\x00\x01", "headers": {"Content-Type": "image/png"}},
    {"params": {"limit": "abc", "after_id": "-1", "before_id": "x", "partial": "maybe"}},
]


def test_every_error_has_the_error_shape(api: ApiServer, client: httpx.Client) -> None:
    spec: dict[str, Any] = client.get("/openapi.json").json()
    checked = 0
    anonymous = api.client("")
    for template, item in spec["paths"].items():
        path = re.sub(r"\{[^}]+\}", "1", template)
        for method in item:
            for attempt in ATTEMPTS:
                for http in (client, anonymous):
                    response = http.request(method.upper(), path, **attempt)
                    where = (method, path, attempt, response.text[:300])
                    assert response.status_code != 500, where
                    if response.status_code >= 400 and path.startswith(TAXII_PREFIX):
                        # TAXII's own error message, with Bastion's stable code in error_code.
                        keys = set(response.json())
                        assert TAXII_ERROR_KEYS <= keys <= TAXII_ERROR_KEYS | {"details"}, where
                    elif response.status_code >= 400:
                        body = response.json()
                        assert set(body) == error_keys(path), where
                        assert {"code", "detail"} <= set(body["error"]), where
                        assert (
                            body.get("message", body["error"]["detail"])
                            == (body["error"]["detail"])
                        ), where
                    checked += 1
    anonymous.close()
    assert checked > 200


def test_an_unexpected_exception_is_an_opaque_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bastion = Bastion.from_settings(BastionSettings(data_dir=tmp_path))
    app = create_app(bastion)

    @app.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    server = ServerThread(app)
    try:
        with caplog.at_level(logging.ERROR, logger="bastion.api"):
            response = httpx.get(f"{server.start()}/v1/boom")
    finally:
        server.stop()
        bastion.close()
    assert response.status_code == 500
    assert error_code(response) == "internal_error"
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    logged = [r for r in caplog.records if r.name == "bastion.api"]
    assert logged
    assert logged[0].exc_info is not None


SMALL_JPEG = make_photo(7300, size=(96, 64))
SMALL_PNG = make_photo(7301, size=(96, 64), fmt="PNG")
MEDIA_TYPES = ["image/jpeg", "image/png", "video/mp4", "application/octet-stream", "image/gif"]


def _damaged(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    damaged = bytearray(data[: max(1, cut % (len(data) + 1))])
    for position, value in flips:
        damaged[position % len(damaged)] = value
    return bytes(damaged)


@given(
    base=st.sampled_from([SMALL_JPEG, SMALL_PNG, b""]),
    cut=st.integers(min_value=0, max_value=1 << 20),
    flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=6),
    noise=st.binary(max_size=512),
    content_type=st.sampled_from(MEDIA_TYPES),
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_damaged_media_never_breaks_the_server(
    api: ApiServer,
    client: httpx.Client,
    base: bytes,
    cut: int,
    flips: list[tuple[int, int]],
    noise: bytes,
    content_type: str,
) -> None:
    data = (_damaged(base, cut, flips) if base else b"") + noise
    response = client.post("/v1/hash", content=data, headers={"Content-Type": content_type})
    assert response.status_code in {200, 413, 415, 422}, response.text
    if response.status_code != 200:
        assert error_code(response).startswith(("media_", "image_", "video_"))
