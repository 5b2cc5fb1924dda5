"""``bastion scan --text``, documents on the command line, and banking text and links.

Every test runs on SQLite and (when available) PostgreSQL: ``cli_env`` is overridden here to
point the CLI at the ``database_url`` fixture's database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bastion.demo.media import make_photo
from bastion.match.scanner import MAX_POST_CHARS

from ..api.test_text_scan import _document_text
from ..content.test_pdf_docx import document_xml, make_docx, make_pdf
from .conftest import Invoke


@pytest.fixture
def cli_env(data_dir: Path, database_url: str) -> dict[str, str]:
    return {
        "BASTION_DATA_DIR": str(data_dir),
        "BASTION_DATABASE_URL": database_url,
        "BASTION_SCAN_WORKERS": "1",
        "BASTION_LOG_LEVEL": "info",
        "COLUMNS": "250",
    }


def _text(seed: int, words: int = 500) -> str:
    return _document_text(seed, words)


def _json(cli: Invoke, *args: str, input: str | None = None) -> tuple[int, Any]:
    result = cli(*args, input=input)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def test_scan_text_gives_the_api_json_and_exits_0_without_a_match(cli: Invoke) -> None:
    post = "Join the Islamic State channel at https://user:pw@t.me/chan_a/1"
    code, body = _json(cli, "scan", "--text", post, "--json")

    assert code == 0
    assert body["kind"] == "text" and body["matched"] is False
    assert set(body) >= {"signals", "matches", "review", "text", "content_id"}
    assert body["text"]["language"]["code"] == "en"
    assert body["text"]["urls"][0]["canonical"] == "https://t.me/chan_a/1"
    assert "credentials" in body["text"]["urls"][0]["flags"]
    assert any(e["kind"] == "organisation" for e in body["text"]["entities"])


def test_scan_text_from_stdin_and_the_table(cli: Invoke) -> None:
    code, body = _json(cli, "scan", "--text", "-", "--format", "json", input="bonjour à tous")
    assert code == 0 and body["text"]["characters"] == len("bonjour à tous")

    table = cli("scan", "--text", "-", input="see https://bit.ly/xyz today please")
    assert table.exit_code == 0, table.stderr
    for shown in ("language", "https://bit.ly/xyz [shortener]", "threshold", "review"):
        assert shown in table.stdout
    assert "no match" in table.stderr


def test_scan_text_usage_errors_exit_2(cli: Invoke, tmp_path: Path) -> None:
    assert cli("scan").exit_code == 2
    (tmp_path / "a.txt").write_text("hello")
    assert cli("scan", str(tmp_path / "a.txt"), "--text", "hi").exit_code == 2
    too_long = cli("scan", "--text", "-", input="x" * (MAX_POST_CHARS + 1))
    assert too_long.exit_code == 2 and "invalid_input" in too_long.stderr
    bad_hint = cli("scan", "--text", "hello", "--language", "not a language")
    assert bad_hint.exit_code == 2 and "invalid_input" in bad_hint.stderr


def test_pdf_and_docx_files_are_scanned_as_documents(cli: Invoke, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "leaflet.pdf").write_bytes(make_pdf(["Join the Islamic State today"]))
    paragraph = "<w:p><w:r><w:t>a letter about the weather</w:t></w:r></w:p>"
    (folder / "letter.docx").write_bytes(make_docx({"word/document.xml": document_xml(paragraph)}))

    code, document = _json(cli, "scan", str(folder), "--json", "-q")

    assert code == 0
    by_name = {Path(f["path"]).name: f for f in document["files"]}
    assert by_name["leaflet.pdf"]["kind"] == "text"
    assert by_name["leaflet.pdf"]["media"]["extra"]["format"] == "pdf"
    assert by_name["letter.docx"]["media"]["extra"]["format"] == "docx"
    assert "Islamic State" in [
        e["matched_alias"] for e in by_name["leaflet.pdf"]["text"]["entities"]
    ]


def test_caption_is_analysed_with_a_photo(cli: Invoke, tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    photo.write_bytes(make_photo(77, size=(128, 96)))
    caption = "more at https://t.me/chan_b"

    code, document = _json(cli, "scan", str(photo), "--caption", caption, "--no-ocr", "--json")

    assert code == 0
    record = document["files"][0]
    assert record["kind"] == "photo" and record["text"]["sources"] == ["caption"]
    assert [u["canonical"] for u in record["text"]["urls"]] == ["https://t.me/chan_b"]


def test_banked_document_matches_an_excerpt_and_its_links_are_not_banked(
    cli: Invoke, tmp_path: Path
) -> None:
    assert cli("bank", "create", "texts", "--label", "tvec7").exit_code == 0
    text = _text(5)
    pdf = tmp_path / "manifesto.pdf"
    pdf.write_bytes(make_pdf([text], links=["https://en.wikipedia.org/wiki/Y"]))

    code, report = _json(cli, "bank", "add", "texts", str(pdf), "--format", "json", "-q")
    assert code == 0
    types = {e["signal_type"] for e in report["entries"]}
    assert {"text_sha256", "text_minhash", "text_shingles"} <= types and "url" not in types
    assert any("link(s)" in item for item in report["skipped"])

    excerpt = " ".join(text.split()[100:160])
    code, body = _json(cli, "scan", "--text", f"quoted: {excerpt}", "--json")
    assert code == 1
    assert [m["signal_type"] for m in body["matches"]] == ["text_shingles"]

    code, body = _json(
        cli, "scan", "--text", "background: https://en.wikipedia.org/wiki/Y", "--json"
    )
    assert code == 0 and body["matches"] == []


def test_add_text_banks_a_post_and_its_near_copies_match(cli: Invoke) -> None:
    assert cli("bank", "create", "posts").exit_code == 0
    post = _text(8, words=40)
    code, report = _json(cli, "bank", "add-text", "posts", "-", "--format", "json", input=post)
    assert code == 0
    types = sorted(e["signal_type"] for e in report["entries"])
    assert types == ["text_minhash", "text_sha256", "text_shingles"]

    words = post.split()
    edited = " ".join([*words[:20], "inserted", *words[20:]])
    code, body = _json(cli, "scan", "--text", edited.upper(), "--json")
    assert code == 1
    assert {m["signal_type"] for m in body["matches"]} <= {"text_minhash", "text_shingles"}

    empty = cli("bank", "add-text", "posts", "...")
    assert empty.exit_code == 2 and "invalid_input" in empty.stderr


def test_add_url_prefix_and_domain_match_a_posts_links(cli: Invoke) -> None:
    assert cli("bank", "create", "links").exit_code == 0
    assert cli("bank", "add-url", "links", "https://t.me/chan_c", "--prefix").exit_code == 0
    assert cli("bank", "add-url", "links", "mirror-c.example", "--domain").exit_code == 0
    assert cli("bank", "add-url", "links", "https://paste.example/raw/abc").exit_code == 0

    code, body = _json(cli, "scan", "--text", "new: t.me/chan_c/99", "--json")
    assert code == 1 and [m["signal_type"] for m in body["matches"]] == ["url_prefix"]
    code, body = _json(cli, "scan", "--text", "get it at cdn.mirror-c.example/v.mp4", "--json")
    assert code == 1 and [m["signal_type"] for m in body["matches"]] == ["domain"]
    code, body = _json(cli, "scan", "--text", "hxxps://paste[.]example/raw/abc", "--json")
    assert code == 1 and [m["signal_type"] for m in body["matches"]] == ["url"]
    code, _ = _json(cli, "scan", "--text", "t.me/chan_cc/1 is another channel", "--json")
    assert code == 0

    both = cli("bank", "add-url", "links", "x.example", "--prefix", "--domain")
    assert both.exit_code == 2
    public_suffix = cli("bank", "add-url", "links", "co.uk", "--domain")
    assert public_suffix.exit_code == 2 and "invalid_signal" in public_suffix.stderr
