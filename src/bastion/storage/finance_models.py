"""Tables of the terrorist-financing stage (``bastion.finance``): imported sanctions lists and
their entities, names and wallets; payment instruments found in content; screening hits.

A list is stored per import, versioned by the date the list itself gives: importing a newer file
of the same list supersedes the older one (kept, because hits and reports name the version that
matched), and only active versions are screened.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.storage.models import Base, utcnow


class SanctionsListRow(Base):
    """One imported file of an official list (OFAC SDN, UN, UK, EU)."""

    __tablename__ = "sanctions_list"
    __table_args__ = (Index("ix_sanctions_list_source_status", "source", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(32))
    published: Mapped[date | None] = mapped_column(Date)
    version: Mapped[str] = mapped_column(String(128), default="")
    file_name: Mapped[str] = mapped_column(String(255), default="")
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    # importing (rows being written), active (screened), superseded (kept as evidence)
    status: Mapped[str] = mapped_column(String(16), default="importing")
    entities: Mapped[int] = mapped_column(Integer, default=0)
    names: Mapped[int] = mapped_column(Integer, default=0)
    wallets: Mapped[int] = mapped_column(Integer, default=0)
    # Wallets on the list that fail their chain's checksum: kept and matched as written.
    wallets_unvalidated: Mapped[int] = mapped_column(Integer, default=0)
    imported_by: Mapped[str] = mapped_column(String(255))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column()
    notes: Mapped[list[str]] = mapped_column(default=list)


class SanctionsEntityRow(Base):
    """One designated person, organisation, vessel or aircraft of one list version."""

    __tablename__ = "sanctions_entity"
    __table_args__ = (Index("ix_sanctions_entity_list_external", "list_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("sanctions_list.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(128))
    schema: Mapped[str] = mapped_column(String(32))  # FollowTheMoney schema name
    caption: Mapped[str] = mapped_column(Text)
    programs: Mapped[list[str]] = mapped_column(default=list)
    listed_on: Mapped[date | None] = mapped_column(Date)
    # Everything else the list says: names with kinds and scripts, identifiers, birth dates,
    # nationalities, countries, remarks (see bastion.finance.lists.records.ListEntity).
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SanctionsNameRow(Base):
    """One name (primary or alias, any script) of a listed entity: what name screening indexes."""

    __tablename__ = "sanctions_name"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("sanctions_list.id", ondelete="CASCADE"), index=True
    )
    entity_id: Mapped[int] = mapped_column(
        ForeignKey("sanctions_entity.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    script: Mapped[str] = mapped_column(String(8), default="")


class SanctionsWalletRow(Base):
    """A digital currency address of a listed entity, matched exactly by ``signal_value``."""

    __tablename__ = "sanctions_wallet"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("sanctions_list.id", ondelete="CASCADE"), index=True
    )
    entity_id: Mapped[int] = mapped_column(
        ForeignKey("sanctions_entity.id", ondelete="CASCADE"), index=True
    )
    currency: Mapped[str] = mapped_column(String(32))  # the list's own code (XBT, ETH, USDT...)
    raw: Mapped[str] = mapped_column(Text)  # as written on the list
    # ``scheme:value`` as the crypto_address signal stores it; for an address that fails its
    # checksum, ``unvalidated:<as written>`` so it still matches the same text exactly.
    signal_value: Mapped[str] = mapped_column(String(255), index=True)
    valid: Mapped[bool] = mapped_column(Boolean, default=True)


class FinanceFindingRow(Base):
    """A payment instrument found in one piece of content, with where and how it was written."""

    __tablename__ = "finance_finding"
    __table_args__ = (Index("ix_finance_finding_signal", "signal_type", "signal_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[int] = mapped_column(
        ForeignKey("content.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    scheme: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    signal_type: Mapped[str] = mapped_column(String(32))
    signal_value: Mapped[str] = mapped_column(String(512))
    raw: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    folded: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    found_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FinanceHitRow(Base):
    """A screening hit: an instrument or a name in content (or typed by an analyst) that
    matched a list entity. Kept with the explanation of the match, as evidence."""

    __tablename__ = "finance_hit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_id: Mapped[int | None] = mapped_column(
        ForeignKey("content.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_case.id", ondelete="SET NULL"), index=True
    )
    finding_id: Mapped[int | None] = mapped_column(
        ForeignKey("finance_finding.id", ondelete="SET NULL")
    )
    list_id: Mapped[int] = mapped_column(
        ForeignKey("sanctions_list.id", ondelete="CASCADE"), index=True
    )
    entity_id: Mapped[int] = mapped_column(
        ForeignKey("sanctions_entity.id", ondelete="CASCADE"), index=True
    )
    match_kind: Mapped[str] = mapped_column(String(16))  # wallet | name
    matched: Mapped[str] = mapped_column(Text)  # the wallet's signal value, or the name found
    listed: Mapped[str] = mapped_column(Text)  # what the list holds that it matched
    score: Mapped[float] = mapped_column(Float, default=1.0)
    explanation: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
