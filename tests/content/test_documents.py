"""Sniffing documents, decoding text in many encodings, and HTML text extraction."""

from __future__ import annotations

import codecs
import io
import os
import zipfile

import pytest

from bastion.content.documents import (
    DocumentTooLarge,
    TextLimits,
    extract_text,
    sniff_document,
)
from bastion.content.text_decode import charset_from_meta, decode_text
from bastion.errors import EmptyMedia, UnsupportedMedia

ARABIC = "هذا نص عربي للاختبار عن الدولة والجهاد في سبيل الله"
RUSSIAN = "Это русский текст для проверки декодирования, Москва и Россия"
HINDI = "यह परीक्षण के लिए हिंदी पाठ है"
FRENCH = "Voilà un texte français: élève, garçon, où, déjà, Noël"
GERMAN = "Größere Übungen für Äpfel und Straßen"

# --- text decoding ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [ARABIC, RUSSIAN, HINDI, FRENCH, "plain ascii"])
def test_utf8_round_trips(text: str) -> None:
    decoded = decode_text(text.encode("utf-8"))
    assert decoded.text == text
    assert decoded.encoding == "utf-8"


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_byte_order_marks_decide_and_are_dropped(bom: bytes, codec: str) -> None:
    text = f"{ARABIC}\n{RUSSIAN}"
    decoded = decode_text(bom + text.encode(codec))
    assert decoded.text == text
    assert decoded.encoding == codec


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (ARABIC, "cp1256"),
        (RUSSIAN, "cp1251"),
        (FRENCH, "cp1252"),
        (GERMAN, "latin-1"),
    ],
)
def test_legacy_code_pages_are_guessed_without_a_declaration(text: str, codec: str) -> None:
    decoded = decode_text(text.encode(codec))
    assert decoded.text == text
    assert "plausibility" in decoded.notes[0]


def test_cp1252_smart_quotes_beat_latin1_controls() -> None:
    text = "\u201cQuoted\u201d \u2013 caf\u00e9"
    assert decode_text(text.encode("cp1252")).text == text


def test_declared_charset_is_used() -> None:
    data = RUSSIAN.encode("koi8-r")
    assert decode_text(data, "KOI8-R").text == RUSSIAN


def test_utf8_wins_over_a_wrong_legacy_declaration() -> None:
    decoded = decode_text(ARABIC.encode("utf-8"), "iso-8859-1")
    assert decoded.text == ARABIC


def test_unknown_declared_charset_is_ignored_with_a_note() -> None:
    decoded = decode_text(b"abc", "no-such-charset")
    assert decoded.text == "abc"
    assert any("unknown declared charset" in note for note in decoded.notes)


@pytest.mark.parametrize("declared", ["idna", "rot13", "base64", "utf-16"])
def test_odd_declared_codecs_never_raise(declared: str) -> None:
    decode_text(b"\xff\xfe\x00abc\x80", declared)
    decode_text(b"abc\x80\x81", declared)


def test_broken_sequences_are_replaced_never_raised() -> None:
    decoded = decode_text(b"ok \xff\xfe\xfd" + "é".encode() + b"\xc3", "utf-8")
    assert decoded.text.startswith("ok ")
    assert "\ufffd" in decoded.text


def test_decoding_caps_characters_and_says_so() -> None:
    decoded = decode_text(("я" * 1000).encode("utf-8"), max_chars=100)
    assert decoded.text == "я" * 100
    assert decoded.truncated


def test_charset_from_meta() -> None:
    assert charset_from_meta(b'<html><head><meta charset="windows-1256">') == "cp1256"
    head = b'<meta http-equiv="Content-Type" content="text/html; charset=KOI8-R">'
    assert charset_from_meta(head) == "koi8-r"
    assert charset_from_meta(b"<html><head><title>x</title>") is None


def test_random_bytes_never_raise() -> None:
    for seed in range(20):
        data = os.urandom(64 + seed * 50)
        decode_text(data)
        sniff_document(data, "notes.txt", "text/plain")


# --- sniffing -----------------------------------------------------------------------------------


