"""The installed ``bastion`` command as a user runs it: real processes, exit codes and stderr."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bastion.cli import main as cli_main

from .conftest import Media, write_files

SCRIPT = Path(sys.executable).with_name("bastion")


def _run(
    *args: str, data_dir: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "bastion.cli.main"]
    env = {
        **os.environ,
        "BASTION_DATA_DIR": str(data_dir),
        "BASTION_SCAN_WORKERS": "2",
        **(extra_env or {}),
    }
    env.pop("BASTION_DATABASE_URL", None)
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_real_scan_exit_codes_and_stderr(media: Media, tmp_path: Path) -> None:
    data = tmp_path / "data"
    originals = write_files(tmp_path / "originals", {"o.jpg": media.banked[1]})
    copy = media.edited[(1, "resize")]
    clean = write_files(tmp_path / "clean", {"c.jpg": media.unrelated[500]})
    mixed = write_files(tmp_path / "mixed", {"c.jpg": media.unrelated[500], "empty.jpg": b""})
    hit = write_files(tmp_path / "hit", {"copy.jpg": copy, "empty.jpg": b""})

    assert _run("bank", "create", "known", data_dir=data).returncode == 0
    assert _run("bank", "add", "known", str(originals), data_dir=data).returncode == 0
    clean_run = _run("scan", str(clean), data_dir=data)
    mixed_run = _run("scan", str(mixed), "--quiet", data_dir=data)
    hit_run = _run("scan", str(hit), "--format", "csv", data_dir=data)

    assert clean_run.returncode == 0, clean_run.stderr
    assert mixed_run.returncode == 2
    assert mixed_run.stderr.startswith(f"{mixed / 'empty.jpg'}: media_empty: ")
    assert len(mixed_run.stderr.strip().splitlines()) == 1  # --quiet: only the bad file
    assert "\x1b[" not in mixed_run.stderr  # no progress bar when stderr is not a terminal
    assert hit_run.returncode == 1
    assert hit_run.stdout.startswith("file,bank,labels,signal,distance,threshold,suppressed,reason")
    assert f"{hit / 'empty.jpg'}: media_empty: " in hit_run.stderr


def test_usage_and_input_errors_exit_2_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"

    unknown_option = _run("scan", "--no-such-option", data_dir=data)
    missing_bank = _run("bank", "show", "nope", data_dir=data)
    bad_setting = _run("bank", "list", data_dir=data, extra_env={"BASTION_PDQ_THRESHOLD": "many"})
    via_option = _run("--data-dir", str(tmp_path / "other"), "bank", "list", data_dir=data)

    assert unknown_option.returncode == 2 and "No such option" in unknown_option.stderr
    assert missing_bank.returncode == 2
    assert missing_bank.stderr == "error: bank_not_found: no bank named 'nope'\n"
    assert bad_setting.returncode == 2
    assert bad_setting.stderr.startswith("error: configuration_error: bad setting: BASTION_PDQ")
    assert "Traceback" not in bad_setting.stderr
    assert via_option.returncode == 0
    assert (tmp_path / "other" / "bastion.sqlite3").exists()


def test_internal_errors_exit_3_with_a_traceback_only_in_debug(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("bastion.banks.service.Banks.list", broken)
    env = {"BASTION_DATA_DIR": str(tmp_path), "BASTION_DATABASE_URL": ""}
    runner = CliRunner()

    quiet = runner.invoke(cli_main.app, ["bank", "list"], env={**env, "BASTION_LOG_LEVEL": "info"})
    debug = runner.invoke(cli_main.app, ["bank", "list"], env={**env, "BASTION_LOG_LEVEL": "debug"})

    assert quiet.exit_code == debug.exit_code == 3
    assert quiet.stderr.startswith("error: internal_error: RuntimeError: disk on fire")
    assert "Traceback" not in quiet.stderr
    assert "Traceback" in debug.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_answers_http(tmp_path: Path) -> None:
    port = _free_port()
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "bastion.cli.main"]
    env = {**os.environ, "BASTION_DATA_DIR": str(tmp_path / "data")}
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        assert response.status_code == 200
        unauthorized = httpx.get(f"http://127.0.0.1:{port}/v1/banks", timeout=5)
        assert unauthorized.status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert (tmp_path / "data" / "bastion.sqlite3").exists()  # migrations ran before serving
