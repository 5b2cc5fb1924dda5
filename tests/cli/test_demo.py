"""``bastion demo --no-serve``: the data set the README's walkthrough relies on."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from .conftest import Invoke


def test_demo_builds_banks_key_and_samples_that_scan_as_described(
    cli: Invoke, data_dir: Path
) -> None:
    started = time.monotonic()
    first = cli("demo", "--no-serve")
    build_seconds = time.monotonic() - started
    assert first.exit_code == 0, first.stderr
    samples = data_dir / "demo" / "samples"
    key = re.search(r"bst_[0-9a-f]+_[A-Za-z0-9_-]+", first.stdout)
    assert key is not None
    assert f'curl -H "Authorization: Bearer {key.group(0)}" -F file=@' in first.stdout
    assert "/v1/scan" in first.stdout
    assert f"bastion scan {samples}" in first.stdout
    assert build_seconds < 20  # "a few seconds" on two cores, with slack for a busy CI machine

    scanned = cli("scan", str(samples), "--format", "json")
    banks = {b["name"]: b for b in json.loads(cli("bank", "list", "-f", "json").stdout)}

    assert scanned.exit_code == 1
    statuses = {Path(f["path"]).name: f["status"] for f in json.loads(scanned.stdout)["files"]}
    assert statuses == {
        "edited-banked-photo.jpg": "matched",
        "reencoded-banked-video.mp4": "matched",
        "unrelated-photo.jpg": "clean",
        "known-false-positive.jpg": "suppressed",
    }
    video = next(f for f in json.loads(scanned.stdout)["files"] if f["path"].endswith(".mp4"))
    assert any(m["signal_type"] == "vpdq" for m in video["matches"])
    assert banks["demo-propaganda"]["kind"] == "positive"
    assert banks["demo-propaganda"]["labels"] == ["tvec1"]
    assert banks["demo-known-false-positives"]["kind"] == "negative"
    assert banks["demo-known-false-positives"]["entries"] >= 1


def test_demo_is_idempotent_and_issues_a_fresh_key(cli: Invoke) -> None:
    first = cli("demo", "--no-serve")
    entries_before = {
        b["name"]: b["entries"] for b in json.loads(cli("bank", "list", "-f", "json").stdout)
    }

    second = cli("demo", "--no-serve")

    assert second.exit_code == 0
    assert "reused" in second.stdout
    entries_after = {
        b["name"]: b["entries"] for b in json.loads(cli("bank", "list", "-f", "json").stdout)
    }
    assert entries_after == entries_before
    live = json.loads(cli("keys", "list", "-f", "json").stdout)
    assert len(live) == 1 and live[0]["scopes"] == ["banks:read", "scan"]
    assert live[0]["prefix"] in second.stdout and live[0]["prefix"] not in first.stdout
