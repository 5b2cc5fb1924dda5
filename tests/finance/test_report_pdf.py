"""The FIU evidence report PDF: content read back with pypdf, with and without a Unicode font."""

from __future__ import annotations

import io
import os
from typing import Any

import pypdf
import pytest
from anyascii import anyascii

from bastion.finance import report_pdf
from bastion.finance.report_pdf import render_report_pdf

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
WALLET = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
LOOKALIKE = "b\u0441" + WALLET[2:]  # with a Cyrillic "es"
MONERO = "4" + "8AFk3Rq9bZ2mX7yTn" * 5 + "Vw3pLk9QzR8uH2c4Yd" * 1 + "7"  # 104 characters, no spaces
REPORT_SHA256 = "9f2c" * 16
CONTENT_SHA256 = "0b1e" * 16
ENTITY = "Abu Example al-Financier"
APPEAL = "ادعموا المجاهدين"
HOSTILE = '<font color=red>DONATE</font> <a href="javascript:alert(1)">here</a> &amp;'
ARABIC_POST = f"{APPEAL} بالتبرع على العنوان {LOOKALIKE} جزاكم الله خيرا"


def make_report() -> dict[str, Any]:
    """A realistic report: Arabic and Latin posts, two list hits, 40 instruments, hostile markup."""
    instruments: list[dict[str, Any]] = [
        {
            "kind": "crypto_address",
            "scheme": "btc",
            "value": WALLET,
            "status": "valid",
            "folded": True,
            "raw": LOOKALIKE,
            "evidence": ARABIC_POST,
            "first_seen": "2026-11-28T10:15:00+02:00",
            "times_seen": 3,
            "content_ids": [5, 9],
        },
        {
            "kind": "crypto_address",
            "scheme": "xmr",
            "value": MONERO,
            "status": "valid",
            "folded": False,
            "raw": MONERO,
            "evidence": f"Send XMR: {MONERO}",
            "first_seen": "2026-11-29T08:00:00+00:00",
            "times_seen": 1,
            "content_ids": [9],
        },
    ]
    instruments += [
        {
            "kind": "iban",
            "scheme": "iban",
            "value": f"DE89370400440532013{n:03d}",
            "status": "unverified",
            "folded": False,
            "raw": None,
            "evidence": f"IBAN number {n}",
            "first_seen": "2026-11-29T09:00:00+00:00",
            "times_seen": n,
            "content_ids": [9],
        }
        for n in range(38)
    ]
    return {
        "report_version": 1,
        "generated_at": "2026-11-30T21:00:00+00:00",
        "instance": {"name": "bastion.example.org", "fingerprint": "ed25519:ab12cd34ef56"},
        "tlp": "amber",
        "case": {
            "id": 12,
            "title": "Donation appeal with sanctioned wallet",
            "priority": 90,
            "status": "open",
            "category": "tvec4",
            "labels": ["tvec4", "finance"],
            "opened_at": "2026-11-28T11:00:00+00:00",
            "language": "ar",
        },
        "summary": [
            "A post appeals for donations and gives a Bitcoin address listed by OFAC (SDN 12345).",
            "The address was written with a Cyrillic look-alike letter.",
        ],
        "instruments": instruments,
        "list_hits": [
            {
                "list": {
                    "source": "ofac_sdn",
                    "name": "OFAC SDN",
                    "published": "2026-11-20",
                    "version": "2026-11-20T12:00:00",
                },
                "entity": {
                    "id": 7,
                    "external_id": "12345",
                    "caption": ENTITY,
                    "schema": "Person",
                    "programs": ["SDGT"],
                    "names": [ENTITY, "أبو المثال"],
                },
                "match": {
                    "kind": "wallet",
                    "value": f"btc:{WALLET}",
                    "score": 1.0,
                    "explanation": "Exact match of the Bitcoin address on the list.",
                },
            },
            {
                "list": {
                    "source": "un_sc",
                    "name": "UN Security Council",
                    "published": "2026-11-18",
                    "version": "2026-11-18",
                },
                "entity": {
                    "id": 8,
                    "external_id": "QDi.999",
                    "caption": "Иван Примеров",
                    "schema": "Person",
                    "programs": ["ISIL (Da'esh) and Al-Qaida"],
                    "names": ["Ivan Primerov"],
                },
                "match": {
                    "kind": "name",
                    "value": "Ivan Primerov",
                    "score": 0.91,
                    "explanation": "Cyrillic name transliterated; token similarity 0.91.",
                },
            },
        ],
        "content": [
            {
                "id": 5,
                "received_at": "2026-11-28T10:15:00+02:00",
                "source": "api",
                "kind": "text",
                "sha256": CONTENT_SHA256,
                "name": "post-123",
                "excerpt": ARABIC_POST,
                "highlights": [[ARABIC_POST.index(LOOKALIKE), ARABIC_POST.index(LOOKALIKE) + 42]],
                "appeal": {"score": 0.9, "phrases": [APPEAL], "language": "ar"},
            },
            {
                "id": 9,
                "received_at": "2026-11-29T08:00:00+00:00",
                "source": "crawler",
                "kind": "text",
                "sha256": CONTENT_SHA256[::-1],
                "name": "post-456",
                "excerpt": f"Support the brothers! {HOSTILE} Send XMR: {MONERO}",
                "highlights": [[70, 999], [-4, 2], "bad"],
                "appeal": None,
            },
        ],
        "history": [
            {
                "at": "2026-11-28T11:00:00+00:00",
                "actor": "system",
                "action": "case.opened",
                "detail": "Sanctioned wallet found",
            },
            {
                "at": "2026-11-30T20:55:00+00:00",
                "actor": "alice",
                "action": "report.exported",
                "detail": None,
            },
        ],
        "report_sha256": REPORT_SHA256,
    }


