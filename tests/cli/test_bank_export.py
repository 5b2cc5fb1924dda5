"""``bastion bank export``: a backup that ``bastion bank import`` turns back into the same bank."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Invoke, Media, write_files

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
VPDQ = "0,100," + "e2" * 32 + ",0.000\n15,90," + "c0" * 32 + ",0.500"


def _entries(cli: Invoke, bank: str) -> list[tuple[object, ...]]:
    result = cli("bank", "entries", bank, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return [
        (e["signal_type"], e["value"], e["labels"], e["note"]) for e in json.loads(result.stdout)
    ]


def _fill(cli: Invoke, media: Media, folder: Path) -> None:
    assert cli("bank", "create", "source").exit_code == 0
    photos = write_files(folder, {"a.jpg": media.banked[1], "b.jpg": media.banked[2]})
    added = cli("bank", "add", "source", str(photos), "--label", "tvec1", "--note", "posters")
    assert added.exit_code == 0, added.stderr
    for signal_type, value in (("md5", MD5), ("vpdq", VPDQ)):
        hashed = cli(
            "bank", "add-hash", "source", "--type", signal_type, value, "--note", 'a, "b"\nc'
        )
        assert hashed.exit_code == 0, hashed.stderr


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_export_to_a_file_then_import(cli: Invoke, media: Media, tmp_path: Path, fmt: str) -> None:
    _fill(cli, media, tmp_path / "photos")
    target = tmp_path / f"backup.{fmt}"

    exported = cli("bank", "export", "source", "--format", fmt, "--output", str(target))

    assert exported.exit_code == 0, exported.stderr
    assert exported.stdout == ""
    assert "exported 8 entries" in exported.stderr
    assert not list(tmp_path.glob(".*.partial"))
    if fmt != "csv":
        assert target.read_text().count('"variants"') == 2
    assert cli("bank", "create", "copy").exit_code == 0
    imported = cli("bank", "import", "copy", str(target))
    assert imported.exit_code == 0, imported.stderr
    assert _entries(cli, "copy") == _entries(cli, "source")


def test_stdout_by_default_and_the_options(cli: Invoke, media: Media, tmp_path: Path) -> None:
    _fill(cli, media, tmp_path / "photos")
    first_id = json.loads(cli("bank", "entries", "source", "--format", "json").stdout)[0]["id"]
    disabled = cli("bank", "entry-disable", "source", str(first_id), "--until", "2099-01-01T00:00Z")
    assert disabled.exit_code == 0, disabled.stderr

    full = cli("bank", "export", "source")
    lean = cli("bank", "export", "source", "--no-variants", "--skip-disabled")

    assert full.exit_code == 0 and lean.exit_code == 0
    full_lines = full.stdout.splitlines()
    assert len(full_lines) == 8 and sum('"variants"' in line for line in full_lines) == 2
    assert "variants" not in lean.stdout
    assert len(lean.stdout.splitlines()) == 7
    assert [json.loads(line)["value"] for line in lean.stdout.splitlines()] == [
        json.loads(line)["value"] for line in full_lines[1:]
    ]

    events = json.loads(cli("audit", "list", "--format", "json").stdout)
    exports = [e for e in events if e["action"] == "bank.export"]
    assert [e["details"]["entry_count"] for e in exports] == [7, 8]  # newest first
    assert all(e["actor"].startswith("cli:") for e in exports)


def test_unknown_bank_and_bad_format_are_input_errors(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "never.jsonl"
    missing = cli("bank", "export", "nope", "--output", str(target))
    assert cli("bank", "create", "real").exit_code == 0
    bad_format = cli("bank", "export", "real", "--format", "xml")

    assert missing.exit_code == 2
    assert missing.stderr.strip() == "error: bank_not_found: no bank named 'nope'"
    assert not target.exists()
    assert bad_format.exit_code == 2 and "xml" in bad_format.stderr
