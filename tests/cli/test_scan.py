"""``bastion scan``: what a trust-and-safety analyst sees when scanning a folder."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from .conftest import Invoke, Media, write_files


@pytest.fixture
def banked(cli: Invoke, media: Media, tmp_path: Path) -> Path:
    """A positive bank ``known`` holding the banked photos (added from a folder)."""
    originals = write_files(
        tmp_path / "originals", {f"original-{s}.jpg": d for s, d in media.banked.items()}
    )
    assert cli("bank", "create", "known", "--label", "tvec1").exit_code == 0
    added = cli("bank", "add", "known", str(originals), "--format", "json")
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["added"] == 3 * len(media.banked)  # md5, sha256, pdq
    return originals


def _query_folder(media: Media, folder: Path) -> set[str]:
    """~30 photos: edited copies of banked ones plus unrelated ones; returns the copies' names."""
    copies = {f"copy-{seed}-{edit}.jpg": data for (seed, edit), data in media.edited.items()}
    others = {f"photo-{seed}.jpg": data for seed, data in media.unrelated.items()}
    write_files(folder / "incoming", {**copies, **others})
    return set(copies)


def _scan_json(cli: Invoke, *args: str) -> tuple[int, dict[str, Any], str]:
    result = cli("scan", "--format", "json", *args)
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_scan_reports_exactly_the_edited_copies_of_banked_photos(
    cli: Invoke, media: Media, banked: Path, tmp_path: Path
) -> None:
    copies = _query_folder(media, tmp_path / "query")

    code, document, _ = _scan_json(cli, str(tmp_path / "query"))

    assert code == 1
    files = document["files"]
    assert isinstance(files, list)
    assert len(files) == len(media.edited) + len(media.unrelated)
    matched = {Path(f["path"]).name for f in files if f["status"] == "matched"}
    assert matched == copies
    assert {f["status"] for f in files if Path(f["path"]).name not in copies} == {"clean"}
    for record in files:
        if record["status"] == "matched":
            assert all(m["bank"] == "known" and m["labels"] == ["tvec1"] for m in record["matches"])
            assert any(m["signal_type"] == "pdq" for m in record["matches"])
    assert document["summary"] == {
        "files": len(files),
        "matched": len(copies),
        "suppressed": 0,
        "clean": len(files) - len(copies),
        "error": 0,
    }


def test_scan_table_and_csv_list_matches_with_their_reasons(
    cli: Invoke, media: Media, banked: Path, tmp_path: Path
) -> None:
    copies = _query_folder(media, tmp_path / "query")

    table = cli("scan", str(tmp_path / "query"), "--workers", "1")
    as_csv = cli("scan", str(tmp_path / "query"), "--format", "csv")

    assert table.exit_code == as_csv.exit_code == 1
    for name in copies:
        assert name in table.stdout
    assert "photo-5" not in table.stdout
    assert "threshold" in table.stdout and "tvec1" in table.stdout
    assert f"{len(copies)} matched" in table.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert {Path(row["file"]).name for row in rows} == copies
    assert all(row["bank"] == "known" and row["reason"] for row in rows)
    assert all(int(float(row["distance"])) <= int(float(row["threshold"])) for row in rows)


def test_clean_folder_exits_zero(cli: Invoke, media: Media, banked: Path, tmp_path: Path) -> None:
    folder = write_files(
        tmp_path / "clean", {f"p{s}.jpg": d for s, d in list(media.unrelated.items())[:5]}
    )

    result = cli("scan", str(folder))

    assert result.exit_code == 0
    assert result.stdout.strip() == ""
    assert "0 matched" in result.stderr


def _bad_files(media: Media) -> dict[str, bytes]:
    photo = media.unrelated[min(media.unrelated)]
    return {
        "empty.jpg": b"",
        "truncated.jpg": photo[:200],
        "garbage.jpg": b"\xff\xd8\xff\xe0" + os.urandom(2000),
        "fake.mp4": b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500,
    }


def test_bad_files_are_listed_and_the_scan_goes_on(
    cli: Invoke, media: Media, banked: Path, tmp_path: Path
) -> None:
    bad = _bad_files(media)
    folder = write_files(
        tmp_path / "mixed", {**bad, "fine.jpg": media.unrelated[max(media.unrelated)]}
    )

    code, document, stderr = _scan_json(cli, str(folder))

    assert code == 2
    lines = stderr.strip().splitlines()
    for name in bad:
        assert sum(1 for line in lines if line.startswith(str(folder / name) + ": ")) == 1, (
            name,
            stderr,
        )
    statuses = {Path(str(f["path"])).name: f["status"] for f in document["files"]}
    assert statuses == {**dict.fromkeys(bad, "error"), "fine.jpg": "clean"}


