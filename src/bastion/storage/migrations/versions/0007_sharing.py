"""sharing: partners, grants, subscriptions, TAXII status, feedback, tombstones

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 18:11:09.451608
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bastion.storage.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_entry_tombstone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("signal_type", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=True),
        sa.Column("added_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("removed_by", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["bank.id"],
            name=op.f("fk_bank_entry_tombstone_bank_id_bank"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_entry_tombstone")),
    )
    with op.batch_alter_table("bank_entry_tombstone", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bank_entry_tombstone_bank_id"), ["bank_id"], unique=False
        )

    op.create_table(
        "partner",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("amber", sa.Boolean(), nullable=False),
        sa.Column("signer", sa.String(length=64), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_key.id"],
            name=op.f("fk_partner_api_key_id_api_key"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner")),
        sa.UniqueConstraint("name", name=op.f("uq_partner_name")),
    )
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_api_key_id"), ["api_key_id"], unique=False)

    op.create_table(
        "taxii_status",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "request_timestamp", bastion.storage.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("pending_count", sa.Integer(), nullable=False),
        sa.Column("successes", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["bank.id"], name=op.f("fk_taxii_status_bank_id_bank"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_status")),
    )
    with op.batch_alter_table("taxii_status", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_taxii_status_api_key_id"), ["api_key_id"], unique=False
        )

    op.create_table(
        "collection_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("can_read", sa.Boolean(), nullable=False),
        sa.Column("can_write", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["bank.id"],
            name=op.f("fk_collection_grant_bank_id_bank"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_collection_grant_partner_id_partner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_grant")),
        sa.UniqueConstraint("partner_id", "bank_id", name="uq_collection_grant_pair"),
    )
    with op.batch_alter_table("collection_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_collection_grant_bank_id"), ["bank_id"], unique=False)

    op.create_table(
        "share_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("who", sa.String(length=255), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=True),
        sa.Column("objects", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["bank.id"], name=op.f("fk_share_event_bank_id_bank"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_share_event_partner_id_partner"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_event")),
    )
    with op.batch_alter_table("share_event", schema=None) as batch_op:
        batch_op.create_index("ix_share_event_at", ["at"], unique=False)

    op.create_table(
        "share_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("stix_id", sa.String(length=255), nullable=False),
        sa.Column("indicator_id", sa.String(length=255), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("bank_id", sa.Integer(), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("partner_name", sa.String(length=255), nullable=False),
        sa.Column("opinion", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["bank.id"],
            name=op.f("fk_share_feedback_bank_id_bank"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["bank_entry.id"],
            name=op.f("fk_share_feedback_entry_id_bank_entry"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_share_feedback_partner_id_partner"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_feedback")),
        sa.UniqueConstraint("direction", "stix_id", name="uq_share_feedback_stix"),
    )
    with op.batch_alter_table("share_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_feedback_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_share_feedback_indicator_id"), ["indicator_id"], unique=False
        )
        batch_op.create_index("ix_share_feedback_status", ["direction", "status"], unique=False)

    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("remote_collection", sa.String(length=255), nullable=False),
        sa.Column("api_root", sa.Text(), nullable=False),
        sa.Column("checkpoint", sa.JSON(), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("require_signature", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_poll_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_polled_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_success_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error_code", sa.String(length=64), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("objects_received", sa.Integer(), nullable=False),
        sa.Column("entries_added", sa.Integer(), nullable=False),
        sa.Column("entries_revoked", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"], ["bank.id"], name=op.f("fk_subscription_bank_id_bank"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner.id"],
            name=op.f("fk_subscription_partner_id_partner"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
        sa.UniqueConstraint(
            "partner_id", "remote_collection", "bank_id", name="uq_subscription_feed"
        ),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscription_bank_id"), ["bank_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subscription_partner_id"), ["partner_id"], unique=False
        )

    with op.batch_alter_table("bank_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("tlp", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column(
                "external_modified",
                bastion.storage.models.UtcDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_index(
            "ix_bank_entry_bank_external", ["bank_id", "external_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bank_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_entry_bank_external")
        batch_op.drop_column("tlp")
        batch_op.drop_column("external_modified")
        batch_op.drop_column("external_id")

    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_partner_id"))
        batch_op.drop_index(batch_op.f("ix_subscription_bank_id"))

    op.drop_table("subscription")
    with op.batch_alter_table("share_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_share_feedback_status")
        batch_op.drop_index(batch_op.f("ix_share_feedback_indicator_id"))
        batch_op.drop_index(batch_op.f("ix_share_feedback_entry_id"))

    op.drop_table("share_feedback")
    with op.batch_alter_table("share_event", schema=None) as batch_op:
        batch_op.drop_index("ix_share_event_at")

    op.drop_table("share_event")
    with op.batch_alter_table("collection_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_grant_bank_id"))

    op.drop_table("collection_grant")
    with op.batch_alter_table("taxii_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxii_status_api_key_id"))

    op.drop_table("taxii_status")
    with op.batch_alter_table("partner", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_api_key_id"))

    op.drop_table("partner")
    with op.batch_alter_table("bank_entry_tombstone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_entry_tombstone_bank_id"))

    op.drop_table("bank_entry_tombstone")
