"""``bastion finance``: extract, import lists, screen, bank a list's wallets, export FtM, report."""

from __future__ import annotations

import json
from pathlib import Path

from bastion.runtime import Bastion
from bastion.settings import Settings

from ..finance.samples import DISGUISED, ENTITY_UID, SDN_XML, WALLET
from .conftest import Invoke


def test_extract_exits_1_on_instruments_and_0_without(cli: Invoke, tmp_path: Path) -> None:
    found = cli("finance", "extract", f"send to {DISGUISED}", "--format", "json")
    assert found.exit_code == 1, found.stderr
    [instrument] = json.loads(found.stdout)
    assert (instrument["value"], instrument["folded"]) == (WALLET, True)
    post = tmp_path / "post.txt"
    post.write_text("nothing to pay here", encoding="utf-8")
    assert cli("finance", "extract", "--file", str(post)).exit_code == 0
    assert cli("finance", "extract").exit_code == 2  # neither a text nor a file


def test_lists_screening_banks_exports_and_reports(cli: Invoke, tmp_path: Path) -> None:
    sdn = tmp_path / "sdn.xml"
    sdn.write_text(SDN_XML, encoding="utf-8")
    imported = cli(
        "finance", "lists", "import", str(sdn), "--bank", "ofac-wallets", "--format", "json"
    )
    assert imported.exit_code == 0, imported.stderr
    record = json.loads(imported.stdout)
    assert (record["source"], record["entities"], record["bank_added"]) == ("ofac_sdn", 2, 1)
    listed = json.loads(cli("finance", "lists", "list", "--format", "json").stdout)
    assert [item["published"] for item in listed] == ["2026-11-20"]

    hit = cli("finance", "screen", "--wallet", f"bitcoin:{WALLET}?amount=0.1")
    assert hit.exit_code == 1 and f"OFAC SDN {ENTITY_UID}" in hit.stdout
    name = cli("finance", "screen", "Yousef Hadad", "--format", "json")
    assert name.exit_code == 1
    assert json.loads(name.stdout)[0]["entity"]["external_id"] == "48214"
    assert cli("finance", "screen", "Jane Smith").exit_code == 0
    bad = cli("finance", "screen", "--wallet", "bc1qnotanaddress")
    assert bad.exit_code == 2 and "invalid_signal" in bad.stderr

    ftm = tmp_path / "sdn.ftm.jsonl"
    assert cli("finance", "lists", "export", str(record["id"]), "-o", str(ftm)).exit_code == 0
    schemas = [json.loads(line)["schema"] for line in ftm.read_text().splitlines()]
    assert schemas.count("CryptoWallet") == 1

    scanned = cli("scan", "--text", f"Support the mujahideen! BTC: {WALLET}", "--format", "json")
    assert scanned.exit_code == 1, scanned.stderr  # the wallet bank matched
    assert json.loads(scanned.stdout)["finance"]["hits"][0]["entity"]["external_id"] == (ENTITY_UID)

    broken = tmp_path / "broken.xml"
    broken.write_text(SDN_XML[: len(SDN_XML) // 2], encoding="utf-8")
    refused = cli("finance", "lists", "import", str(broken))
    assert refused.exit_code == 2 and "sanctions_list_invalid" in refused.stderr
    assert "line" in refused.stderr
    assert cli("finance", "lists", "remove", "999").exit_code == 2


def test_report_of_a_case_as_json_and_pdf(cli: Invoke, data_dir: Path, tmp_path: Path) -> None:
    sdn = tmp_path / "sdn.xml"
    sdn.write_text(SDN_XML, encoding="utf-8")
    assert cli("finance", "lists", "import", str(sdn)).exit_code == 0
    bastion = Bastion.from_settings(Settings(data_dir=data_dir))
    try:
        result = bastion.scanner.scan_text(f"Support the mujahideen: {DISGUISED}")
        with bastion.db.session() as session:
            _, case = bastion.workbench.intake(session, result)
    finally:
        bastion.close()
    assert case is not None
    as_json = tmp_path / "report.json"
    made = cli("finance", "report", str(case.id), "-o", str(as_json))
    assert made.exit_code == 0, made.stderr
    report = json.loads(as_json.read_text(encoding="utf-8"))
    assert report["list_hits"][0]["entity"]["external_id"] == ENTITY_UID
    assert report["report_sha256"] in made.stdout
    as_pdf = tmp_path / "report.pdf"
    assert cli("finance", "report", str(case.id), "--pdf", "-o", str(as_pdf)).exit_code == 0
    assert as_pdf.read_bytes().startswith(b"%PDF-")
    missing = cli("finance", "report", "999", "-o", str(tmp_path / "none.json"))
    assert missing.exit_code == 2 and "case_not_found" in missing.stderr


def test_screen_a_csv_file_row_by_row(cli: Invoke, tmp_path: Path) -> None:
    sdn = tmp_path / "sdn.xml"
    sdn.write_text(SDN_XML, encoding="utf-8")
    assert cli("finance", "lists", "import", str(sdn)).exit_code == 0
    rows = tmp_path / "campaigns.csv"
    rows.write_text(
        "id,name,wallet\n"
        "c-1,Jane Smith,\n"
        "c-2,يوسف حداد,\n"
        f"c-3,,{WALLET}\n"
        ",,\n"
        "c-4,,bc1qnotanaddress\n",
        encoding="utf-8",
    )
    screened = cli("finance", "screen-file", str(rows), "--format", "json")
    assert screened.exit_code == 1, screened.stderr
    results = {r["id"]: r for r in json.loads(screened.stdout)}
    assert sorted(results) == ["c-1", "c-2", "c-3", "c-4"]  # the blank row is skipped
    assert results["c-1"]["hits"] == [] and results["c-1"]["error"] is None
    assert results["c-2"]["hits"][0]["entity"]["external_id"] == "48214"
    assert results["c-3"]["hits"][0]["entity"]["external_id"] == ENTITY_UID
    assert results["c-4"]["error"]["code"] == "invalid_signal"
    headless = tmp_path / "no-header.csv"
    headless.write_text("Jane Smith\nJohn Doe\n", encoding="utf-8")
    refused = cli("finance", "screen-file", str(headless))
    assert refused.exit_code == 2 and "'name' or 'wallet' column" in refused.stderr
