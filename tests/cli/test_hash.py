"""``bastion hash``: signals of photos and videos; vPDQ files other tools can read."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

from bastion.signals.vpdq_format import parse_vpdq

from .conftest import Invoke, Media, write_files

VPDQ_LINE = re.compile(r"^\d+,\d{1,3},[0-9a-f]{64},\d+\.\d+$")


def test_photo_signals_in_every_format(cli: Invoke, media: Media, tmp_path: Path) -> None:
    photo = media.banked[1]
    folder = write_files(tmp_path / "p", {"photo.jpg": photo})

    as_json = cli("hash", str(folder), "--format", "json")
    as_csv = cli("hash", str(folder / "photo.jpg"), "--format", "csv")
    table = cli("hash", str(folder))

    assert as_json.exit_code == as_csv.exit_code == table.exit_code == 0
    (record,) = json.loads(as_json.stdout)["files"]
    signals = {s["type"]: s for s in record["signals"]}
    assert signals["md5"]["value"] == hashlib.md5(photo).hexdigest()
    assert signals["sha256"]["value"] == hashlib.sha256(photo).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", signals["pdq"]["value"])
    assert signals["pdq"]["quality"] >= 50
    assert record["media"]["kind"] == "photo"
    rows = {row["signal"]: row for row in csv.DictReader(io.StringIO(as_csv.stdout))}
    assert rows["pdq"]["value"] == signals["pdq"]["value"]
    assert rows["pdq"]["quality"] == str(signals["pdq"]["quality"])
    assert signals["pdq"]["value"] in table.stdout


def test_video_vpdq_file_parses_back(cli: Invoke, media: Media, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "v", {"clip.mp4": media.video})
    out = tmp_path / "vpdq"

    table = cli("hash", str(folder), "--fps", "2", "--vpdq-out", str(out))
    as_json = cli("hash", str(folder), "--fps", "2", "--format", "json")

    assert table.exit_code == 0, table.stderr
    assert "frames hashed" in table.stdout
    written = out / "clip.mp4.vpdq.txt"
    assert f"wrote {written}" in table.stderr
    lines = written.read_text().splitlines()
    assert len(lines) == 6  # 3 seconds at 2 frames per second
    assert all(VPDQ_LINE.match(line) for line in lines), lines[:2]
    frames = parse_vpdq(written.read_text())
    assert [round(f.seconds, 1) for f in frames] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    (record,) = json.loads(as_json.stdout)["files"]
    vpdq = next(s for s in record["signals"] if s["type"] == "vpdq")
    assert parse_vpdq(vpdq["value"]) == frames


def test_unhashable_file_is_reported_and_exit_2(cli: Invoke, tmp_path: Path) -> None:
    folder = write_files(tmp_path / "bad", {"empty.jpg": b""})

    result = cli("hash", str(folder))

    assert result.exit_code == 2
    assert result.stderr.startswith(f"{folder / 'empty.jpg'}: ")