def read(pdf: bytes) -> list[str]:
    """The text of each page, whitespace removed (wrapped values come back whole)."""
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf), strict=True)
    return ["".join(page.extract_text().split()) for page in reader.pages]


def squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_report_pdf(make_report())


def test_evidence_is_in_the_pdf(pdf: bytes) -> None:
    pages = read(pdf)
    text = "".join(pages)
    assert len(pages) > 1
    for needle in (
        "Financial evidence summary — case 12",
        WALLET,
        MONERO,
        ENTITY,
        "12345",
        "OFAC SDN",
        "2026-11-20",
        "SDGT",
        REPORT_SHA256,
        CONTENT_SHA256,
        "post-123",
        "Wallet address — exact",
        "Name — score 0.91",
        "bastion.example.org",
        "2026-11-28 08:15:00 UTC",
        "report.exported",
        "6. Integrity",
    ):
        assert squeeze(needle) in text, needle


def test_tlp_and_page_numbers_on_every_page(pdf: bytes) -> None:
    pages = read(pdf)
    for number, page in enumerate(pages, 1):
        assert "TLP:AMBER" in page
        assert f"page{number}of{len(pages)}" in page


def test_hostile_markup_is_printed_not_interpreted(pdf: bytes) -> None:
    text = "".join(read(pdf))
    assert squeeze(HOSTILE) in text
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert all("/Annots" not in page for page in reader.pages)  # no link was made
    assert b"/JavaScript" not in pdf and b"/URI" not in pdf


def test_no_image_of_the_content(pdf: bytes) -> None:
    assert b"/Subtype /Image" not in pdf and b"/XObject" not in pdf


def test_rendering_is_deterministic(pdf: bytes) -> None:
    assert render_report_pdf(make_report()) == pdf


def test_fallback_without_a_font_transliterates() -> None:
    pdf = render_report_pdf(make_report(), font_path="/nonexistent/font.ttf", force_fallback=True)
    text = "".join(read(pdf))
    assert b"/Helvetica" in pdf and b"/FontFile2" not in pdf  # no embedded TrueType font
    assert "(transliterated)" in text
    assert squeeze(anyascii(APPEAL)) in text
    assert squeeze("Ivan Primerov") in text and squeeze(anyascii("Иван Примеров")) in text
    assert WALLET in text and REPORT_SHA256 in text and squeeze(HOSTILE) in text
    assert all("TLP:AMBER" in page for page in read(pdf))


def test_a_missing_font_path_falls_back_to_the_standard_fonts() -> None:
    pdf = render_report_pdf(make_report(), font_path="/nonexistent/font.ttf")
    assert WALLET in "".join(read(pdf))


@pytest.mark.skipif(not os.path.isfile(DEJAVU), reason="fonts-dejavu-core is not installed")
def test_a_unicode_font_is_embedded_and_cyrillic_kept() -> None:
    pdf = render_report_pdf(make_report(), font_path=DEJAVU)
    text = "".join(read(pdf))
    assert b"/FontFile2" in pdf
    assert squeeze("Иван Примеров") in text and "(transliterated)" not in text


@pytest.mark.skipif(not os.path.isfile(DEJAVU), reason="fonts-dejavu-core is not installed")
def test_arabic_without_the_reshaper_is_followed_by_its_transliteration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(report_pdf, "_reshape", None)
    text = "".join(read(render_report_pdf(make_report(), font_path=DEJAVU)))
    assert f"[{squeeze(anyascii(APPEAL))}]" in text


@pytest.mark.skipif(
    not os.path.isfile(DEJAVU) or report_pdf._reshape is None, reason="no font or reshaper"
)
def test_arabic_is_shaped_and_laid_out_right_to_left() -> None:
    shaped = report_pdf._reshape(APPEAL) if report_pdf._reshape else APPEAL
    text = "".join(read(render_report_pdf(make_report(), font_path=DEJAVU)))
    assert squeeze(shaped[::-1]) in text or squeeze(shaped) in text


def test_missing_keys_render_as_a_dash_and_tlp_red() -> None:
    pages = read(render_report_pdf({}))
    assert len(pages) == 1
    assert "TLP:RED" in pages[0] and "—" in pages[0] and "None." in pages[0]


def test_unknown_shapes_do_not_break_rendering() -> None:
    report: dict[str, Any] = {
        "tlp": "WHITE",
        "case": "not a mapping",
        "instruments": [None, 3],
        "content": [{"excerpt": "x", "highlights": [[0, "a"], [5]]}],
        "list_hits": "nope",
        "summary": [None, 4],
    }
    assert "TLP:CLEAR" in read(render_report_pdf(report))[0]


def test_visual_order_reverses_only_right_to_left_runs() -> None:
    chars = [(c, False) for c in "pay אבג now"]
    assert "".join(c for c, _ in report_pdf._visual(chars, rtl=False)) == "pay גבא now"
    rtl = [(c, False) for c in "אבג 123 (דה)"]
    assert "".join(c for c, _ in report_pdf._visual(rtl, rtl=True)) == "(הד) 123 גבא"
