"""Plain records the bank stage hands to callers (no ORM objects leave the stage)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class BankKind(StrEnum):
    POSITIVE = "positive"  # known terrorist or violent extremist content
    NEGATIVE = "negative"  # known false positives: their matches suppress positive matches


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 markings: how far a bank's contents may be shared."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"

    def strictest(self, other: Tlp | None) -> Tlp:
        """The stricter of two markings (an entry's own marking never loosens its bank's)."""
        if other is None:
            return self
        order = list(Tlp)
        return self if order.index(self) >= order.index(other) else other


class BankSource(StrEnum):
    LOCAL = "local"
    PARTNER = "partner"
    EXCHANGE = "exchange"


@dataclass(frozen=True, slots=True)
class BankInfo:
    id: int
    name: str
    description: str
    kind: BankKind
    labels: list[str]
    severity: Severity
    source: BankSource
    tlp: Tlp
    thresholds: dict[str, float]
    enabled: bool
    created_at: datetime
    updated_at: datetime
    entry_count: int = 0
    enable_ratio: float = 1.0


@dataclass(frozen=True, slots=True)
class EntryInfo:
    id: int
    bank: str
    signal_type: str
    value: str
    quality: int | None
    labels: list[str]
    note: str
    added_by: str
    added_from: str
    added_at: datetime
    first_seen: datetime | None
    last_seen: datetime | None
    disabled_until: datetime | None
    group_id: int | None = None
    quarantined_at: datetime | None = None
    quarantine_reason: str = ""
    variants: dict[str, Any] | None = None  # see bastion.signals.pdq_family.BankVariants
    tlp: Tlp | None = None  # the entry's own marking, when stricter than its bank's

    def provenance(self) -> dict[str, Any]:
        return {
            "added_by": self.added_by,
            "added_from": self.added_from,
            "added_at": self.added_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class NewEntry:
    signal_type: str
    value: str
    labels: list[str] = field(default_factory=list)
    note: str = ""
    quality: int | None = None
    added_from: str = ""
    variants: dict[str, Any] | None = None  # PDQ entries from media: their robust variants
    # From a partner feed: the remote object's id and version (revocations find the entry).
    external_id: str | None = None
    external_modified: datetime | None = None
    tlp: str | None = None  # stricter than the bank's for this entry alone


@dataclass(slots=True)
class AddReport:
    """What adding or importing entries did.

    ``errors`` hold ``{"line"|"item": n, "code": ..., "detail": ...}``.
    """

    added: list[EntryInfo] = field(default_factory=list)
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # notes such as "pdq quality 12 < 50"
