"""Tables of sharing (``bastion.share``): partners, their collection grants, subscriptions to
remote feeds, TAXII status resources, feedback (sightings and opinions) and revocations.

They live on :class:`bastion.storage.models.Base` (``models`` imports this module last), so the
migrations and the schema comparison see them like every other table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bastion.storage.models import Base, utcnow


class PartnerRow(Base):
    """An organisation this instance shares with: a peer Bastion, a TAXII server, or a hash
    programme (ThreatExchange, Tech Against Terrorism, NCMEC, StopNCII, a local file)."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text, default="")
    # The API key this partner uses to reach us: its TAXII requests see its grants only.
    api_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_key.id", ondelete="SET NULL"), index=True
    )
    # A named partner: may read TLP:AMBER collections it is granted.
    amber: Mapped[bool] = mapped_column(Boolean, default=False)
    # The trust-store name of the key that signs its feeds (``bastion share trust``).
    signer: Mapped[str] = mapped_column(String(64), default="")
    # Credentials for reaching the partner, encrypted (``bastion.share.secrets``); never logged.
    credentials: Mapped[str | None] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CollectionGrantRow(Base):
    """What one partner may do with one bank's collection. TLP still applies on top: red never
    leaves, amber only to partners marked ``amber``."""

    __tablename__ = "collection_grant"
    __table_args__ = (UniqueConstraint("partner_id", "bank_id", name="uq_collection_grant_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"))
    bank_id: Mapped[int] = mapped_column(ForeignKey("bank.id", ondelete="CASCADE"), index=True)
    can_read: Mapped[bool] = mapped_column(Boolean, default=True)
    can_write: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubscriptionRow(Base):
    """A local bank fed from a partner's remote collection or hash programme, polled with a
    checkpoint so every poll asks only for what is new."""

    __tablename__ = "subscription"
    __table_args__ = (
        UniqueConstraint("partner_id", "remote_collection", "bank_id", name="uq_subscription_feed"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), index=True
    )
    bank_id: Mapped[int] = mapped_column(ForeignKey("bank.id", ondelete="CASCADE"), index=True)
    # A TAXII collection id, or the partner programme's feed (privacy group, list name).
    remote_collection: Mapped[str] = mapped_column(String(255))
    api_root: Mapped[str] = mapped_column(Text, default="")
    checkpoint: Mapped[dict[str, Any]] = mapped_column(default=dict)
    interval_seconds: Mapped[int] = mapped_column(Integer, default=300)
    require_signature: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_poll_at: Mapped[datetime | None] = mapped_column()
    last_polled_at: Mapped[datetime | None] = mapped_column()
    last_success_at: Mapped[datetime | None] = mapped_column()
    last_error_code: Mapped[str] = mapped_column(String(64), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Failed polls in a row: the next poll waits the interval doubled this many times.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    objects_received: Mapped[int] = mapped_column(Integer, default=0)
    entries_added: Mapped[int] = mapped_column(Integer, default=0)
    entries_revoked: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaxiiStatusRow(Base):
    """The status resource of one TAXII ``POST .../objects/``."""

    __tablename__ = "taxii_status"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("bank.id", ondelete="SET NULL"))
    api_key_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), default="complete")
    request_timestamp: Mapped[datetime] = mapped_column(default=utcnow)
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    success_count: Mapped[int] = mapped_column(Integer, default=0)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    successes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    failures: Mapped[list[Any]] = mapped_column(JSON, default=list)


class FeedbackRow(Base):
    """A sighting ("seen this too") or an opinion (a dispute) about a shared indicator, received
    from a partner (``in``) or queued for sending to one (``out``)."""

    __tablename__ = "share_feedback"
    __table_args__ = (
        UniqueConstraint("direction", "stix_id", name="uq_share_feedback_stix"),
        Index("ix_share_feedback_status", "direction", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))  # in, out
    kind: Mapped[str] = mapped_column(String(16))  # sighting, opinion
    stix_id: Mapped[str] = mapped_column(String(255))
    indicator_id: Mapped[str] = mapped_column(String(255), index=True)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("bank_entry.id", ondelete="SET NULL"), index=True
    )
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("bank.id", ondelete="SET NULL"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="SET NULL"))
    partner_name: Mapped[str] = mapped_column(String(255), default="")
    opinion: Mapped[str] = mapped_column(String(32), default="")
    count: Mapped[int] = mapped_column(Integer, default=1)
    body: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="received")  # pending, sent, failed
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class EntryTombstoneRow(Base):
    """A removed bank entry, kept so feeds can tell partners to revoke its indicator."""

    __tablename__ = "bank_entry_tombstone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("bank.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(Integer)
    signal_type: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)
    labels: Mapped[list[str]] = mapped_column(default=list)
    quality: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    tlp: Mapped[str | None] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column()
    removed_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_by: Mapped[str] = mapped_column(String(255))


class ShareEventRow(Base):
    """What was shared with whom: one row per page served to, or received from, a partner."""

    __tablename__ = "share_event"
    __table_args__ = (Index("ix_share_event_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))  # out (served), in (received)
    channel: Mapped[str] = mapped_column(String(32))  # taxii, threatexchange, tat, file...
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="SET NULL"))
    who: Mapped[str] = mapped_column(String(255))  # partner or key name at the time
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("bank.id", ondelete="SET NULL"))
    objects: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
