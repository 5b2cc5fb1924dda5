"""streams, incidents, cases and evidence images

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 15:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bastion.storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=True),
        sa.Column("declared_by", sa.String(length=255), nullable=False),
        sa.Column("declared_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=255), nullable=True),
        sa.Column("closed_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["bank.id"], name=op.f("fk_incident_bank_id_bank"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
        sa.UniqueConstraint("name", name=op.f("uq_incident_name")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_status"), ["status"], unique=False)

    op.create_table(
        "stream",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("desired_state", sa.String(length=16), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("stopped_by", sa.String(length=255), nullable=True),
        sa.Column("stopped_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_stream_incident_id_incident"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream")),
    )
    with op.batch_alter_table("stream", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stream_desired_state"), ["desired_state"], unique=False
        )

    op.create_table(
        "review_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("bank_name", sa.String(length=128), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
            name=op.f("fk_review_case_alert_id_alert"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_review_case_incident_id_incident"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["stream_id"],
            ["stream.id"],
            name=op.f("fk_review_case_stream_id_stream"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_case")),
    )
    with op.batch_alter_table("review_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_case_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_case_priority"), ["priority"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_case_status"), ["status"], unique=False)

    op.create_table(
        "evidence_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
            name=op.f("fk_evidence_image_alert_id_alert"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_case.id"],
            name=op.f("fk_evidence_image_case_id_review_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_image")),
    )
    with op.batch_alter_table("evidence_image", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_image_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_image_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence_image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_image_case_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_image_alert_id"))

    op.drop_table("evidence_image")
    with op.batch_alter_table("review_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_case_status"))
        batch_op.drop_index(batch_op.f("ix_review_case_priority"))
        batch_op.drop_index(batch_op.f("ix_review_case_kind"))

    op.drop_table("review_case")
    with op.batch_alter_table("stream", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stream_desired_state"))

    op.drop_table("stream")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_status"))

    op.drop_table("incident")
