"""Posts as text, documents and captions through the API: scanning, hashing, banking, bad input.

Runs on the shared server of each backend (SQLite, and PostgreSQL when available); the size-cap
tests use the small SQLite server.
"""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest

from bastion.api.schemas import ScanResponse, TextOut
from bastion.demo.media import make_photo
from bastion.match.scanner import MAX_POST_CHARS

from ..content.test_pdf_docx import _encrypt, document_xml, make_docx, make_pdf
from .conftest import ApiServer
from .helpers import create_bank, error_code, upload

_WORDS = [
    "river",
    "stone",
    "bright",
    "ancient",
    "market",
    "silver",
    "window",
    "garden",
    "thunder",
    "quiet",
    "harbor",
    "lantern",
    "meadow",
    "copper",
    "whisper",
    "orchard",
    "canyon",
    "velvet",
    "ember",
    "falcon",
    "glacier",
    "prairie",
    "summit",
]


def _document_text(seed: int, words: int = 600) -> str:
    """Made-up text whose five-word runs no other test's text shares."""
    rng = random.Random(seed)
    return " ".join(f"{rng.choice(_WORDS)}{rng.randint(0, 999)}" for _ in range(words))


def _scan_text(client: httpx.Client, text: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/scan", json={"text": text, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_post_is_scanned_with_language_entities_links_and_scores(client: httpx.Client) -> None:
    text = (
        "Watch the new Islamic State video and join us at "
        "https://user:secret@t.me/some_channel/123 or hxxp://mirror-site[.]org/x?utm_source=a"
    )
    body = _scan_text(client, text, external_id="post-1")

    assert body["kind"] == "text" and body["content_id"] is not None
    assert {"text_sha256", "text_minhash", "url"} <= {s["type"] for s in body["signals"]}
    analysis = body["text"]
    assert analysis["language"]["code"] == "en" and analysis["sources"] == ["post"]
    assert any(e["kind"] == "organisation" for e in analysis["entities"])
    for entity in analysis["entities"]:
        assert text[entity["start"] : entity["end"]].lower() == entity["matched_alias"].lower()
    by_canonical = {u["canonical"]: u for u in analysis["urls"]}
    assert "credentials" in by_canonical["https://t.me/some_channel/123"]["flags"]
    assert "obfuscated" in by_canonical["https://mirror-site.org/x"]["flags"]
    assert not any("secret" in (u["canonical"] or "") for u in analysis["urls"])
    assert {s["code"] for s in analysis["scores"]} >= {"tvec01", "tvec7"}
    assert all(s["action"] in ("review", "none") for s in analysis["scores"])
    assert body["review"] == analysis["review"] and body["matched"] is False


def test_text_models_document_exactly_the_scanner_json(client: httpx.Client) -> None:
    """TextOut mirrors ScanResult.to_dict()["text"] field for field, and OpenAPI carries it."""
    body = _scan_text(client, "Al-Naba weekly from the Islamic State: see https://bit.ly/abc")
    text = body["text"]
    assert TextOut.model_validate(text).model_dump(by_alias=True, exclude_unset=True) == text
    assert ScanResponse.model_validate(body).text is not None
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert {"TextOut", "LanguageOut", "EntityOut", "UrlOut", "CategoryScoreOut"} <= set(schemas)
    assert "text" in schemas["ScanJsonRequest"]["properties"]


def test_language_hint_is_used_only_when_detection_cannot_decide(client: httpx.Client) -> None:
    short = _scan_text(client, "ok", language="ar")
    assert short["text"]["language"]["code"] == "ar"
    assert short["text"]["language"]["hint"] == "ar"
    clear = _scan_text(
        client, "This is a plain English sentence about the weather today.", language="fr-FR"
    )
    assert clear["text"]["language"]["code"] == "en"
    assert clear["text"]["language"]["hint"] == "fr"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": "x" * (MAX_POST_CHARS + 1)}, 400, "invalid_input"),
        ({"text": "hello", "language": "english please"}, 400, "invalid_input"),
        ({"text": "hello", "url": "https://example.org/a.jpg"}, 422, "validation_error"),
        ({"url": "https://example.org/a.jpg", "language": "en"}, 422, "validation_error"),
        ({"text": 12}, 422, "validation_error"),
        ({"text": "hello", "external_id": "x" * 256}, 422, "validation_error"),
    ],
)
def test_bad_text_posts_get_stable_error_codes(
    client: httpx.Client, body: dict[str, Any], status: int, code: str
) -> None:
    response = client.post("/v1/scan", json=body)
    assert response.status_code == status, response.text
    assert error_code(response) == code


