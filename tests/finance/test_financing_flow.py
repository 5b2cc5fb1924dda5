"""The issue's acceptance, end to end on SQLite and PostgreSQL: an appeal carrying a sanctioned
wallet written with look-alike characters opens a high-priority case naming the list entry; the
same wallet is matched (as a bank entry and by screening) when it appears again; the case's FIU
report names the instrument, the entry and the content."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pypdf
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from bastion.finance.reports import report_for_case
from bastion.runtime import Bastion
from bastion.storage.finance_models import FinanceFindingRow, FinanceHitRow
from tests.signals.test_ocr import draw, needs_tesseract

from .samples import DISGUISED, ENTITY_UID, SDN_XML, WALLET

APPEAL = (
    "Brothers and sisters, support the mujahideen! جهزوا غازيا — every coin buys supplies. "
    f"Send BTC to {DISGUISED} and share this post."
)


def _import_list(bastion: Bastion, tmp_path: Path) -> None:
    path = tmp_path / "sdn.xml"
    path.write_text(SDN_XML, encoding="utf-8")
    with bastion.db.session() as session:
        info, new = bastion.sanctions.import_file(session, path, actor="test")
    assert new and info.entities == 2 and info.wallets == 1 and info.status == "active"


def test_sanctioned_wallet_in_an_appeal_opens_a_case_and_is_matched_again(
    bastion: Bastion, tmp_path: Path
) -> None:
    _import_list(bastion, tmp_path)

    first = bastion.scanner.scan_text(APPEAL, name="post-1")
    assert first.finance is not None
    [instrument] = [i for i in first.finance.instruments if i.kind == "crypto_address"]
    assert (instrument.scheme, instrument.value, instrument.folded) == ("btc", WALLET, True)
    assert APPEAL[instrument.start : instrument.end] == instrument.raw
    [hit] = first.finance.wallet_hits
    assert hit.external_id == ENTITY_UID and hit.list_source == "ofac_sdn"
    assert first.finance.appeal is not None and first.finance.appeal.appeal

    with bastion.db.session() as session:
        verdict, case = bastion.workbench.intake(session, first)
    assert case is not None and verdict.action == "review"
    assert case.priority >= 90
    assert f"OFAC SDN {ENTITY_UID} (AL-NASR FUNDRAISING NETWORK)" in case.title
    assert "sanctions_wallet" in verdict.flags and "tvec4" in case.labels
    assert any("look-alike" in reason for reason in case.reasons)

    # The wallet went into the hit bank: it now matches as a bank entry too.
    again = bastion.scanner.scan_text(f"new address for zakat: {WALLET}", name="post-2")
    banked = [m for m in again.matches if m.bank == bastion.settings.finance_hit_bank]
    assert banked and banked[0].signal_type == "crypto_address"
    assert again.finance is not None and again.finance.wallet_hits
    assert again.finance.seen_before == {f"btc:{WALLET}": 1}
    with bastion.db.session() as session:
        _, second_case = bastion.workbench.intake(session, again)
        hits = session.scalars(select(FinanceHitRow)).all()
        findings = session.scalars(select(FinanceFindingRow)).all()
    assert second_case is not None and second_case.priority >= 90
    assert {h.case_id for h in hits} == {case.id, second_case.id}
    assert len(findings) == 2

    with bastion.db.session() as session:
        report = report_for_case(
            session,
            bastion.cases,
            bastion.audit,
            case.id,
            actor="analyst",
            data_dir=bastion.settings.data_dir,
        )
    assert report["list_hits"][0]["entity"]["external_id"] == ENTITY_UID
    assert report["list_hits"][0]["list"]["published"] == "2026-11-20"
    [reported] = [i for i in report["instruments"] if i["kind"] == "crypto_address"]
    assert reported["value"] == WALLET and reported["folded"] and reported["times_seen"] == 2
    assert (
        report["content"][0]["sha256"]
        and "support the mujahideen" in report["content"][0]["appeal"]["phrases"][0].lower()
    )
    assert len(report["report_sha256"]) == 64

    from bastion.finance.report_pdf import render_report_pdf

    pdf = pypdf.PdfReader(io.BytesIO(render_report_pdf(report)))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert ENTITY_UID in text and report["report_sha256"] in text.replace("\n", "")


def test_plain_donation_with_iban_opens_nothing(bastion: Bastion) -> None:
    """A charity posting its IBAN is not a financing signal on its own."""
    result = bastion.scanner.scan_text(
        "Thank you for supporting our food bank! IBAN DE89 3704 0044 0532 0130 00"
    )
    assert result.finance is not None
    assert [i.kind for i in result.finance.instruments] == ["iban"]
    with bastion.db.session() as session:
        verdict, case = bastion.workbench.intake(session, result)
    assert case is None and verdict.action == "none"


@pytest.mark.parametrize("newer_first", [False, True])
def test_list_versions_supersede_by_date(
    bastion: Bastion, tmp_path: Path, newer_first: bool
) -> None:
    old = tmp_path / "old.xml"
    new = tmp_path / "new.xml"
    old.write_text(SDN_XML, encoding="utf-8")
    new.write_text(SDN_XML.replace("11/20/2026", "11/27/2026"), encoding="utf-8")
    order = [new, old] if newer_first else [old, new]
    with bastion.db.session() as session:
        for path in order:
            bastion.sanctions.import_file(session, path, actor="test")
        _, fresh = bastion.sanctions.import_file(session, order[-1], actor="test")
        active = bastion.sanctions.list(session)
    assert not fresh  # the same file twice is one import
    assert [info.published for info in active] == ["2026-11-27"]
    hits = bastion.scanner.scan_text(f"btc {WALLET}").finance
    assert hits is not None and [h.list_published for h in hits.wallet_hits] == ["2026-11-27"]


def test_a_donation_poster_with_a_qr_code_is_screened(bastion: Bastion, tmp_path: Path) -> None:
    """Posters carry the wallet as a QR code: the photo's scan reads it, finds the sanctioned
    wallet in its bitcoin: URI, and the caption's appeal wording raises the case."""
    _import_list(bastion, tmp_path)
    barcode = zxingcpp.create_barcode(
        f"bitcoin:{WALLET}?amount=0.05", zxingcpp.BarcodeFormat.QRCode
    )
    code = Image.fromarray(np.array(zxingcpp.write_barcode_to_image(barcode, scale=8)))
    poster = Image.new("RGB", (code.width + 200, code.height + 200), "white")
    poster.paste(code.convert("RGB"), (100, 100))
    buffer = io.BytesIO()
    poster.save(buffer, "PNG")

    result = bastion.scanner.scan_bytes(
        buffer.getvalue(), name="poster.png", caption="Support the mujahideen", ocr=False
    )
    assert result.finance is not None
    [instrument] = result.finance.instruments
    assert (instrument.value, instrument.details.get("amount")) == (WALLET, "0.05")
    assert result.finance.wallet_hits[0].external_id == ENTITY_UID
    assert "crypto_address" in {signal.type for signal in result.signals}
    with bastion.db.session() as session:
        _, case = bastion.workbench.intake(session, result)
    assert case is not None and case.priority >= 90