def _docx_like() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def _plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "declared", "expected"),
    [
        (b"%PDF-1.7\n...", None, None, "pdf"),
        (b"junk\r\n%PDF-1.4\n", "a.pdf", None, "pdf"),
        (b"junk\r\n%PDF-1.4\n", None, None, "text"),
        (_docx_like(), "x.zip", "application/zip", "docx"),
        (_plain_zip(), "x.docx", None, None),
        (b"PK\x03\x04" + bytes(100), None, None, None),
        (b"  <!DOCTYPE html><html><body>hi</body></html>", None, None, "html"),
        (b"<HTML><HEAD><TITLE>Old</TITLE></HEAD>", None, None, "html"),
        (b"<p>just a fragment</p>", "page.htm", None, "html"),
        (b"<p>just a fragment</p>", None, "text/html; charset=utf-8", "html"),
        (b"<p>just a fragment</p>", None, None, "text"),
        (codecs.BOM_UTF16_LE + "<html><body>x</body></html>".encode("utf-16-le"), None, None,
         "html"),
        (ARABIC.encode("utf-8"), None, None, "text"),
        (RUSSIAN.encode("cp1251"), None, None, "text"),
        (ARABIC.encode("cp1256"), "a.txt", None, "text"),
        (codecs.BOM_UTF16_LE + HINDI.encode("utf-16-le"), None, None, "text"),
        (b"a,b,c\n1,2,3\n", "data.csv", "text/csv", "text"),
        (b"", "a.txt", "text/plain", None),
        (b"text with a NUL\x00 inside", "a.txt", "text/plain", None),
        (bytes(range(256)) * 4, "a.txt", "text/plain", None),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "a.txt", None, None),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", None, None, None),
        (b"\x01\x02\x03abc\x04\x05\x06def\x07\x08" * 10, "x.txt", None, None),
    ],
)  # fmt: skip
def test_sniff_document(
    data: bytes, filename: str | None, declared: str | None, expected: str | None
) -> None:
    assert sniff_document(data, filename, declared) == expected


def test_sniff_random_binary_is_never_text() -> None:
    for _seed in range(30):
        data = os.urandom(4096)
        assert sniff_document(data, None, None) is None
        assert sniff_document(data, "file.txt", "text/plain") is None


# --- plain text extraction ----------------------------------------------------------------------


def test_plain_text_extraction_parts_and_nfc() -> None:
    decomposed = "Cafe\u0301 noir"  # e + combining acute: NFC makes it one character
    data = f"{ARABIC}\n\n{decomposed}\r\n\r\n\n{RUSSIAN}".encode()
    result = extract_text(data, "text")
    assert result.text == f"{ARABIC}\nCafé noir\n{RUSSIAN}"
    assert [part.where for part in result.parts] == ["paragraph 1", "paragraph 2", "paragraph 3"]
    for part, expected in zip(result.parts, [ARABIC, "Café noir", RUSSIAN], strict=True):
        assert result.text[part.start : part.start + part.length] == expected
    assert result.metadata["encoding"] == "utf-8"
    assert not result.truncated


def test_plain_text_charset_hint_and_cap() -> None:
    result = extract_text(RUSSIAN.encode("koi8-r"), "text", charset="koi8-r")
    assert result.text == RUSSIAN
    capped = extract_text(("word " * 1000).encode(), "text", TextLimits(max_chars=50))
    assert capped.truncated and len(capped.text) <= 50


def test_extract_refuses_empty_oversized_and_unknown() -> None:
    with pytest.raises(EmptyMedia):
        extract_text(b"", "text")
    with pytest.raises(DocumentTooLarge) as caught:
        extract_text(b"x" * 101, "text", TextLimits(max_input_bytes=100))
    assert caught.value.context["max_bytes"] == 100
    with pytest.raises(UnsupportedMedia):
        extract_text(b"x", "xlsx")