def test_hash_reports_text_kinds_and_records_nothing(client: httpx.Client) -> None:
    response = client.post("/v1/hash", json={"text": "one two three four five six seven"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "text" and set(body) == {"name", "kind", "media", "signals"}
    assert {"text_sha256", "text_minhash"} <= {s["type"] for s in body["signals"]}

    pdf = make_pdf(["A short document for hashing only"])
    document = upload(client, "/v1/hash", pdf, filename="d.pdf", content_type="application/pdf")
    assert document.status_code == 200, document.text
    assert document.json()["kind"] == "text"
    assert document.json()["media"]["extra"]["format"] == "pdf"


def test_pdf_and_docx_uploads_are_scanned_as_text(client: httpx.Client) -> None:
    pdf = make_pdf(["Join the Islamic State today"], links=["https://example.org/page"])
    response = upload(
        client, "/v1/scan", pdf, filename="leaflet.pdf", content_type="application/pdf"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "text" and body["media"]["extra"]["pages"] == 1
    assert "Islamic State" in [e["matched_alias"] for e in body["text"]["entities"]]
    assert "https://example.org/page" in {u["canonical"] for u in body["text"]["urls"]}

    docx = make_docx({"word/document.xml": document_xml("<w:p><w:r><w:t>hello</w:t></w:r></w:p>")})
    response = client.post(
        "/v1/scan?name=letter.docx",
        content=docx,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == "text"
    assert response.json()["media"]["extra"]["format"] == "docx"


def test_a_caption_is_analysed_with_the_photo(client: httpx.Client) -> None:
    photo = make_photo(901, size=(256, 192))
    response = upload(
        client,
        "/v1/scan",
        photo,
        fields={"caption": "new release at https://t.me/channel_x", "ocr": "false"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "photo" and "pdq" in {s["type"] for s in body["signals"]}
    assert body["text"]["sources"] == ["caption"]
    assert [u["canonical"] for u in body["text"]["urls"]] == ["https://t.me/channel_x"]
    assert "url" in {s["type"] for s in body["signals"]}

    plain = upload(client, "/v1/scan", photo, fields={"ocr": "false"})
    assert plain.status_code == 200 and plain.json()["text"] is None


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"ocr": "maybe"}, 422, "validation_error"),
        ({"caption": "x" * 20_001}, 400, "invalid_input"),
        ({"labels": "tvec1"}, 400, "invalid_multipart"),
    ],
)
def test_bad_form_fields_are_refused(
    client: httpx.Client, fields: dict[str, str], status: int, code: str
) -> None:
    response = upload(client, "/v1/scan", make_photo(902, size=(64, 64)), fields=fields)
    assert response.status_code == status, response.text
    assert error_code(response) == code


def _bomb_docx() -> bytes:
    return make_docx({"word/document.xml": document_xml("<w:p/>") + " " * 30_000_000})


@pytest.mark.parametrize(
    ("name", "make", "text_error"),
    [
        ("bomb.docx", _bomb_docx, {"document_too_large", "document_unsafe"}),
        (
            "locked.pdf",
            lambda: _encrypt(make_pdf(["secret plans"]), "pw", "AES-256"),
            {"document_encrypted"},
        ),
        ("garbage.pdf", lambda: b"%PDF-1.7\n" + bytes(range(256)) * 40, {"media_corrupt"}),
    ],
)
def test_hostile_documents_get_a_clear_result(
    client: httpx.Client, name: str, make: Any, text_error: set[str]
) -> None:
    response = upload(
        client, "/v1/scan", make(), filename=name, content_type="application/octet-stream"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "text"
    assert body["media"]["extra"]["text_error"] in text_error
    assert {"md5", "sha256"} <= {s["type"] for s in body["signals"]}  # the very file still matches
    assert body["text"]["notes"]


def test_binary_named_txt_never_fails(client: httpx.Client) -> None:
    noise = random.Random(7).randbytes(50_000)
    response = upload(client, "/v1/scan", noise, filename="notes.txt", content_type="text/plain")
    assert response.status_code in (200, 415, 422), response.text
    if response.status_code != 200:
        assert error_code(response) in {"media_unsupported", "media_corrupt"}


def test_fifty_megabytes_of_text_is_refused_clearly(client: httpx.Client) -> None:
    data = b"word " * 10_500_000  # 52.5 MB: past the 50 MB document limit
    response = upload(client, "/v1/scan", data, filename="huge.txt", content_type="text/plain")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["media"]["extra"]["text_error"] == "document_too_large"


def test_text_past_the_upload_cap_is_upload_too_large(small_api: ApiServer) -> None:
    with small_api.client() as http:
        response = http.post("/v1/scan", json={"text": "word " * 20_000})
    assert response.status_code == 413
    assert error_code(response) == "upload_too_large"


def test_text_scans_need_the_scan_scope(api: ApiServer) -> None:
    with api.client("") as anonymous:
        assert error_code(anonymous.post("/v1/scan", json={"text": "hi"})) == "unauthorized"
    with api.client(api.make_key("banks:read")) as reader:
        response = reader.post("/v1/scan", json={"text": "hi"})
        assert response.status_code == 403 and error_code(response) == "forbidden"
    with api.client(api.make_key("scan")) as scanner:
        assert scanner.post("/v1/scan", json={"text": "hi"}).status_code == 200
        assert scanner.post("/v1/hash", json={"text": "hi"}).status_code == 200


def test_banked_document_matches_an_excerpt_but_not_its_links(
    client: httpx.Client, bank_name: str
) -> None:
    create_bank(client, bank_name, labels=["tvec7"])
    text = _document_text(11)
    pdf = make_pdf(
        [text[: len(text) // 2], text[len(text) // 2 :]], links=["https://en.wikipedia.org/wiki/X"]
    )
    banked = upload(
        client,
        f"/v1/banks/{bank_name}/entries/media",
        pdf,
        filename="manifesto.pdf",
        content_type="application/pdf",
    )
    assert banked.status_code == 201, banked.text
    types = {e["signal_type"] for e in banked.json()["entries"]}
    assert {"sha256", "text_sha256", "text_minhash", "text_shingles"} <= types
    assert "url" not in types
    assert any("link(s)" in note for note in banked.json()["skipped"])

    excerpt = " ".join(text.split()[200:260])
    body = _scan_text(client, f"as they wrote: {excerpt}")
    matches = [m for m in body["matches"] if m["bank"] == bank_name]
    assert body["matched"] and [m["signal_type"] for m in matches] == ["text_shingles"]
    tvec7 = next(s for s in body["text"]["scores"] if s["code"] == "tvec7")
    assert any(c["kind"] == "bank_match" for c in tvec7["contributions"])

    linking = _scan_text(client, "see https://en.wikipedia.org/wiki/X for background")
    assert not [m for m in linking["matches"] if m["bank"] == bank_name]


def test_url_prefix_bank_matches_a_posts_link(client: httpx.Client, bank_name: str) -> None:
    create_bank(client, bank_name, labels=["tvec6"])
    added = client.post(
        f"/v1/banks/{bank_name}/entries",
        json=[
            {"signal_type": "url_prefix", "value": "https://t.me/recruit_channel_q"},
            {"signal_type": "domain", "value": "mirror-q[.]example"},
        ],
    )
    assert added.status_code == 201, added.text

    body = _scan_text(client, "Join: t.me/recruit_channel_q/42 now")
    assert [m["signal_type"] for m in body["matches"] if m["bank"] == bank_name] == ["url_prefix"]
    on_domain = _scan_text(client, "files at https://dl.mirror-q.example/a.zip")
    assert [m["signal_type"] for m in on_domain["matches"] if m["bank"] == bank_name] == ["domain"]
    sibling = _scan_text(client, "Join: t.me/recruit_channel_q2/42 now")
    assert not [m for m in sibling["matches"] if m["bank"] == bank_name]


def test_many_posts_are_scanned_in_one_request(client: httpx.Client, bank_name: str) -> None:
    create_bank(client, bank_name, labels=["tvec6"])
    added = client.post(
        f"/v1/banks/{bank_name}/entries",
        json=[{"signal_type": "domain", "value": "bulk-mirror.example"}],
    )
    assert added.status_code == 201, added.text
    posts = [
        {"text": "lovely weather at the beach today", "external_id": "p1"},
        {"text": "files at https://dl.bulk-mirror.example/a.zip", "external_id": "p2"},
        {"text": "x" * (MAX_POST_CHARS + 1)},
    ]
    response = client.post("/v1/scan/texts", json={"texts": posts[:2]})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [bool(r["matches"]) for r in results] == [False, True]
    assert all(set(r) == set(ScanResponse.model_fields) for r in results)
    single = _scan_text(client, posts[1]["text"])
    assert [m["entry_id"] for m in results[1]["matches"]] == [
        m["entry_id"] for m in single["matches"]
    ]
    # Too many, malformed or unknown fields: the stable validation codes, nothing scanned.
    for bad in ({"texts": []}, {"texts": [{"txt": "x"}]}, {"posts": []}, {"texts": posts}):
        assert error_code(client.post("/v1/scan/texts", json=bad)) == "validation_error"
    assert error_code(client.post("/v1/scan/texts", content=b"{")) == "invalid_json"


def test_bulk_text_scans_need_the_scan_scope(api: ApiServer) -> None:
    body = {"texts": [{"text": "hi"}]}
    with api.client("") as anonymous:
        assert error_code(anonymous.post("/v1/scan/texts", json=body)) == "unauthorized"
    with api.client(api.make_key("banks:read")) as reader:
        assert error_code(reader.post("/v1/scan/texts", json=body)) == "forbidden"
