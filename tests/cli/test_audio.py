"""The CLI on audio files: ``bastion hash`` shows their fingerprint; ``bastion bank add`` banks
a folder of MP3s and ``bastion scan`` finds a re-encoded excerpt and reports broken audio."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import needs_chromaprint
from tests.signals.test_audio import RATE, encode_audio, synth_music

from .conftest import Invoke, write_files

pytestmark = needs_chromaprint


def test_hash_scan_and_bank_audio_files(cli: Invoke, tmp_path: Path) -> None:
    music = synth_music(41, 25.0)
    mp3 = encode_audio(music, "libmp3lame", "mp3", bit_rate=128_000)
    originals = write_files(tmp_path / "bank", {"nasheed.mp3": mp3})
    query = write_files(
        tmp_path / "query",
        {
            "excerpt.opus": encode_audio(music[5 * RATE :], "libopus", "ogg", bit_rate=32_000),
            "other.flac": encode_audio(synth_music(42, 20.0), "flac", "flac"),
            "broken.mp3": mp3[:45] + bytes(4000),
        },
    )

    hashed = cli("hash", str(originals), "--format", "json")
    assert hashed.exit_code == 0, hashed.stderr
    (record,) = json.loads(hashed.stdout)["files"]
    assert record["media"]["kind"] == "audio"
    assert [s["type"] for s in record["signals"]] == ["md5", "sha256", "chromaprint"]
    assert record["signals"][2]["value"].startswith("cp1:")

    assert cli("bank", "create", "nasheeds", "--label", "tvec1").exit_code == 0
    added = cli("bank", "add", "nasheeds", str(originals), "--format", "json")
    assert added.exit_code == 0, added.stderr
    assert json.loads(added.stdout)["added"] == 3

    scanned = cli("scan", str(query), "--format", "json")
    assert scanned.exit_code == 1, scanned.stderr  # something matched
    files = {Path(f["path"]).name: f for f in json.loads(scanned.stdout)["files"]}
    assert files["excerpt.opus"]["status"] == "matched"
    assert [m["signal_type"] for m in files["excerpt.opus"]["matches"]] == ["chromaprint"]
    assert files["other.flac"]["status"] == "clean"
    assert files["other.flac"]["kind"] == "audio"
    assert files["broken.mp3"]["status"] == "error"
    assert files["broken.mp3"]["error"]["code"] == "media_corrupt"
