"""Scanning over HTTP: edited copies match with reasons; negative banks, disabled entries and
disabled banks stop matches; precomputed signals and /v1/hash."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from bastion.api.schemas import HashResponse, MatchOut, ScanResponse
from bastion.demo.media import edit_photo, make_photo, make_video
from bastion.storage.models import ContentRow

from .conftest import ApiServer
from .helpers import create_bank, pdq_of, upload


def _bank_photo(
    client: httpx.Client, bank: str, photo: bytes, **fields: str
) -> list[dict[str, Any]]:
    response = upload(client, f"/v1/banks/{bank}/entries/media", photo, fields=fields)
    assert response.status_code == 201, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def _scan(client: httpx.Client, data: bytes, **fields: str) -> dict[str, Any]:
    response = upload(client, "/v1/scan", data, fields=fields)
    assert response.status_code == 200, response.text
    return _documented(response.json())


def _documented(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` after checking it has exactly the shape /openapi.json documents."""
    assert set(result) == set(ScanResponse.model_fields)
    ScanResponse.model_validate(result)
    for match in result["matches"]:
        assert set(match) == set(MatchOut.model_fields)
    return result


def _matches_in(result: dict[str, Any], bank: str) -> list[dict[str, Any]]:
    return [m for m in result["matches"] if m["bank"] == bank]


def test_an_edited_copy_matches_with_the_reason(
    api: ApiServer, client: httpx.Client, bank_name: str
) -> None:
    create_bank(client, bank_name, labels=["tvec1"], tlp="amber")
    original = make_photo(7001)
    _bank_photo(client, bank_name, original, labels="tvec8")
    edited = edit_photo(original, "resize")

    result = _scan(client, edited, external_id="post-123")
    assert result["matched"] is True
    assert result["kind"] == "photo"
    assert result["media"]["width"] == 512
    assert {s["type"] for s in result["signals"]} >= {"pdq", "md5", "sha256"}
    (match,) = _matches_in(result, bank_name)
    assert match["signal_type"] == "pdq"
    assert match["bank_kind"] == "positive"
    assert match["labels"] == ["tvec1", "tvec8"]
    assert 0 <= match["distance"] <= match["threshold"] == 31
    assert match["provenance"]["added_from"] == "upload:upload.jpg"
    assert match["provenance"]["added_by"].startswith("key:")
    assert bank_name in match["reason"]
    assert match["reason"] in result["reasons"]
    assert match["suppressed"] is False

    with api.bastion.db.session() as session:
        content = session.get(ContentRow, result["content_id"])
        assert content is not None
        assert content.external_id == "post-123"
    entry = client.get(f"/v1/banks/{bank_name}/entries/{match['entry_id']}").json()
    assert entry["last_seen"] is not None


def test_a_clean_photo_does_not_match(client: httpx.Client) -> None:
    raw = client.post(
        "/v1/scan",
        content=make_photo(7002),
        headers={"Content-Type": "image/jpeg"},
        params={"name": "holiday.jpg", "external_id": "p-9"},
    )
    assert raw.status_code == 200
    result = raw.json()
    assert result["matched"] is False
    assert result["matches"] == []
    assert result["name"] == "holiday.jpg"
    assert isinstance(result["content_id"], int)


def test_a_video_matches_a_banked_video(client: httpx.Client, bank_name: str) -> None:
    create_bank(client, bank_name, labels=["tvec1"])
    banked = make_video(7003, seconds=3.0, fps=10, size=(320, 180))
    response = upload(
        client,
        f"/v1/banks/{bank_name}/entries/media",
        banked,
        filename="attack.mp4",
        content_type="video/mp4",
    )
    assert response.status_code == 201, response.text
    assert "vpdq" in {e["signal_type"] for e in response.json()["entries"]}

    reupload = make_video(7003, seconds=3.0, fps=10, size=(384, 216))
    response = client.post("/v1/scan", content=reupload, headers={"Content-Type": "video/mp4"})
    result = _documented(response.json())
    assert result["kind"] == "video"
    assert result["matched"] is True
    assert "vpdq" in {m["signal_type"] for m in _matches_in(result, bank_name)}