def test_a_match_wins_over_bad_files(
    cli: Invoke, media: Media, banked: Path, tmp_path: Path
) -> None:
    copy = next(iter(media.edited.values()))
    folder = write_files(tmp_path / "mixed", {**_bad_files(media), "copy.jpg": copy})

    result = cli("scan", str(folder))

    assert result.exit_code == 1
    assert "copy.jpg" in result.stdout
    for name in _bad_files(media):
        assert f"{folder / name}: " in result.stderr


def test_missing_path_is_an_input_error(cli: Invoke, tmp_path: Path) -> None:
    result = cli("scan", str(tmp_path / "nope"))

    assert result.exit_code == 2
    assert f"{tmp_path / 'nope'}: file_not_found:" in result.stderr


def test_hidden_files_and_symlinked_folders_are_skipped(
    cli: Invoke, media: Media, banked: Path, tmp_path: Path
) -> None:
    copy = next(iter(media.edited.values()))
    root = write_files(tmp_path / "tree", {"clean.jpg": media.unrelated[min(media.unrelated)]})
    write_files(root / ".cache", {"copy.jpg": copy})
    write_files(root, {".copy.jpg": copy})
    write_files(tmp_path / "elsewhere", {"copy.jpg": copy})
    (root / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)

    skipped = cli("scan", str(root))
    with_hidden = cli("scan", "--hidden", "--format", "json", str(root))

    assert skipped.exit_code == 0
    assert with_hidden.exit_code == 1
    names = {str(f["path"]) for f in json.loads(with_hidden.stdout)["files"]}
    assert names == {
        str(root / "clean.jpg"),
        str(root / ".cache/copy.jpg"),
        str(root / ".copy.jpg"),
    }


def test_negative_bank_suppresses_a_known_false_positive(
    cli: Invoke, media: Media, banked: Path, tmp_path: Path
) -> None:
    copy = next(iter(media.edited.values()))
    folder = write_files(tmp_path / "fp", {"known-fp.jpg": copy})
    assert cli("bank", "create", "false-positives", "--kind", "negative").exit_code == 0
    assert cli("bank", "add", "false-positives", str(folder / "known-fp.jpg")).exit_code == 0

    code, document, stderr = _scan_json(cli, str(folder))
    as_csv = cli("scan", str(folder), "--format", "csv")

    assert code == 0
    (record,) = document["files"]
    assert record["status"] == "suppressed"
    positives = [m for m in record["matches"] if m["bank"] == "known"]
    assert positives and all(m["suppressed"] for m in positives)
    assert all("known false positive" in m["reason"] for m in positives)
    assert any(m["bank"] == "false-positives" for m in record["matches"])
    assert "1 suppressed" in stderr
    # Tables and CSV list the suppressed positive matches; the reason names the negative bank.
    assert as_csv.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert rows and {(row["bank"], row["suppressed"]) for row in rows} == {("known", "yes")}
    assert all("'false-positives'" in row["reason"] for row in rows)


def test_disabled_entry_does_not_match_until_enabled(
    cli: Invoke, media: Media, banked: Path, tmp_path: Path
) -> None:
    seed, edit = next(iter(media.edited))
    folder = write_files(tmp_path / "q", {"copy.jpg": media.edited[(seed, edit)]})
    entries = json.loads(
        cli("bank", "entries", "known", "--signal-type", "pdq", "-f", "json").stdout
    )
    (entry,) = [e for e in entries if e["added_from"].endswith(f"original-{seed}.jpg")]

    disabled = cli(
        "bank", "entry-disable", "known", str(entry["id"]), "--until", "2999-01-01T00:00:00Z"
    )
    while_disabled = cli("scan", str(folder))
    cli("bank", "entry-enable", "known", str(entry["id"]))
    after = cli("scan", str(folder))

    assert disabled.exit_code == 0 and "2999-01-01" in disabled.stdout
    assert while_disabled.exit_code == 0
    assert after.exit_code == 1


def test_entry_disable_needs_a_timezone(cli: Invoke, banked: Path) -> None:
    entries = json.loads(cli("bank", "entries", "known", "-f", "json", "--limit", "1").stdout)

    naive = cli(
        "bank", "entry-disable", "known", str(entries[0]["id"]), "--until", "2999-01-01T00:00"
    )
    junk = cli("bank", "entry-disable", "known", str(entries[0]["id"]), "--until", "soon")

    assert naive.exit_code == 2 and "error: invalid_input:" in naive.stderr
    assert junk.exit_code == 2 and "ISO 8601" in junk.stderr
