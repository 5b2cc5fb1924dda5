"""SQLAlchemy models: the core tables of DESIGN.md's data model.

The same models run on SQLite (embedded default) and PostgreSQL; column types are chosen to mean the
same on both. Alembic revisions in ``storage/migrations`` must produce exactly this schema (a test
compares them on both databases).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset, so we store UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class ContentRow(Base):
    """One item Bastion has seen. Media bytes are not kept; only signals and metadata."""

    __tablename__ = "content"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    name: Mapped[str | None] = mapped_column(String(1024))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(Integer)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)


class SignalRow(Base):
    __tablename__ = "signal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[int] = mapped_column(
        ForeignKey("content.id", ondelete="CASCADE"), index=True
    )
    signal_type: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    quality: Mapped[int | None] = mapped_column(Integer)
    frame_time: Mapped[float | None] = mapped_column(Float)


class BankRow(Base):
    __tablename__ = "bank"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default="positive")
    labels: Mapped[list[str]] = mapped_column(default=list)
    severity: Mapped[str] = mapped_column(String(16), default="high")
    source: Mapped[str] = mapped_column(String(32), default="local")
    tlp: Mapped[str] = mapped_column(String(16), default="amber")
    thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Share of content matched against this bank (gradual roll-out), chosen per content item.
    enable_ratio: Mapped[float] = mapped_column(Float, default=1.0, server_default="1.0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class BankEntryRow(Base):
    __tablename__ = "bank_entry"
    __table_args__ = (
        UniqueConstraint("bank_id", "signal_type", "value_key", name="uq_bank_entry_value"),
        Index("ix_bank_entry_type_key", "signal_type", "value_key"),
        # Feeds find held entries by the remote id within one bank: both columns, so the
        # planner never settles for scanning the whole bank through its bank_id index.
        Index("ix_bank_entry_bank_external", "bank_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("bank.id", ondelete="CASCADE"), index=True)
    signal_type: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    # The value itself when short (hashes), else its SHA-256: lets long values (vPDQ) be unique
    # and looked up by equality without indexing unbounded text.
    value_key: Mapped[str] = mapped_column(String(64))
    quality: Mapped[int | None] = mapped_column(Integer)
    labels: Mapped[list[str]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str] = mapped_column(String(255))
    added_from: Mapped[str] = mapped_column(String(1024), default="")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_seen: Mapped[datetime | None] = mapped_column()
    last_seen: Mapped[datetime | None] = mapped_column()
    disabled_until: Mapped[datetime | None] = mapped_column()
    # Entries added together from one file share a group (HMA's "bank content"); else own id.
    group_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Set by flood control: matches of a quarantined entry go to review, never to automatic action.
    quarantined_at: Mapped[datetime | None] = mapped_column()
    quarantine_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # When an analyst released the quarantine: flood counting starts afresh from here.
    flood_reset_at: Mapped[datetime | None] = mapped_column()
    # PDQ entries banked from media: hashes of crops, trimmed and drawn regions, and the check
    # regions verification compares (``bastion.signals.pdq_family.BankVariants``). Derived data,
    # never shared as the entry's value.
    variants: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Entries received from a partner feed: the id of the remote object (a STIX indicator id)
    # and its version, so revocations and newer versions find the entry and older ones are
    # ignored when pages arrive out of order.
    external_id: Mapped[str | None] = mapped_column(String(255))
    external_modified: Mapped[datetime | None] = mapped_column()
    # A marking stricter than the bank's for this entry alone (a red hash in a green crisis
    # bank); None means the bank's.
    tlp: Mapped[str | None] = mapped_column(String(16))


class BankChangeRow(Base):
    """Append-only log of index changes; its newest id is the index version every process follows.

    Matchers in every API and worker process poll the newest id and apply only the rows after the
    version they hold, so an added hash is live everywhere without reloading whole indexes.
    """

    __tablename__ = "bank_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    op: Mapped[str] = mapped_column(String(16))  # "add" or "remove"
    entry_id: Mapped[int] = mapped_column(Integer)
    signal_type: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertRow(Base):
    """Something an operator must look at, such as a bank entry quarantined by flood control."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(16), default="high")
    summary: Mapped[str] = mapped_column(Text)
    bank_name: Mapped[str | None] = mapped_column(String(128))
    entry_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledged_by: Mapped[str | None] = mapped_column(String(255))


class MatchRow(Base):
    __tablename__ = "match"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[int] = mapped_column(
        ForeignKey("content.id", ondelete="CASCADE"), index=True
    )
    # Kept (SET NULL) when an entry is deleted: the match happened and stays on record.
    bank_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("bank_entry.id", ondelete="SET NULL"), index=True
    )
    bank_name: Mapped[str] = mapped_column(String(128))
    signal_type: Mapped[str] = mapped_column(String(64))
    distance: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    review_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEventRow(Base):
    """Append-only, hash-chained: ``hash`` covers this event's fields and ``prev_hash``."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ApiKeyRow(Base):
    """An API key. Only a hash of the secret is stored; ``prefix`` identifies it in logs and UIs."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(default=list)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()


class ClassifierModelRow(Base):
    """One trained version of a text classifier: per-category heads stored as JSON numbers.

    Versions count up per ``name``; exactly one version per name is ``active`` (the service layer
    switches it inside one transaction). Scoring processes poll the active id and reload only when
    it changes, so activating a version needs no restart.
    """

    __tablename__ = "classifier_model"
    __table_args__ = (
        UniqueConstraint("name", "version", name="uq_classifier_model_name_version"),
        Index("ix_classifier_model_name_active", "name", "active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(255))
    embedder: Mapped[str] = mapped_column(String(32))
    labels: Mapped[list[str]] = mapped_column(default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Weights, biases and thresholds of every head (``bastion.classify.heads.ModelSpec``).
    heads: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=False)


class IncidentRow(Base):
    """A declared crisis (an attack being broadcast): its crisis bank receives the new footage,
    and every watcher and scanner matches it at once."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    severity: Mapped[str] = mapped_column(String(16), default="critical")
    # Kept (SET NULL) when the bank is deleted: the incident stays on record.
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("bank.id", ondelete="SET NULL"))
    declared_by: Mapped[str] = mapped_column(String(255))
    declared_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(255))
    closed_at: Mapped[datetime | None] = mapped_column()


class StreamRow(Base):
    """A stream an operator asked Bastion to watch. ``url`` may carry a stream key: it is only
    ever shown as ``label`` (credentials, query and fragment removed)."""

    __tablename__ = "stream"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text)
    live: Mapped[bool] = mapped_column(Boolean, default=True)
    rate: Mapped[float] = mapped_column(Float, default=1.0)
    # "watching" until an operator stops it; a restarted process resumes the watching ones.
    desired_state: Mapped[str] = mapped_column(String(16), default="watching", index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_by: Mapped[str | None] = mapped_column(String(255))
    stopped_at: Mapped[datetime | None] = mapped_column()


class CaseRow(Base):
    """Something people must review and decide. Stream matches open one at once, with high
    priority; the review workbench adds assignment, decisions and appeals."""

    __tablename__ = "review_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    # 0-100, higher first; see bastion.review.cases for the scale.
    priority: Mapped[int] = mapped_column(Integer, default=50, index=True)
    severity: Mapped[str] = mapped_column(String(16), default="high")
    title: Mapped[str] = mapped_column(Text)
    labels: Mapped[list[str]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(Text, default="")
    stream_id: Mapped[int | None] = mapped_column(ForeignKey("stream.id", ondelete="SET NULL"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alert.id", ondelete="SET NULL"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id", ondelete="SET NULL"))
    bank_name: Mapped[str | None] = mapped_column(String(128))
    entry_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The review workbench: what was scanned, for whom, where it queues, who holds it, by when.
    content_id: Mapped[int | None] = mapped_column(
        ForeignKey("content.id", ondelete="SET NULL"), index=True
    )
    account_ref: Mapped[str | None] = mapped_column(String(255), index=True)
    category: Mapped[str | None] = mapped_column(String(32), index=True)  # main TVEC code
    language: Mapped[str | None] = mapped_column(String(16), index=True)
    verdict: Mapped[str | None] = mapped_column(String(16))  # act, review, none (decide/)
    reasons: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    # Cases of one flood share a key (the matched entry), so they can be decided in bulk.
    group_key: Mapped[str | None] = mapped_column(String(128), index=True)
    assigned_to: Mapped[str | None] = mapped_column(String(255), index=True)
    assigned_at: Mapped[datetime | None] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column(index=True)  # the SLA
    closed_at: Mapped[datetime | None] = mapped_column()
    # Optimistic concurrency: a decision names the version it saw; a conflicting one is refused.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class EvidenceImageRow(Base):
    """A small picture of what matched, stored already blurred and greyscale: it lets a reviewer
    recognise the scene without Bastion keeping the footage itself (media is not kept)."""

    __tablename__ = "evidence_image"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_case.id", ondelete="CASCADE"), index=True
    )
    alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert.id", ondelete="CASCADE"), index=True
    )
    media_type: Mapped[str] = mapped_column(String(64), default="image/jpeg")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UserRow(Base):
    """A person who signs in to the review workbench. Only an argon2 hash of the password is
    stored; ``failed_logins`` and ``locked_until`` implement lock-out after repeated failures."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))  # admin, analyst, moderator, auditor
    # Languages the person reviews in (queues offer their cases first); empty: any.
    languages: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()


class UserSessionRow(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored, so
    a copy of the database cannot be replayed as a session."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    user_agent: Mapped[str] = mapped_column(String(255), default="")


class DecisionRow(Base):
    """A person's decision on a case. Decisions are never edited: an appeal or a correction adds
    a new one that ``supersedes`` the earlier."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("review_case.id", ondelete="CASCADE"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(32))  # confirm, false_positive, escalate, ...
    labels: Mapped[list[str]] = mapped_column(default=list)  # TVEC codes
    rationale: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(255))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("decision.id", ondelete="SET NULL")
    )
    appeal_id: Mapped[int | None] = mapped_column(Integer)
    # What the decision did besides closing the case (banked entry ids, actions, training label).
    effects: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AppealRow(Base):
    """A user's complaint against a decision: it reopens the case for a different reviewer."""

    __tablename__ = "appeal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("review_case.id", ondelete="CASCADE"), index=True
    )
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id", ondelete="CASCADE"))
    complaint: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(255))  # the platform's reference for the user
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    # The reviewer of the appealed decision may not decide the appeal.
    excluded_reviewer: Mapped[str] = mapped_column(String(255))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolution_id: Mapped[int | None] = mapped_column(Integer)  # the decision that resolved it


class ActionRow(Base):
    """An effect on the platform (a signed webhook, a counter-narrative redirect, a
    law-enforcement escalation record). ``idempotency_key`` makes every action happen once;
    failed deliveries are retried with back-off and end in the dead-letter queue (``dead``)."""

    __tablename__ = "action"
    __table_args__ = (Index("ix_action_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # webhook, redirect, escalation, reinstate
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_case.id", ondelete="SET NULL"), index=True
    )
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id", ondelete="SET NULL"))
    event: Mapped[str] = mapped_column(String(64), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # delivered, failed, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column()


class PolicyRow(Base):
    """One version of the verdict policy (rules as JSON); exactly one is active."""

    __tablename__ = "policy"
    __table_args__ = (UniqueConstraint("version", name="uq_policy_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


# The sharing and finance tables live in their own modules on the same Base; imported last, as
# they need Base.
import bastion.storage.finance_models as _finance_models  # noqa: E402, F401
import bastion.storage.share_models as _share_models  # noqa: E402, F401
