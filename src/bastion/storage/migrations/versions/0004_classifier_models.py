"""classifier model versions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bastion.storage.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classifier_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("embedder", sa.String(length=32), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classifier_model")),
        sa.UniqueConstraint("name", "version", name="uq_classifier_model_name_version"),
    )
    with op.batch_alter_table("classifier_model", schema=None) as batch_op:
        batch_op.create_index("ix_classifier_model_name_active", ["name", "active"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("classifier_model", schema=None) as batch_op:
        batch_op.drop_index("ix_classifier_model_name_active")
    op.drop_table("classifier_model")
