"""Alembic environment: runs against the engine Bastion hands over (see storage/db.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from bastion.storage.models import Base

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through bastion.storage.db.Database.upgrade()")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=engine.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
