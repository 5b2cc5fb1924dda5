"""Migrations and models must agree, on SQLite and PostgreSQL, and upgrades must be repeatable."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bastion.errors import DatabaseNotReady
from bastion.storage.db import Database
from bastion.storage.models import Base


def test_upgrade_creates_every_model_table_and_nothing_drifts(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        db.upgrade()
        db.upgrade()  # idempotent: a second upgrade is a no-op
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
            tables = set(inspect(connection).get_table_names())
        assert diff == [], f"models and migrations drifted: {diff}"
        assert set(Base.metadata.tables) <= tables
        assert db.current_revision() == db.head_revision()
    finally:
        db.dispose()


def test_readiness_reports_an_unmigrated_database(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        with pytest.raises(DatabaseNotReady, match="bastion db upgrade"):
            db.check_ready()
        db.upgrade()
        db.check_ready()
    finally:
        db.dispose()
