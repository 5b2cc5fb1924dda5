"""URL scans: the server fetches, refusing private and loopback addresses unless allowed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bastion.demo.media import make_photo

from .conftest import ApiServer
from .helpers import create_bank, error_code, serve_files, upload

PHOTO = make_photo(7200)


@pytest.fixture(scope="module")
def photo_site() -> Iterator[str]:
    """A web server on loopback serving one photo."""
    with serve_files({"/photo.jpg": (PHOTO, "image/jpeg")}) as url:
        yield url


def test_loopback_urls_are_refused_by_default(client: httpx.Client, photo_site: str) -> None:
    for url in (f"{photo_site}/photo.jpg", "http://localhost:1/", "http://[::1]/", "file:///etc"):
        response = client.post("/v1/scan", json={"url": url})
        assert response.status_code == 422, url
        assert error_code(response) == "url_blocked"


def test_private_fetching_can_be_allowed(private_fetch_api: ApiServer, photo_site: str) -> None:
    with private_fetch_api.client() as http:
        bank = "url-bank"
        create_bank(http, bank, labels=["tvec6"])
        assert upload(http, f"/v1/banks/{bank}/entries/media", PHOTO).status_code == 201

        response = http.post(
            "/v1/scan", json={"url": f"{photo_site}/photo.jpg", "external_id": "u1"}
        )
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["name"] == "photo.jpg"
        assert result["matched"] is True
        assert {m["bank"] for m in result["matches"]} == {bank}

        hashed = http.post("/v1/hash", json={"url": f"{photo_site}/photo.jpg"})
        assert hashed.status_code == 200
        missing = http.post("/v1/scan", json={"url": f"{photo_site}/nothing.jpg"})
        assert missing.status_code == 502
        assert error_code(missing) == "fetch_failed"
