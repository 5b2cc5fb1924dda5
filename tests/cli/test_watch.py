"""``bastion watch`` on generated stream files read as fast as they decode: banked footage gives
one alert line and exit 1, unrelated footage exit 0, bad sources exit 2 without stopping the
good ones, and the stream webhook is signed, sent and refused when misconfigured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bastion.demo.media import make_video
from bastion.runtime import Bastion
from bastion.settings import Settings
from tests.act.test_webhook import SECRET, receiver
from tests.cli.conftest import Invoke
from tests.signals.test_video_variants import FPS, Frames, _decode, _encode, _scaled
from tests.stream.test_watcher import BEFORE, CLIP_SECONDS, SIZE, STREAM_SIZE, _bank_video


@pytest.fixture(scope="module")
def clip() -> bytes:
    return make_video(71, seconds=CLIP_SECONDS, fps=FPS, size=SIZE)


@pytest.fixture(scope="module")
def stream_files(clip: bytes, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The banked clip mirrored and rescaled inside unrelated footage, and unrelated footage."""

    def unrelated(seed: int, seconds: float) -> Frames:
        return _decode(make_video(seed, seconds=seconds, fps=FPS, size=STREAM_SIZE))

    copy = [_scaled(rgb[:, ::-1], *STREAM_SIZE) for rgb in _decode(clip)]
    folder = tmp_path_factory.mktemp("streams")
    files = {
        "with_clip": _encode(unrelated(72, BEFORE) + copy + unrelated(73, 4.0)),
        "unrelated": _encode(unrelated(74, 8.0)),
    }
    for name, data in files.items():
        (folder / f"{name}.mp4").write_bytes(data)
    return {name: folder / f"{name}.mp4" for name in files}


@pytest.fixture
def banked(data_dir: Path, clip: bytes) -> int:
    """The clip banked (with dense frames) in the CLI's data folder: its vPDQ entry id."""
    bastion = Bastion.from_settings(Settings(data_dir=data_dir, database_url=""))
    try:
        return _bank_video(bastion, clip)
    finally:
        bastion.close()


def _lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _of(lines: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [line for line in lines if line["type"] == kind]


def test_banked_footage_prints_one_alert_and_exits_1(
    cli: Invoke, banked: int, stream_files: dict[str, Path]
) -> None:
    result = cli("watch", str(stream_files["with_clip"]), "--no-live", "--format", "json")
    assert result.exit_code == 1, result.stderr
    lines = _lines(result.stdout)
    alerts = _of(lines, "alert")
    assert [(a["entry_id"], a["signal_type"], a["bank"]) for a in alerts] == [
        (banked, "vpdq", "tvec")
    ]
    assert alerts[0]["stream"] == str(stream_files["with_clip"]) and alerts[0]["action"] == "cut"
    [status] = _of(lines, "status")
    assert status["state"] == "ended" and status["alerts"] == 1 and status["error"] is None
    assert status["frames_sampled"] >= 15 and status["current_rate"] == 1.0
    assert status["lag_seconds"] == 0.0 and status["cpu_seconds_per_frame"] > 0
    listed = cli("alerts", "list", "--format", "json")
    assert "stream_match" in listed.stdout


def test_table_output_names_the_alert(
    cli: Invoke, banked: int, stream_files: dict[str, Path]
) -> None:
    result = cli("watch", str(stream_files["with_clip"]), "--no-live")
    assert result.exit_code == 1, result.stderr
    assert f"ALERT {stream_files['with_clip']}: bank tvec entry {banked} (vpdq)" in result.stdout
    assert "frames_sampled" in result.stdout and "ended" in result.stdout


def test_unrelated_footage_exits_0(cli: Invoke, banked: int, stream_files: dict[str, Path]) -> None:
    result = cli("watch", str(stream_files["unrelated"]), "--no-live", "--format", "json")
    assert result.exit_code == 0, result.stderr
    lines = _lines(result.stdout)
    assert _of(lines, "alert") == []
    assert [s["state"] for s in _of(lines, "status")] == ["ended"]


def test_max_seconds_stops_a_stream_early(
    cli: Invoke, banked: int, stream_files: dict[str, Path]
) -> None:
    # The clip starts at BEFORE seconds: stopping earlier means no alert.
    result = cli(
        "watch",
        str(stream_files["with_clip"]),
        "--no-live",
        "--max-seconds",
        str(BEFORE - 1.5),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    [status] = _of(_lines(result.stdout), "status")
    assert status["state"] == "stopped" and 3 <= status["frames_sampled"] <= BEFORE


def test_bad_sources_exit_2_while_a_good_one_is_watched(
    cli: Invoke, banked: int, stream_files: dict[str, Path], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.mp4"
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"this is not a video at all\n" * 200)
    good = stream_files["unrelated"]
    result = cli("watch", str(missing), str(garbage), str(good), "--no-live", "--format", "json")
    assert result.exit_code == 2, result.stderr
    assert f"{missing}: invalid_input:" in result.stderr
    assert f"{garbage}: media_corrupt:" in result.stderr
    statuses = {s["stream"]: s for s in _of(_lines(result.stdout), "status")}
    assert statuses[str(missing)]["error"]["code"] == "invalid_input"
    assert statuses[str(garbage)]["error"]["code"] == "media_corrupt"
    assert statuses[str(good)]["state"] == "ended"
    assert statuses[str(good)]["frames_sampled"] >= 7


def test_an_alert_beats_a_bad_source(
    cli: Invoke, banked: int, stream_files: dict[str, Path], tmp_path: Path
) -> None:
    result = cli(
        "watch", str(tmp_path / "missing.mp4"), str(stream_files["with_clip"]), "--no-live"
    )
    assert result.exit_code == 1
    assert "invalid_input" in result.stderr


def test_the_webhook_gets_a_signed_stream_match(
    cli: Invoke, cli_env: dict[str, str], banked: int, stream_files: dict[str, Path]
) -> None:
    with receiver() as platform:
        cli_env.update(
            {
                "BASTION_STREAM_WEBHOOK_URL": platform.url,
                "BASTION_STREAM_WEBHOOK_SECRET": SECRET,
                "BASTION_STREAM_WEBHOOK_ALLOW_PRIVATE": "true",
            }
        )
        result = cli("watch", str(stream_files["with_clip"]), "--no-live", "--format", "json")
    assert result.exit_code == 1, result.stderr
    [delivery] = platform.deliveries
    assert delivery.verified and delivery.event == "stream.match"
    data = delivery.json()["data"]
    assert isinstance(data, dict) and data["entry_id"] == banked and data["action"] == "cut"
    assert SECRET not in result.stdout + result.stderr


def test_a_webhook_url_without_a_secret_is_a_configuration_error(
    cli: Invoke, cli_env: dict[str, str], stream_files: dict[str, Path]
) -> None:
    cli_env["BASTION_STREAM_WEBHOOK_URL"] = "https://platform.example/hooks/bastion"
    cli_env["BASTION_STREAM_WEBHOOK_SECRET"] = ""
    result = cli("watch", str(stream_files["unrelated"]), "--no-live")
    assert result.exit_code == 2
    assert "error: configuration_error: BASTION_STREAM_WEBHOOK_SECRET must be set" in (
        result.stderr
    )
    assert result.stdout == ""


def test_the_webhook_secret_is_never_shown() -> None:
    settings = Settings(
        stream_webhook_url="https://platform.example/hooks", stream_webhook_secret=SECRET
    )
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    assert SECRET not in settings.model_dump_json()
