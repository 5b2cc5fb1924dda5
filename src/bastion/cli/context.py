"""What every command shares: settings, the wired-up :class:`Bastion`, and who is acting."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from bastion.errors import ConfigurationError
from bastion.runtime import Bastion
from bastion.settings import Settings, get_settings


def apply_overrides(data_dir: Path | None, database_url: str | None) -> None:
    """Global options become environment variables, so every part of the process (including
    ``get_settings()`` callers and the API app under ``serve``) sees the same settings."""
    if data_dir is not None:
        os.environ["BASTION_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        os.environ["BASTION_DATABASE_URL"] = database_url
    get_settings.cache_clear()


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"BASTION_{'_'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"bad setting: {problems}") from None


def cli_actor() -> str:
    """``cli:<os user>``: how changes made from the command line appear in the audit log."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # containers often run as a uid with no passwd entry
        user = f"uid{os.getuid()}"
    return f"cli:{user}"


@contextmanager
def open_bastion(*, upgrade: bool = True) -> Iterator[Bastion]:
    """The services for one command, on a database brought up to date unless told not to."""
    bastion = Bastion.from_settings(load_settings(), upgrade=upgrade)
    try:
        yield bastion
    finally:
        bastion.close()