# --- HTML ---------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="ar">
<head>
<meta charset="utf-8">
<title>Page &amp; Title</title>
<meta name="description" content="A description of the page">
<meta property="og:title" content="Share card title">
<meta property="og:url" content="https://example.org/canonical">
<style>body { color: red; } .hidden-style-text {}</style>
<script>var secret = "script text must not appear";</script>
</head>
<body>
<h1>Main heading</h1>
<p>First paragraph with <b>bold</b> and <a href="https://t.me/channel">a link</a>.</p>
<p>Entities: caf&eacute; &#1575;&#1604;&#1604;&#1607; &lt;tag&gt;</p>
<noscript>noscript text hidden</noscript>
<template><p>template text hidden</p></template>
<img src="a.png" alt="Flag image alt text" title="Image title">
<p>{arabic}</p>
<a href="/relative/path">relative</a> <area href="mailto:x@example.org">
</body></html>
""".replace("{arabic}", ARABIC)


def test_html_text_links_and_metadata() -> None:
    data = PAGE.encode()
    assert sniff_document(data, None, None) == "html"
    result = extract_text(data, "html")
    text = result.text
    assert "Main heading" in text
    assert "First paragraph with bold and a link." in text
    assert "café الله <tag>" in text
    assert ARABIC in text
    assert "Flag image alt text / Image title" in text
    for hidden in ("script text", "color: red", "noscript text", "template text"):
        assert hidden not in text
    assert result.links == [
        "https://example.org/canonical",
        "https://t.me/channel",
        "/relative/path",
        "mailto:x@example.org",
    ]
    assert result.metadata["title"] == "Page & Title"
    assert result.metadata["description"] == "A description of the page"
    assert result.metadata["og:title"] == "Share card title"
    assert result.metadata["language"] == "ar"
    wheres = [part.where for part in result.parts]
    assert wheres[:3] == ["title", "metadata:description", "metadata:og:title"]
    assert "image 1" in wheres
    for part in result.parts:
        assert result.text[part.start : part.start + part.length].strip()


def test_html_meta_charset_is_honoured() -> None:
    page = f'<html><head><meta charset="windows-1256"></head><body><p>{ARABIC}</p></body></html>'
    result = extract_text(page.encode("cp1256"), "html")
    assert ARABIC in result.text
    assert result.metadata["encoding"] == "cp1256"


def test_html_declared_charset_beats_meta() -> None:
    page = f'<html><head><meta charset="utf-8"></head><body>{RUSSIAN}</body></html>'
    result = extract_text(page.encode("cp1251"), "html", charset="windows-1251")
    assert RUSSIAN in result.text


@pytest.mark.parametrize(
    "markup",
    [
        "<p>unclosed <b>bold <i>italic <div>nested",
        "<p>text</p></div></div></span></html><p>after stray closers",
        "<a href='x' <p>broken attribute</p>",
        "<<<>>> & &amp &#xZZ; &#99999999; text",
        "<script>unterminated script text",
        "<!-- unterminated comment",
        "<p>visible<noscript>swallowed",
    ],
)
def test_malformed_html_never_raises(markup: str) -> None:
    result = extract_text(markup.encode(), "html")
    assert isinstance(result.text, str)


def test_unclosed_script_hides_only_what_it_covers() -> None:
    result = extract_text(b"<p>before</p><noscript>hidden</body><p>after", "html")
    assert "before" in result.text and "after" in result.text


@pytest.mark.parametrize(
    "data",
    [
        b"<div>" * 200_000 + b"deep" + b"</div>" * 200_000,
        b"<a href='" + b"x" * 10_000_000 + b"'>link</a>",
        b"<p>" + b"y" * 10_000_000 + b"</p>",
        b"<" * 2_000_000,
        b"<!--" + b"-" * 2_000_000,
        # Each of these made CPython 3.11's html.parser quadratic (minutes for a few hundred KB).
        b"<a" * 1_000_000,
        b"</" * 1_000_000,
        b"<!-- >" * 300_000,
        b"<![ >" * 300_000,
    ],
    ids=[
        "nesting-bomb",
        "10MB-attribute",
        "10MB-text",
        "angle-brackets",
        "comment",
        "open-tags",
        "open-end-tags",
        "open-comments",
        "open-cdata",
    ],
)
def test_html_bombs_are_bounded(data: bytes) -> None:
    result = extract_text(data, "html", TextLimits(max_chars=100_000))
    assert len(result.text) <= 100_000
    assert all(len(link) <= 8192 for link in result.links)


def test_random_markup_soup_never_raises() -> None:
    import random

    rng = random.Random(5)
    alphabet = "<>a!-/'\"= \n[]?&;#xp"
    for _ in range(30):
        soup = "".join(rng.choice(alphabet) for _ in range(20_000))
        extract_text(soup.encode(), "html")


def test_comments_are_invisible_even_with_markup_inside() -> None:
    page = b"<p>shown</p><!-- <p>hidden</p> --><!--[if IE]><p>ie</p><![endif]--><p>also</p>"
    result = extract_text(page, "html")
    assert result.text == "shown\nalso"


def test_html_text_cap() -> None:
    page = "".join(f"<p>paragraph {n}</p>" for n in range(1000)).encode()
    result = extract_text(page, "html", TextLimits(max_chars=200))
    assert result.truncated and len(result.text) <= 200