def test_a_negative_bank_suppresses_the_match(client: httpx.Client, bank_name: str) -> None:
    photo = make_photo(7004)
    create_bank(client, bank_name)
    _bank_photo(client, bank_name, photo)
    negative = f"{bank_name}-fp"
    create_bank(client, negative, kind="negative", labels=["tvec0"])
    _bank_photo(client, negative, photo, note="a news photo")

    result = _scan(client, edit_photo(photo, "brighten"))
    assert result["matched"] is False
    (positive,) = _matches_in(result, bank_name)
    assert positive["suppressed"] is True
    assert positive["suppressed_by"]["bank"] == negative
    assert "suppressed" in positive["reason"]


def test_disabled_entries_and_banks_do_not_match(client: httpx.Client, bank_name: str) -> None:
    photo = make_photo(7005)
    edited = edit_photo(photo, "reencode")
    create_bank(client, bank_name)
    entries = _bank_photo(client, bank_name, photo)
    pdq_entry = next(e for e in entries if e["signal_type"] == "pdq")
    entry_path = f"/v1/banks/{bank_name}/entries/{pdq_entry['id']}"
    assert _matches_in(_scan(client, edited), bank_name)

    client.patch(entry_path, json={"disabled_until": "2999-01-01T00:00:00+00:00"})
    assert _matches_in(_scan(client, edited), bank_name) == []
    client.patch(entry_path, json={"disabled_until": "2000-01-01T00:00:00+00:00"})
    assert _matches_in(_scan(client, edited), bank_name)  # the date has passed

    client.patch(f"/v1/banks/{bank_name}", json={"enabled": False})
    assert _matches_in(_scan(client, edited), bank_name) == []
    client.patch(f"/v1/banks/{bank_name}", json={"enabled": True})
    assert _matches_in(_scan(client, edited), bank_name)


def test_precomputed_signals_match_without_media(client: httpx.Client, bank_name: str) -> None:
    photo = make_photo(7006)
    pdq = pdq_of(client, photo)
    create_bank(client, bank_name)
    added = client.post(
        f"/v1/banks/{bank_name}/entries", json=[{"signal_type": "pdq", "value": pdq}]
    )
    assert added.status_code == 201

    near = pdq_of(client, edit_photo(photo, "grayscale"))
    response = client.post(
        "/v1/scan",
        json={"signals": [{"type": "pdq", "value": near.upper()}], "external_id": "hash-only"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["kind"] is None
    assert result["matched"] is True
    assert _matches_in(result, bank_name)[0]["signal_type"] == "pdq"


def test_hash_only_computes_signals_and_records_nothing(
    api: ApiServer, client: httpx.Client
) -> None:
    def content_rows() -> int:
        with api.bastion.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(ContentRow)) or 0)

    before = content_rows()
    response = upload(client, "/v1/hash", make_photo(7007), filename="x.jpg")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == set(HashResponse.model_fields)
    HashResponse.model_validate(body)
    assert body["name"] == "x.jpg"
    assert {s["type"] for s in body["signals"]} >= {"pdq", "md5", "sha256"}
    supplied = client.post("/v1/hash", json={"signals": [{"type": "md5", "value": "A" * 32}]})
    assert supplied.json()["signals"] == [{"type": "md5", "value": "a" * 32}]
    assert content_rows() == before


def test_signal_types_list_names_and_default_thresholds(client: httpx.Client) -> None:
    listed = client.get("/v1/signal-types").json()["signal_types"]
    by_name = {item["name"]: item for item in listed}
    assert {"pdq", "md5", "sha256"} <= set(by_name)
    assert by_name["pdq"]["default_threshold"] == 31
    assert by_name["vpdq"]["default_threshold"] == 31  # per frame
    assert by_name["md5"]["default_threshold"] == 0  # identical values only
    assert all(item["display_name"] for item in listed)
