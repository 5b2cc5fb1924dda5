"""Shared fixtures for the CLI tests: one data folder per test, media generated once per session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.demo.media import Edit, edit_photo, make_photo, make_video

PHOTO_SIZE = (640, 480)
BANKED_SEEDS = tuple(range(1, 9))  # 8 banked photos
EDITS: tuple[Edit, ...] = ("resize", "reencode", "crop_small")
UNRELATED_SEEDS = tuple(range(500, 524))  # 24 photos no bank knows


@dataclass(frozen=True)
class Media:
    banked: dict[int, bytes]
    # (seed, edit) -> bytes: copies of banked photos as re-uploads would change them
    edited: dict[tuple[int, Edit], bytes]
    unrelated: dict[int, bytes]
    video: bytes


@pytest.fixture(scope="session")
def media() -> Media:
    banked = {seed: make_photo(seed, size=PHOTO_SIZE) for seed in BANKED_SEEDS}
    edited = {
        (seed, EDITS[index % len(EDITS)]): edit_photo(banked[seed], EDITS[index % len(EDITS)])
        for index, seed in enumerate(BANKED_SEEDS[:6])
    }
    unrelated = {seed: make_photo(seed, size=PHOTO_SIZE) for seed in UNRELATED_SEEDS}
    return Media(banked, edited, unrelated, make_video(42, seconds=3.0, fps=15, size=(320, 240)))


Invoke = Callable[..., "Result"]


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli_env(data_dir: Path) -> dict[str, str]:
    # Every setting a command may change is listed, so CliRunner restores it after each call.
    return {
        "BASTION_DATA_DIR": str(data_dir),
        "BASTION_DATABASE_URL": "",
        "BASTION_SCAN_WORKERS": "2",
        "BASTION_LOG_LEVEL": "info",
        "COLUMNS": "250",
    }


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Invoke:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        result = runner.invoke(app, list(args), env=cli_env, input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke


def write_files(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder
