"""review workbench

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 16:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bastion.storage.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", bastion.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "password_changed_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_login_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy")),
        sa.UniqueConstraint("version", name="uq_policy_version"),
    )
    with op.batch_alter_table("policy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_active"), ["active"], unique=False)

    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_seen_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("revoked_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_user_session_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=255), nullable=False),
        sa.Column("decided_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("appeal_id", sa.Integer(), nullable=True),
        sa.Column("effects", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_case.id"],
            name=op.f("fk_decision_case_id_review_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["decision.id"],
            name=op.f("fk_decision_supersedes_id_decision"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision")),
    )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_case_id"), ["case_id"], unique=False)

    op.create_table(
        "action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "next_attempt_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_case.id"],
            name=op.f("fk_action_case_id_review_case"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decision.id"],
            name=op.f("fk_action_decision_id_decision"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_action_idempotency_key")),
    )
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_action_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "appeal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("complaint", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("excluded_reviewer", sa.String(length=255), nullable=False),
        sa.Column(
            "submitted_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("resolved_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolution_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_case.id"],
            name=op.f("fk_appeal_case_id_review_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decision.id"],
            name=op.f("fk_appeal_decision_id_decision"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal")),
    )
    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeal_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appeal_status"), ["status"], unique=False)

    with op.batch_alter_table("review_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("account_ref", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("category", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("verdict", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("reasons", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("group_key", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("assigned_to", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column(
                "assigned_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("due_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("closed_at", bastion.storage.models.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_index(
            batch_op.f("ix_review_case_account_ref"), ["account_ref"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_review_case_assigned_to"), ["assigned_to"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_review_case_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_case_content_id"), ["content_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_case_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_case_group_key"), ["group_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_case_language"), ["language"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_review_case_content_id_content"),
            "content",
            ["content_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("review_case", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_review_case_content_id_content"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_review_case_language"))
        batch_op.drop_index(batch_op.f("ix_review_case_group_key"))
        batch_op.drop_index(batch_op.f("ix_review_case_due_at"))
        batch_op.drop_index(batch_op.f("ix_review_case_content_id"))
        batch_op.drop_index(batch_op.f("ix_review_case_category"))
        batch_op.drop_index(batch_op.f("ix_review_case_assigned_to"))
        batch_op.drop_index(batch_op.f("ix_review_case_account_ref"))
        batch_op.drop_column("version")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("due_at")
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("assigned_to")
        batch_op.drop_column("group_key")
        batch_op.drop_column("reasons")
        batch_op.drop_column("verdict")
        batch_op.drop_column("language")
        batch_op.drop_column("category")
        batch_op.drop_column("account_ref")
        batch_op.drop_column("content_id")

    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeal_status"))
        batch_op.drop_index(batch_op.f("ix_appeal_case_id"))

    op.drop_table("appeal")
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index("ix_action_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_action_case_id"))

    op.drop_table("action")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_case_id"))

    op.drop_table("decision")
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))

    op.drop_table("user_session")
    with op.batch_alter_table("policy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_active"))

    op.drop_table("policy")
    op.drop_table("app_user")
