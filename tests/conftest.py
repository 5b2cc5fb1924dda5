"""Shared fixtures: one database per test, on SQLite and (when available) PostgreSQL.

PostgreSQL tests use ``BASTION_TEST_POSTGRES_URL`` (the test script sets it after checking the
server answers). Outside CI they skip with the reason when it is unset; in CI they must run, so a
missing server fails the run instead of silently skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bastion.settings import Settings
from bastion.signals.chromaprint_lib import chromaprint_available

if TYPE_CHECKING:
    from bastion.runtime import Bastion

POSTGRES_URL = os.environ.get("BASTION_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# Audio fingerprinting needs Debian's libchromaprint1 (scripts/install.sh installs it): outside
# CI its tests skip without it, in CI they must run.
needs_chromaprint = pytest.mark.skipif(
    not IN_CI and not chromaprint_available(),
    reason="libchromaprint1 is not installed (scripts/install.sh installs it)",
)


def require_postgres() -> str:
    """The server URL, or skip (fail in CI) with the reason."""
    if POSTGRES_URL:
        return POSTGRES_URL
    if IN_CI:
        pytest.fail("CI must run the PostgreSQL tests: BASTION_TEST_POSTGRES_URL is not set")
    pytest.skip("PostgreSQL not available: set BASTION_TEST_POSTGRES_URL (scripts/test.sh does)")


@contextmanager
def new_postgres_database(prefix: str, *, migrated: bool = False) -> Iterator[str]:
    """A PostgreSQL database of the caller's own, dropped (connections and all) afterwards."""
    base = make_url(require_postgres())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        if migrated:
            from bastion.storage.db import Database

            db = Database(url)
            db.upgrade()
            db.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped after the test."""
    with new_postgres_database("bastion_test") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_postgres_url() -> Iterator[str]:
    """One migrated PostgreSQL database per test process, emptied by ``clean_postgres_url``."""
    with new_postgres_database("bastion_test", migrated=True) as url:
        yield url


@pytest.fixture
def clean_postgres_url(migrated_postgres_url: str) -> str:
    """The migrated database with every table emptied: far faster than a new database per test."""
    from bastion.storage.models import Base

    engine = create_engine(migrated_postgres_url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return migrated_postgres_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A ready database on each backend (SQLite file per test, emptied PostgreSQL database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bastion.sqlite3'}"
    url: str = request.getfixturevalue("clean_postgres_url")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no schema at all, for migration tests."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bastion.sqlite3'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url)


@pytest.fixture
def bastion(settings: Settings) -> Iterator[Bastion]:
    from bastion.runtime import Bastion

    app = Bastion.from_settings(settings)
    try:
        yield app
    finally:
        app.close()
