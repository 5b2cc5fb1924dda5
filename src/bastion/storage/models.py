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
