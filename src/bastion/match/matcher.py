"""Matcher: looks a content item's signals up in every enabled bank and explains each match.

Rules applied here, in order:
1. PDQ signals below the quality floor are not matched (noted, not an error).
2. Each bank's threshold for the signal type applies (bank override, else the setting's default).
3. Entries disabled until a future time are skipped.
4. A match against a negative bank (known false positive) suppresses every positive match of the
   item; suppressed matches are kept and shown, so a reviewer sees what was overridden and why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.index.base import Hit, SignalIndex
from bastion.index.exact import ExactIndex
from bastion.index.pdq import PdqIndex
from bastion.index.vpdq import VpdqIndex, VpdqMatchRule
from bastion.settings import Settings
from bastion.signals.base import DistanceSignal, Signal
from bastion.signals.registry import get_signal_type
from bastion.storage.models import BankEntryRow, BankRow, utcnow


@dataclass(frozen=True, slots=True)
class IndexedEntry:
    entry_id: int
    bank: str
    bank_kind: str
    signal_type: str
    value: str
    threshold: float
    labels: list[str]
    severity: str
    tlp: str
    note: str
    provenance: dict[str, str]
    disabled_until: datetime | None


@dataclass(slots=True)
class Match:
    """One signal of the item matched one bank entry: everything a reviewer needs to see why."""

    bank: str
    bank_kind: str
    entry_id: int
    signal_type: str
    distance: float
    threshold: float
    labels: list[str]
    severity: str
    tlp: str
    provenance: dict[str, str]
    note: str
    frame_time: float | None = None
    detail: dict[str, Any] | None = None
    suppressed: bool = False
    suppressed_by: dict[str, Any] | None = None

    @property
    def reason(self) -> str:
        measure = (
            f"{self.signal_type} distance {self.distance:g} <= threshold {self.threshold:g}"
            if self.threshold
            else f"{self.signal_type} identical"
        )
        text = f"{measure} to entry {self.entry_id} in {self.bank_kind} bank {self.bank!r}"
        if self.detail and "query_match_percent" in self.detail:
            text += (
                f" ({self.detail['query_match_percent']}% of frames matched, "
                f"{self.detail['bank_match_percent']}% of the bank video found)"
            )
        if self.suppressed and self.suppressed_by:
            text += (
                f"; suppressed: known false positive (bank {self.suppressed_by['bank']!r}, "
                f"entry {self.suppressed_by['entry_id']})"
            )
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "bank_kind": self.bank_kind,
            "entry_id": self.entry_id,
            "signal_type": self.signal_type,
            "distance": self.distance,
            "threshold": self.threshold,
            "labels": self.labels,
            "severity": self.severity,
            "tlp": self.tlp,
            "provenance": self.provenance,
            "note": self.note,
            "frame_time": self.frame_time,
            "detail": self.detail,
            "suppressed": self.suppressed,
            "suppressed_by": self.suppressed_by,
            "reason": self.reason,
        }


@dataclass(slots=True)
class MatchOutcome:
    matches: list[Match] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def active(self) -> list[Match]:
        """Positive matches that count: not suppressed."""
        return [m for m in self.matches if m.bank_kind == "positive" and not m.suppressed]


def default_threshold(settings: Settings, signal_type: str) -> float:
    if signal_type == "pdq":
        return float(settings.pdq_threshold)
    if signal_type == "vpdq":
        return float(settings.vpdq_frame_threshold)
    kind = get_signal_type(signal_type)
    return float(kind.default_threshold) if issubclass(kind, DistanceSignal) else 0.0


class MatchIndexes:
    """A snapshot of every enabled bank's entries, indexed per signal type and threshold."""

    def __init__(self, entries: list[IndexedEntry], settings: Settings) -> None:
        self._settings = settings
        self._entries = {entry.entry_id: entry for entry in entries}
        rule = VpdqMatchRule(
            min_quality=settings.pdq_min_quality,
            query_match_percent=settings.vpdq_query_match_percent,
            bank_match_percent=settings.vpdq_bank_match_percent,
        )
        # One index per (signal type, threshold): vPDQ's percentages depend on the frame threshold,
        # so banks with different thresholds cannot share one search.
        grouped: defaultdict[tuple[str, float], list[IndexedEntry]] = defaultdict(list)
        for entry in entries:
            grouped[(entry.signal_type, entry.threshold)].append(entry)
        self._indexes: dict[tuple[str, float], SignalIndex] = {}
        for (signal_type, threshold), members in grouped.items():
            index: SignalIndex
            if signal_type == "pdq":
                index = PdqIndex()
            elif signal_type == "vpdq":
                index = VpdqIndex(rule)
            else:
                index = ExactIndex(signal_type)
            index.add((member.entry_id, member.value) for member in members)
            self._indexes[(signal_type, threshold)] = index

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def load(cls, session: Session, settings: Settings) -> MatchIndexes:
        rows = session.execute(
            select(BankEntryRow, BankRow).join(BankRow).where(BankRow.enabled.is_(True))
        )
        entries = [
            IndexedEntry(
                entry_id=entry.id,
                bank=bank.name,
                bank_kind=bank.kind,
                signal_type=entry.signal_type,
                value=entry.value,
                threshold=float(
                    bank.thresholds[entry.signal_type]
                    if entry.signal_type in bank.thresholds
                    else default_threshold(settings, entry.signal_type)
                ),
                labels=sorted(set(bank.labels) | set(entry.labels)),
                severity=bank.severity,
                tlp=bank.tlp,
                note=entry.note,
                provenance={
                    "added_by": entry.added_by,
                    "added_from": entry.added_from,
                    "added_at": entry.added_at.isoformat(),
                },
                disabled_until=entry.disabled_until,
            )
            for entry, bank in rows
        ]
        return cls(entries, settings)

    def _hits(self, signal: Signal) -> list[tuple[Hit, IndexedEntry]]:
        found: list[tuple[Hit, IndexedEntry]] = []
        for (signal_type, threshold), index in self._indexes.items():
            if signal_type != signal.type:
                continue
            found.extend(
                (hit, self._entries[hit.entry_id]) for hit in index.search(signal.value, threshold)
            )
        return found

    def match(self, signals: list[Signal], now: datetime | None = None) -> MatchOutcome:
        now = now or utcnow()
        outcome = MatchOutcome()
        for signal in signals:
            if (
                signal.type == "pdq"
                and signal.quality is not None
                and signal.quality < self._settings.pdq_min_quality
            ):
                outcome.notes.append(
                    f"pdq quality {signal.quality} is below {self._settings.pdq_min_quality}: "
                    "too low to match (flat or tiny image)"
                )
                continue
            for hit, entry in self._hits(signal):
                if entry.disabled_until is not None and entry.disabled_until > now:
                    continue
                outcome.matches.append(
                    Match(
                        bank=entry.bank,
                        bank_kind=entry.bank_kind,
                        entry_id=entry.entry_id,
                        signal_type=entry.signal_type,
                        distance=hit.distance,
                        threshold=entry.threshold,
                        labels=entry.labels,
                        severity=entry.severity,
                        tlp=entry.tlp,
                        provenance=entry.provenance,
                        note=entry.note,
                        frame_time=signal.frame_time,
                        detail=hit.detail,
                    )
                )
        negatives = [m for m in outcome.matches if m.bank_kind == "negative"]
        if negatives:
            by = {"bank": negatives[0].bank, "entry_id": negatives[0].entry_id}
            for positive in outcome.matches:
                if positive.bank_kind == "positive":
                    positive.suppressed = True
                    positive.suppressed_by = by
        outcome.matches.sort(key=lambda m: (m.suppressed, m.bank_kind != "positive", m.distance))
        return outcome
