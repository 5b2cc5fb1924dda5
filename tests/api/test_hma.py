"""The HMA 2.x-compatible API (/h, /m, /c), driven as HMA's own clients and tests drive it.

Every response is checked field by field against HMA's shapes; errors carry HMA's ``message`` and
Bastion's ``error.code`` together.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image, ImageOps

from bastion.demo import edits
from bastion.demo.media import edit_photo, make_photo, make_video

from .conftest import ApiServer
from .helpers import serve_files

PHOTO = make_photo(9400)
OTHER_PHOTO = make_photo(9401)
VIDEO = make_video(9402, seconds=3.0, fps=6, size=(160, 120))
# Two PDQ hashes 9 bits apart (the pair HMA's own compare test uses).
SPECIMEN_1 = "facd8bcb2a49bcebdec1985298d5fe84bcd006c187c598c720c3c087b3fdb318"
SPECIMEN_2 = "facd8bcb2a49bcebdec1985228d5ae84bcd006c187c598c720c2b087b3fdb318"
HEX64 = set("0123456789abcdef")


def _name() -> str:
    """A bank name no other test uses, in HMA's UPPER_WITH_UNDERSCORE form."""
    return f"HMA_{uuid.uuid4().hex[:10].upper()}"


def _hma_error(response: httpx.Response, status: int, code: str) -> str:
    """Check an error has HMA's ``message`` and Bastion's ``error``; return the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "error"}, body
    assert body["error"]["code"] == code, body
    assert body["message"] == body["error"]["detail"]
    message: str = body["message"]
    return message


def _create(http: httpx.Client, name: str, **fields: Any) -> dict[str, Any]:
    response = http.post("/c/banks", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _flip(pdq: str, bits: int) -> str:
    """``pdq`` with its lowest ``bits`` bits inverted."""
    return f"{int(pdq, 16) ^ ((1 << bits) - 1):064x}"


@pytest.fixture(scope="module")
def media_site() -> Iterator[str]:
    """A web server on loopback serving two photos."""
    with serve_files(
        {"/photo.jpg": (PHOTO, "image/jpeg"), "/other.jpg": (OTHER_PHOTO, "image/jpeg")}
    ) as url:
        yield url


@pytest.fixture
def hma(api: ApiServer) -> Iterator[httpx.Client]:
    """A client sending the admin key bare, as HMA clients send their token."""
    with httpx.Client(
        base_url=api.base_url, headers={"Authorization": api.admin_secret}, timeout=60
    ) as http:
        yield http


# --- /h ---------------------------------------------------------------------------------------


def test_hash_upload_answers_hma_types_and_shapes(hma: httpx.Client) -> None:
    photo = hma.post("/h/hash", files={"photo": ("a.jpg", PHOTO, "image/jpeg")})
    assert photo.status_code == 200, photo.text
    assert list(photo.json()) == ["pdq"]
    assert set(photo.json()["pdq"]) <= HEX64
    assert len(photo.json()["pdq"]) == 64
    raw = hma.post("/h/hash", content=PHOTO, headers={"Content-Type": "image/jpeg"})
    assert raw.json() == photo.json()
    # Bastion's own part name and extra types, in the order asked.
    typed = hma.post(
        "/h/hash", params={"types": "sha256,md5"}, files={"file": ("a.jpg", PHOTO, "image/jpeg")}
    )
    assert list(typed.json()) == ["sha256", "md5"]
    assert len(typed.json()["md5"]) == 32

    video = hma.post("/h/hash", files={"video": ("v.mp4", VIDEO, "video/mp4")})
    assert video.status_code == 200, video.text
    assert list(video.json()) == ["video_md5", "vpdq"]
    frames = json.loads(video.json()["vpdq"])  # HMA's vPDQ: JSON list of "hex,quality,seconds"
    assert len(frames) == 3
    pdq, quality, seconds = frames[1].split(",")
    assert len(pdq) == 64
    assert 0 <= int(quality) <= 100
    assert float(seconds) == 1.0

    wrong = hma.post("/h/hash", files={"video": ("a.jpg", PHOTO, "image/jpeg")})
    assert "the content is a photo" in _hma_error(wrong, 400, "invalid_input")
    unknown = hma.post("/h/hash", params={"types": "tmk"}, files={"photo": ("a", PHOTO)})
    assert "No such SignalType" in _hma_error(unknown, 400, "invalid_signal")
    no_file = hma.post("/h/hash", files={"other": ("a.jpg", PHOTO, "image/jpeg")})
    _hma_error(no_file, 400, "invalid_multipart")
    two = hma.post(
        "/h/hash", files=[("photo", ("a.jpg", PHOTO, "image/jpeg")), ("photo", ("b", PHOTO))]
    )
    assert "Only one file" in _hma_error(two, 400, "invalid_multipart")


def test_hash_url_is_fetched_under_the_guard(
    private_fetch_api: ApiServer, api: ApiServer, media_site: str
) -> None:
    url = f"{media_site}/photo.jpg"
    with private_fetch_api.client() as http:
        hashed = http.get("/h/hash", params={"url": url})
        assert hashed.status_code == 200, hashed.text
        uploaded = http.post("/h/hash", files={"photo": ("a.jpg", PHOTO, "image/jpeg")})
        assert hashed.json() == uploaded.json()
        photo_as_video = http.get("/h/hash", params={"url": url, "content_type": "video"})
        _hma_error(photo_as_video, 400, "invalid_input")
        unknown_kind = http.get("/h/hash", params={"url": url, "content_type": "text"})
        assert "no such content_type" in _hma_error(unknown_kind, 400, "invalid_input")
        missing = http.get("/h/hash", params={"url": f"{media_site}/gone.jpg"})
        _hma_error(missing, 502, "fetch_failed")
        _hma_error(http.get("/h/hash"), 422, "validation_error")
    with api.client() as http:  # the default server refuses loopback addresses
        _hma_error(http.get("/h/hash", params={"url": url}), 400, "url_blocked")


# --- /c and /m together -----------------------------------------------------------------------


def test_banked_photo_is_found_by_lookup(hma: httpx.Client) -> None:
    bank = _name()
    assert _create(hma, bank) == {"matching_enabled_ratio": 1.0, "name": bank}
    added = hma.post(
        f"/c/bank/{bank}/content",
        files={"photo": ("orig.jpg", PHOTO, "image/jpeg")},
        data={"note": "attack footage still"},
    )
    assert added.status_code == 200, added.text
    assert set(added.json()) == {"id", "signals"}
    content_id, pdq = added.json()["id"], added.json()["signals"]["pdq"]
    assert list(added.json()["signals"]) == ["pdq"]

    edited = edit_photo(PHOTO, "resize")
    found = hma.post("/m/lookup", files={"photo": ("edit.jpg", edited, "image/jpeg")})
    assert found.status_code == 200, found.text
    assert list(found.json()) == ["pdq"]
    [match] = found.json()["pdq"][bank]
    assert match["bank_content_id"] == content_id
    assert isinstance(match["distance"], str)
    assert 0 <= int(match["distance"]) <= 31

    by_hash = hma.get("/m/lookup", params={"signal_type": "pdq", "signal": pdq})
    assert by_hash.json() == {bank: [{"bank_content_id": content_id, "distance": "0"}]}
    other_bank = hma.get("/m/lookup", params={"signal_type": "pdq", "signal": pdq, "banks": "X"})
    assert other_bank.json() == {}
    nothing = hma.post("/m/lookup", files={"photo": ("o.jpg", OTHER_PHOTO, "image/jpeg")})
    assert nothing.json() == {"pdq": {}}
    assert set(match) == {"bank_content_id", "distance"}  # a plain match: HMA's fields only

    # Edited copies match too, with Bastion's extra fields naming the undone edit.
    for edit, variant, bank_variant in [
        (ImageOps.mirror, "mirror", "pdq"),
        (edits.crop_side(0.10), "uncrop:", "inner"),
        (edits.screenshot, "region", "pdq"),
    ]:
        with Image.open(io.BytesIO(PHOTO)) as opened:
            copy = io.BytesIO()
            edit(opened.convert("RGB")).save(copy, "JPEG", quality=90)
        found = hma.post("/m/lookup", files={"photo": ("c.jpg", copy.getvalue(), "image/jpeg")})
        [match] = found.json()["pdq"][bank]
        assert match["bank_content_id"] == content_id
        assert match["bastion_variant"].startswith(variant), match
        assert match["bastion_bank_variant"] == bank_variant
    _hma_error(hma.get("/m/lookup", params={"signal": pdq}), 400, "invalid_input")
    no_bank = hma.post("/c/bank/NO_SUCH_BANK/content", files={"photo": ("a.jpg", PHOTO)})
    assert "NO_SUCH_BANK" in _hma_error(no_bank, 404, "bank_not_found")

    content = hma.get(f"/c/bank/{bank}/content/{content_id}")
    assert content.json() == {
        "id": content_id,
        "disable_until_ts": 1,
        "enabled": True,
        "collab_metadata": {},
        "original_media_uri": None,
        "bank": {"name": bank, "matching_enabled_ratio": 1.0},
        "note": "attack footage still",
        "metadata": None,
    }


def test_url_content_and_url_lookup(private_fetch_api: ApiServer, media_site: str) -> None:
    bank = _name()
    with private_fetch_api.client() as http:
        _create(http, bank)
        added = http.post(
            f"/c/bank/{bank}/content",
            params={"url": f"{media_site}/photo.jpg?token=secret", "content_type": "photo"},
            json={"metadata": {"content_id": "1197433091", "json": {"case": {}}}},
        )
        assert added.status_code == 200, added.text
        content_id = added.json()["id"]
        shown = http.get(f"/c/bank/{bank}/content/{content_id}").json()
        assert shown["original_media_uri"] == f"{media_site}/photo.jpg"  # query (token) dropped

        found = http.get("/m/lookup", params={"url": f"{media_site}/photo.jpg"})
        assert found.json() == {"pdq": {bank: [{"bank_content_id": content_id, "distance": "0"}]}}
        only_pdq = http.get(
            "/m/lookup", params={"url": f"{media_site}/photo.jpg", "signal_type": "pdq"}
        )
        assert only_pdq.json() == {bank: [{"bank_content_id": content_id, "distance": "0"}]}

        bad_metadata = http.post(
            f"/c/bank/{bank}/content",
            params={"url": f"{media_site}/other.jpg"},
            json={"metadata": {"invalid_metadata": 5}},
        )
        assert "Invalid metadata" in _hma_error(bad_metadata, 400, "invalid_input")
        neither = http.post(f"/c/bank/{bank}/content")
        assert "Neither" in _hma_error(neither, 400, "invalid_input")
        again = http.post(f"/c/bank/{bank}/content", params={"url": f"{media_site}/photo.jpg"})
        _hma_error(again, 409, "conflict")


def test_signals_raw_lookup_and_distances(hma: httpx.Client) -> None:
    bank, other = _name(), _name()
    _create(hma, bank)
    _create(hma, other)
    first = hma.post(f"/c/bank/{bank}/signal", json={"pdq": SPECIMEN_1})
    assert first.status_code == 200, first.text
    assert first.json()["signals"] == {"pdq": SPECIMEN_1}
    second = hma.post(f"/c/bank/{other}/signal", json={"pdq": SPECIMEN_2})
    md5 = hma.post(f"/c/bank/{bank}/signal", json={"video_md5": "D41D8CD98F00B204E9800998ECF8427E"})
    assert md5.json()["signals"] == {"video_md5": "d41d8cd98f00b204e9800998ecf8427e"}
    ids = first.json()["id"], second.json()["id"], md5.json()["id"]

    both = f"{bank},{other}"  # other tests' banks share the server
    raw = hma.get(
        "/m/raw_lookup", params={"signal_type": "pdq", "signal": SPECIMEN_1, "banks": both}
    )
    assert raw.json() == {"matches": [ids[0], ids[1]]}
    with_distance = hma.get(
        "/m/raw_lookup",
        params={
            "signal_type": "pdq",
            "signal": _flip(SPECIMEN_1, 3),
            "include_distance": "True",
            "banks": both,
        },
    )
    assert with_distance.json() == {
        "matches": [
            {"bank_content_id": ids[0], "distance": "3"},
            {"bank_content_id": ids[1], "distance": "12"},
        ]
    }
    filtered = hma.get(
        "/m/raw_lookup", params={"signal_type": "pdq", "signal": SPECIMEN_1, "banks": other}
    )
    assert filtered.json() == {"matches": [ids[1]]}
    exact = hma.get(
        "/m/raw_lookup",
        params={
            "signal_type": "md5",
            "signal": "d41d8cd98f00b204e9800998ecf8427e",
            "include_distance": "true",
        },
    )
    assert exact.json() == {"matches": [{"bank_content_id": ids[2], "distance": "-"}]}

    for bad in ("banana", "ab" * 31, "g" * 64):
        response = hma.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": bad})
        assert "invalid pdq signal" in _hma_error(response, 400, "invalid_signal")
    unknown = hma.get("/m/raw_lookup", params={"signal_type": "tmk", "signal": "00"})
    assert "No such SignalType 'tmk'" in _hma_error(unknown, 400, "invalid_signal")
    _hma_error(hma.get("/m/raw_lookup", params={"signal_type": "pdq"}), 422, "validation_error")
    too_many = hma.get(
        "/m/raw_lookup",
        params={
            "signal_type": "pdq",
            "signal": SPECIMEN_1,
            "banks": ",".join(map(str, range(1001))),
        },
    )
    _hma_error(too_many, 400, "invalid_input")
    empty = hma.post(f"/c/bank/{bank}/signal", json={})
    assert "No signals given" in _hma_error(empty, 400, "invalid_input")
    bad_value = hma.post(f"/c/bank/{bank}/signal", json={"pdq": "xyz"})
    _hma_error(bad_value, 400, "invalid_signal")


def test_video_signals_round_trip_in_hma_form(hma: httpx.Client) -> None:
    bank = _name()
    _create(hma, bank)
    hashed = hma.post("/h/hash", files={"video": ("v.mp4", VIDEO, "video/mp4")}).json()
    added = hma.post(f"/c/bank/{bank}/signal", json=hashed)
    assert added.status_code == 200, added.text
    assert added.json()["signals"] == hashed  # stored and shown back in HMA's vPDQ form

    found = hma.post("/m/lookup", files={"video": ("v.mp4", VIDEO, "video/mp4")})
    assert found.json() == {
        "video_md5": {bank: [{"bank_content_id": added.json()["id"], "distance": "-"}]},
        "vpdq": {bank: [{"bank_content_id": added.json()["id"], "distance": "100%[100%]"}]},
    }
    content = hma.get(
        f"/c/bank/{bank}/content/{added.json()['id']}", params={"include_signals": "true"}
    )
    assert content.json()["signals"] == hashed


def test_compare_answers_match_and_distance(hma: httpx.Client) -> None:
    response = hma.post("/m/compare", json={"pdq": [SPECIMEN_1, SPECIMEN_2]})
    assert response.status_code == 200, response.text
    assert response.json() == {"pdq": [True, {"distance": 9}]}
    far = hma.post("/m/compare", json={"pdq": [SPECIMEN_1, _flip(SPECIMEN_1, 40)]})
    assert far.json() == {"pdq": [False, {"distance": 40}]}
    exact = hma.post(
        "/m/compare", json={"video_md5": ["0" * 32, "0" * 32], "sha256": ["a" * 64, "b" * 64]}
    )
    assert exact.json() == {"video_md5": [True, {}], "sha256": [False, {}]}

    bad_inputs: list[Any] = [
        ["banana"],
        {"pdq": "banana"},
        {"pdq": []},
        {"pdq": ["banana", "banana"]},
        {"pdq": [SPECIMEN_1, SPECIMEN_2, SPECIMEN_1]},
        {"nope": [SPECIMEN_1, SPECIMEN_2]},
    ]
    for bad in bad_inputs:
        response = hma.post("/m/compare", json=bad)
        assert response.status_code == 400, bad
        assert set(response.json()) == {"message", "error"}
    batch = {f"type_{n}": [SPECIMEN_1, SPECIMEN_2] for n in range(17)}
    assert "at most 16" in _hma_error(hma.post("/m/compare", json=batch), 400, "invalid_input")
    _hma_error(
        hma.post("/m/compare", content=b"{", headers={"Content-Type": "application/json"}),
        400,
        "invalid_json",
    )


def test_index_status(hma: httpx.Client) -> None:
    bank = _name()
    _create(hma, bank)
    hma.post(f"/c/bank/{bank}/signal", json={"pdq": _flip(SPECIMEN_1, 100)})
    status = hma.get("/m/index/status")
    assert status.status_code == 200, status.text
    assert set(status.json()) == {"pdq", "video_md5", "video_sha256", "vpdq"}
    pdq = status.json()["pdq"]
    assert set(pdq) == {"present", "built_to", "size"}
    assert pdq["present"] is True
    assert pdq["size"] >= 1
    assert abs(pdq["built_to"] - time.time()) < 3600
    only = hma.get("/m/index/status", params={"signal_type": "pdq"})
    assert only.json() == {"pdq": pdq}
    unknown = hma.get("/m/index/status", params={"signal_type": "nope"})
    _hma_error(unknown, 400, "invalid_signal")


# --- /c banks ---------------------------------------------------------------------------------


def test_bank_crud_and_matching_enabled_ratio(hma: httpx.Client) -> None:
    for bad in ("01_TEST_BANK", "my_test_bank", "_LEADING"):
        response = hma.post("/c/banks", json={"name": bad})
        _hma_error(response, 400, "invalid_input")
    name = _name()
    _create(hma, name)
    duplicate = hma.post("/c/banks", json={"name": name})
    _hma_error(duplicate, 403, "bank_exists")
    assert {"name": name, "matching_enabled_ratio": 1.0} in hma.get("/c/banks").json()
    assert hma.get(f"/c/bank/{name}").json() == {"name": name, "matching_enabled_ratio": 1.0}

    _hma_error(hma.put(f"/c/bank/{name}", json={"name": "1_invalid_name"}), 400, "invalid_input")
    renamed = f"{name}_RENAMED"
    response = hma.put(f"/c/bank/{name}", json={"name": renamed})
    assert response.status_code == 200, response.text
    assert response.json() == {"name": renamed, "matching_enabled_ratio": 1.0}
    assert name in _hma_error(hma.get(f"/c/bank/{name}"), 404, "bank_not_found")

    assert (
        hma.put(f"/c/bank/{renamed}", json={"enabled": False}).json()["matching_enabled_ratio"] == 0
    )
    assert hma.put(f"/c/bank/{renamed}", json={"enabled_ratio": 0.5}).json() == {
        "name": renamed,
        "matching_enabled_ratio": 0.5,
    }
    assert (
        hma.put(f"/c/bank/{renamed}", json={"matching_enabled_ratio": 0.25}).json()[
            "matching_enabled_ratio"
        ]
        == 0.25
    )
    _hma_error(hma.put(f"/c/bank/{renamed}", json={"enabled_ratio": 1.5}), 400, "invalid_input")
    _hma_error(hma.put(f"/c/bank/{renamed}", json={"enabled": "lots"}), 422, "validation_error")
    ignored = hma.put(f"/c/bank/{renamed}", json={"colour": "red"})  # unknown fields: as HMA
    assert ignored.json() == {"name": renamed, "matching_enabled_ratio": 0.25}
    _hma_error(hma.put("/c/bank/NO_SUCH_BANK", json={"enabled": True}), 404, "bank_not_found")

    deleted = hma.delete(f"/c/bank/{renamed}")
    assert deleted.status_code == 200
    assert deleted.json() == {"message": "Done"}
    assert hma.delete(f"/c/bank/{renamed}").json() == {"message": "Done"}  # idempotent, as HMA
    assert renamed not in [b["name"] for b in hma.get("/c/banks").json()]


def test_ratio_zero_bank_does_not_match(hma: httpx.Client) -> None:
    bank = _name()
    _create(hma, bank, enabled_ratio=0.0)
    value = _flip(SPECIMEN_1, 200)
    content_id = hma.post(f"/c/bank/{bank}/signal", json={"pdq": value}).json()["id"]
    lookup = {"signal_type": "pdq", "signal": value, "banks": bank}
    assert hma.get("/m/lookup", params=lookup).json() == {}
    hma.put(f"/c/bank/{bank}", json={"enabled": True})
    assert hma.get("/m/lookup", params=lookup).json() == {
        bank: [{"bank_content_id": content_id, "distance": "0"}]
    }


def test_content_disable_and_delete(hma: httpx.Client) -> None:
    bank = _name()
    _create(hma, bank)
    value = _flip(SPECIMEN_1, 150)
    content_id = hma.post(f"/c/bank/{bank}/signal", json={"pdq": value}).json()["id"]
    path = f"/c/bank/{bank}/content/{content_id}"
    lookup = {"signal_type": "pdq", "signal": value, "banks": bank}

    assert hma.get(path, params={"signal_type": "pdq"}).json()["signals"] == {"pdq": value}
    assert hma.get(path, params={"signal_type": "vpdq"}).json()["signals"] == {}
    assert "signals" not in hma.get(path).json()

    until = int(time.time()) + 365 * 24 * 3600
    disabled = hma.put(path, json={"disable_until_ts": until})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disable_until_ts"] == until
    assert disabled.json()["enabled"] is False
    assert hma.get("/m/lookup", params=lookup).json() == {}
    assert hma.put(path, json={"disable_until_ts": 0}).json()["disable_until_ts"] == 0
    enabled = hma.put(path, json={"disable_until_ts": 1}).json()
    assert (enabled["disable_until_ts"], enabled["enabled"]) == (1, True)
    assert hma.get("/m/lookup", params=lookup).json()[bank][0]["bank_content_id"] == content_id

    too_far = hma.put(path, json={"disable_until_ts": 9999999999})
    assert "5 years" in _hma_error(too_far, 400, "invalid_input")
    _hma_error(hma.put(path, json={"disable_until_ts": -1}), 400, "invalid_input")
    _hma_error(hma.get(f"/c/bank/{bank}/content/999999999"), 404, "bank_entry_not_found")
    _hma_error(hma.get(f"/c/bank/NO_SUCH/content/{content_id}"), 404, "bank_not_found")
    _hma_error(hma.get(f"/c/bank/{bank}/content/abc"), 422, "validation_error")

    assert hma.delete(path).json() == {"deleted": 1}
    assert hma.delete(path).json() == {"deleted": 0}
    _hma_error(hma.get(path), 404, "bank_entry_not_found")
    assert hma.get("/m/lookup", params=lookup).json() == {}


# --- access -----------------------------------------------------------------------------------


def test_keys_and_scopes_are_required(api: ApiServer) -> None:
    scan_key = api.make_key("scan")
    reader = api.make_key("banks:read")
    with api.client("") as anonymous:
        for path in ("/h/hash?url=x", "/m/index/status", "/c/banks"):
            _hma_error(anonymous.get(path), 401, "unauthorized")
    with api.client(scan_key) as scanner:
        assert scanner.get("/m/index/status").status_code == 200
        _hma_error(scanner.get("/c/banks"), 403, "forbidden")
    with api.client(reader) as http:
        assert http.get("/c/banks").status_code == 200
        _hma_error(http.post("/c/banks", json={"name": _name()}), 403, "forbidden")
        _hma_error(http.get("/m/index/status"), 403, "forbidden")
    with httpx.Client(base_url=api.base_url, headers={"Authorization": scan_key}) as bare:
        assert bare.get("/m/index/status").status_code == 200