def test_content_scanned_before_the_listing_is_found_when_the_list_arrives(
    bastion: Bastion, tmp_path: Path
) -> None:
    """A wallet posted before it was designated: importing the list opens the case (once)."""
    from bastion.finance.rescreen import rescreen

    earlier = bastion.scanner.scan_text(f"donations welcome: {WALLET}", name="old-post")
    with bastion.db.session() as session:
        _, case = bastion.workbench.intake(session, earlier)
    assert case is None  # an instrument alone opens nothing
    path = tmp_path / "sdn.xml"
    path.write_text(SDN_XML, encoding="utf-8")
    newer = tmp_path / "sdn-newer.xml"
    newer.write_text(SDN_XML.replace("11/20/2026", "11/27/2026"), encoding="utf-8")
    with bastion.db.session() as session:
        info, _ = bastion.sanctions.import_file(session, path, actor="test")
        report = rescreen(session, info.id, bastion.cases, bastion.policies.active(session))
    assert report.hits == 1 and len(report.cases) == 1
    with bastion.db.session() as session:
        opened = bastion.cases.get(session, report.cases[0])
        again_info, _ = bastion.sanctions.import_file(session, newer, actor="test")
        again = rescreen(session, again_info.id, bastion.cases, bastion.policies.active(session))
    assert opened.content_id == earlier.content_id and opened.priority >= 90
    assert f"OFAC SDN {ENTITY_UID}" in opened.title and "seen" in opened.reasons[0]
    assert (again.hits, again.cases) == (0, [])  # the next version does not reopen it


def test_a_long_document_is_screened_to_its_end(bastion: Bastion, tmp_path: Path) -> None:
    """Names past the name index's window and a list holding a name with no letters: the scan
    still reads every part and nothing fails."""
    _import_list(bastion, tmp_path)
    junk = SDN_XML.replace("<lastName>HADDAD</lastName>", "<lastName>HADDAD</lastName>").replace(
        "</sdnList>",
        "<sdnEntry><uid>1</uid><lastName>-</lastName><sdnType>Entity</sdnType></sdnEntry>"
        "</sdnList>",
    )
    path = tmp_path / "junk.xml"
    path.write_text(junk.replace("11/20/2026", "11/21/2026"), encoding="utf-8")
    with bastion.db.session() as session:
        bastion.sanctions.import_file(session, path, actor="test")
    filler = "The weather was calm and the market opened late that day. " * 5000  # ~300k chars
    document = f"{filler}Payments go to Yusuf Haddad, wallet {WALLET}.\n"
    result = bastion.scanner.scan_bytes(document.encode(), name="ledger.txt")
    assert result.finance is not None
    names = [hit for hit in result.finance.hits if hit.match_kind == "name"]
    assert names and names[0].external_id == "48214"
    assert document[names[0].start or 0 : names[0].end or 0] == "Yusuf Haddad"
    assert result.finance.wallet_hits[0].external_id == ENTITY_UID


@needs_tesseract
def test_an_iban_printed_on_an_image_is_found_by_ocr(bastion: Bastion) -> None:
    """An appeal poster prints its bank account: OCR reads it and the IBAN is validated."""
    poster = Image.fromarray(
        draw(["Support the mujahideen", "IBAN DE89 3704 0044", "0532 0130 00"], font_size=64)
    )
    buffer = io.BytesIO()
    poster.save(buffer, "PNG")
    result = bastion.scanner.scan_bytes(buffer.getvalue(), name="poster.png", ocr=True)
    assert result.finance is not None
    assert [(i.kind, i.value) for i in result.finance.instruments] == [
        ("iban", "DE89370400440532013000")
    ]
    assert result.finance.appeal is not None and result.finance.appeal.appeal
    assert "iban" in {signal.type for signal in result.signals}
