"""Fixtures for account tests: a clock tests move by hand, and services that read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.accounts.sessions import Sessions
from bastion.accounts.users import Users
from bastion.cli.main import app
from bastion.runtime import Bastion

PASSWORD = "correct horse battery"
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
LIFETIME = timedelta(hours=8)
IDLE = timedelta(minutes=30)


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def users(bastion: Bastion, clock: FakeClock) -> Users:
    return Users(bastion.audit, max_failures=MAX_FAILURES, lockout=LOCKOUT, clock=clock)


@pytest.fixture
def sessions(bastion: Bastion, clock: FakeClock) -> Sessions:
    return Sessions(bastion.audit, lifetime=LIFETIME, idle=IDLE, clock=clock)


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str


Invoke = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path) -> Invoke:
    runner = CliRunner()
    env = {
        "BASTION_DATA_DIR": str(tmp_path / "data"),
        "BASTION_DATABASE_URL": "",
        "BASTION_LOG_LEVEL": "info",
        "COLUMNS": "250",
    }

    def invoke(*args: str, input: str | None = None) -> Result:
        result = runner.invoke(app, list(args), env=env, input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke
