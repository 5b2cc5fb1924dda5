"""``bastion bank ...`` and ``bastion audit ...``: managing banks leaves an audit trail."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .conftest import Invoke, Media, write_files

PDQ_A = "f" * 64
PDQ_B = "0123456789abcdef" * 4
MD5_A = "d41d8cd98f00b204e9800998ecf8427e"


def _entries(cli: Invoke, bank: str) -> list[dict[str, object]]:
    result = cli("bank", "entries", bank, "--format", "json")
    assert result.exit_code == 0, result.stderr
    entries: list[dict[str, object]] = json.loads(result.stdout)
    return entries


def test_bank_lifecycle_is_audited(cli: Invoke) -> None:
    created = cli(
        "bank", "create", "propaganda", "--label", "tvec1", "--label", "tvec6",
        "--threshold", "pdq=20", "--tlp", "red", "--description", "seen on channel X",
        "--format", "json",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    assert json.loads(created.stdout)["thresholds"] == {"pdq": 20.0}

    assert cli("bank", "add-hash", "propaganda", "--type", "pdq", PDQ_A, PDQ_B).exit_code == 0
    assert cli("bank", "rename", "propaganda", "prop-2024").exit_code == 0
    assert cli("bank", "disable", "prop-2024").exit_code == 0
    listed = json.loads(cli("bank", "list", "--format", "json").stdout)
    assert [(b["name"], b["enabled"], b["entries"]) for b in listed] == [("prop-2024", False, 2)]
    assert cli("bank", "enable", "prop-2024").exit_code == 0
    shown = cli("bank", "show", "prop-2024")
    assert "tvec1;tvec6" in shown.stdout and "seen on channel X" in shown.stdout
    (entry, _) = _entries(cli, "prop-2024")
    assert cli("bank", "entry-delete", "prop-2024", str(entry["id"])).exit_code == 0
    assert len(_entries(cli, "prop-2024")) == 1
    deleted = cli("bank", "delete", "prop-2024", "--yes")
    assert deleted.exit_code == 0
    assert cli("bank", "show", "prop-2024").exit_code == 2

    events = json.loads(cli("audit", "list", "--format", "json").stdout)
    actions = [e["action"] for e in reversed(events)]
    assert actions == [
        "bank.create",
        "bank.entries.add",
        "bank.update",  # rename
        "bank.update",  # disable
        "bank.update",  # enable
        "bank.entry.delete",
        "bank.delete",
    ]
    assert all(e["actor"].startswith("cli:") for e in events)
    verified = cli("audit", "verify", "--format", "json")
    assert verified.exit_code == 0
    assert json.loads(verified.stdout) == {
        "intact": True,
        "events_checked": 7,
        "first_broken_id": None,
    }


def test_unknown_bank_and_bad_values_are_input_errors(cli: Invoke) -> None:
    missing = cli("bank", "show", "nope")
    bad_label = cli("bank", "create", "x", "--label", "tvec99")
    bad_threshold = cli("bank", "create", "x", "--threshold", "pdq")
    cli("bank", "create", "x")
    bad_hash = cli("bank", "add-hash", "x", "--type", "pdq", "not-hex")
    exists = cli("bank", "create", "x")

    assert missing.exit_code == 2
    assert missing.stderr.strip() == "error: bank_not_found: no bank named 'nope'"
    assert bad_label.exit_code == 2 and "error: invalid_input: unknown label" in bad_label.stderr
    assert bad_threshold.exit_code == 2 and "pdq=20" in bad_threshold.stderr
    assert bad_hash.exit_code == 2 and "error: invalid_signal:" in bad_hash.stderr
    assert exists.exit_code == 2 and "error: bank_exists:" in exists.stderr
    assert _entries(cli, "x") == []


def test_delete_without_yes_refuses_when_not_interactive(cli: Invoke) -> None:
    cli("bank", "create", "keep-me")

    result = cli("bank", "delete", "keep-me")

    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert cli("bank", "show", "keep-me").exit_code == 0


def _write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("signal_type,value,labels,note\n" + "\n".join(rows) + "\n")
    return path


def test_malformed_import_lists_bad_lines_and_imports_nothing(cli: Invoke, tmp_path: Path) -> None:
    cli("bank", "create", "imported")
    file = _write_csv(
        tmp_path / "entries.csv",
        [
            f"pdq,{PDQ_A},tvec1,good",
            "pdq,zzzz,tvec1,bad hex",  # line 3
            f"md5,{MD5_A},,good",
            f"nosuchtype,{MD5_A},,bad type",  # line 5
        ],
    )

    result = cli("bank", "import", "imported", str(file))

    assert result.exit_code == 2
    assert "error: import_malformed: 2 bad row(s)" in result.stderr
    assert "line 3: invalid_signal:" in result.stderr
    assert "line 5: invalid_signal:" in result.stderr
    assert _entries(cli, "imported") == []


def test_partial_import_keeps_good_rows_and_still_exits_2(cli: Invoke, tmp_path: Path) -> None:
    cli("bank", "create", "imported")
    file = _write_csv(
        tmp_path / "entries.csv",
        [f"pdq,{PDQ_A},tvec1,good", "pdq,zzzz,tvec1,bad hex", f"md5,{MD5_A},tvec6,good"],
    )

    result = cli("bank", "import", "imported", str(file), "--partial", "--output", "json")
    again = cli("bank", "import", "imported", str(file), "--partial", "--output", "json")

    assert result.exit_code == 2
    assert "line 3: invalid_signal:" in result.stderr
    report = json.loads(result.stdout)
    assert (report["added"], report["duplicates"], report["rejected"]) == (2, 0, 1)
    entries = _entries(cli, "imported")
    assert [(e["signal_type"], e["labels"]) for e in entries] == [
        ("pdq", ["tvec1"]),
        ("md5", ["tvec6"]),
    ]
    assert all(str(e["added_from"]).startswith("import:entries.csv:line ") for e in entries)
    assert json.loads(again.stdout)["duplicates"] == 2


def test_jsonl_import_and_entry_listing_formats(cli: Invoke, tmp_path: Path) -> None:
    cli("bank", "create", "j")
    file = tmp_path / "entries.jsonl"
    file.write_text(
        "\n".join(
            json.dumps({"signal_type": "pdq", "value": v, "labels": ["tvec7"]})
            for v in (PDQ_A, PDQ_B)
        )
    )

    imported = cli("bank", "import", "j", str(file))
    as_csv = cli("bank", "entries", "j", "--format", "csv")
    first_page = json.loads(cli("bank", "entries", "j", "--limit", "1", "-f", "json").stdout)
    second_page = json.loads(
        cli("bank", "entries", "j", "--after", str(first_page[0]["id"]), "-f", "json").stdout
    )

    assert imported.exit_code == 0, imported.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [row["value"] for row in rows] == [PDQ_A, PDQ_B]
    assert [e["value"] for e in first_page + second_page] == [PDQ_A, PDQ_B]


def test_bank_add_reports_added_duplicates_and_bad_files(
    cli: Invoke, media: Media, tmp_path: Path
) -> None:
    photos = list(media.unrelated.values())[:3]
    folder = write_files(
        tmp_path / "in", {"a.jpg": photos[0], "b.jpg": photos[1], "broken.jpg": photos[2][:100]}
    )
    flat = write_files(tmp_path / "flat", {"grey.png": _flat_png()})
    cli("bank", "create", "from-files", "--label", "tvec1")

    first = cli("bank", "add", "from-files", str(folder), "--note", "batch 1", "-f", "json")
    again = cli("bank", "add", "from-files", str(folder / "a.jpg"), "-f", "json")
    only_pdq = cli("bank", "add", "from-files", str(flat), "--signal-type", "pdq", "-f", "json")

    assert first.exit_code == 2  # one file could not be hashed
    assert f"{folder / 'broken.jpg'}: " in first.stderr
    report = json.loads(first.stdout)
    assert (report["added"], report["rejected"]) == (6, 1)
    assert {e["added_from"] for e in report["entries"]} == {
        f"file:{folder / 'a.jpg'}",
        f"file:{folder / 'b.jpg'}",
    }
    assert {e["note"] for e in report["entries"]} == {"batch 1"}
    assert again.exit_code == 0 and json.loads(again.stdout)["duplicates"] == 3
    low = json.loads(only_pdq.stdout)
    assert (low["added"], low["skipped_low_quality"]) == (0, 1)
    assert "skipped:" in only_pdq.stderr and "quality" in only_pdq.stderr


def _flat_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (256, 256), (128, 128, 128)).save(out, "PNG")
    return out.getvalue()


def test_audit_verify_exits_1_when_the_chain_is_broken(cli: Invoke, data_dir: Path) -> None:
    import sqlite3

    cli("bank", "create", "a")
    cli("bank", "create", "b")
    with sqlite3.connect(data_dir / "bastion.sqlite3") as db:
        db.execute("UPDATE audit_event SET actor = 'someone-else' WHERE id = 1")

    result = cli("audit", "verify")

    assert result.exit_code == 1
    assert "no" in result.stdout  # intact: no
