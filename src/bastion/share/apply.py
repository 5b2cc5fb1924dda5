"""Applying one page of a partner feed to a subscribed bank, in the caller's transaction.

New items are added; an item already held (same external id in that bank) replaces the held
entry only when its version (``modified``) is newer, so pages that arrive out of order never
roll an entry back; revocations remove the held entry (a tombstone is written, so our own
partners learn of it in turn) and are counted and ignored when nothing is held. The page's
checkpoint and the subscription's counters change in the same transaction as the entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.banks.records import NewEntry
from bastion.banks.service import Banks
from bastion.errors import SubscriptionNotFound
from bastion.share.feeds import FeedItem, FeedPage
from bastion.share.partners import PartnerInfo
from bastion.storage.models import BankEntryRow, BankRow
from bastion.storage.share_models import ShareEventRow, SubscriptionRow
from bastion.taxonomy import normalize_labels

# Rejected items kept in a report (all are counted).
MAX_REJECTIONS_KEPT: Final = 50
_LOOKUP_CHUNK: Final = 500


@dataclass(slots=True)
class PollReport:
    """What one poll did."""

    subscription_id: int
    partner: str = ""
    bank: str = ""
    pages: int = 0
    objects: int = 0
    added: int = 0
    updated: int = 0
    revoked: int = 0
    unchanged: int = 0  # versions not newer than the one held, duplicates of held values
    unknown_revocations: int = 0
    ignored: int = 0
    rejected: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)
    error_code: str = ""
    error: str = ""

    def summary(self) -> dict[str, Any]:
        """The counts (for the audit log): no rejections' details."""
        return {k: v for k, v in self.to_dict().items() if k != "rejections"}

    def to_dict(self) -> dict[str, Any]:
        return {
            "subscription_id": self.subscription_id,
            "partner": self.partner,
            "bank": self.bank,
            "pages": self.pages,
            "objects": self.objects,
            "added": self.added,
            "updated": self.updated,
            "revoked": self.revoked,
            "unchanged": self.unchanged,
            "unknown_revocations": self.unknown_revocations,
            "ignored": self.ignored,
            "rejected": self.rejected,
            "rejections": list(self.rejections),
            "error_code": self.error_code or None,
            "error": self.error or None,
        }


def partner_actor(name: str) -> str:
    """Who changes a bank when a partner's feed does: ``partner:<name>``."""
    return f"partner:{name}"


def _latest(items: list[FeedItem]) -> list[FeedItem]:
    """One item per external id: the newest version (the later one in the page on a tie)."""
    chosen: dict[str, FeedItem] = {}
    for item in items:
        held = chosen.get(item.external_id)
        if held is None or _newer_or_same(item.modified, held.modified):
            chosen[item.external_id] = item
    return list(chosen.values())


def _newer_or_same(candidate: datetime | None, held: datetime | None) -> bool:
    if candidate is None or held is None:
        return True
    return candidate >= held


def _held(session: Session, bank_id: int, ids: list[str]) -> dict[str, BankEntryRow]:
    found: dict[str, BankEntryRow] = {}
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        rows = session.scalars(
            select(BankEntryRow).where(
                BankEntryRow.bank_id == bank_id,
                BankEntryRow.external_id.in_(ids[start : start + _LOOKUP_CHUNK]),
            )
        )
        for row in rows:
            found[str(row.external_id)] = row
    return found


def _replace(
    session: Session, banks: Banks, bank: str, row: BankEntryRow, entry: NewEntry, actor: str
) -> list[NewEntry]:
    """Bring a held entry to a newer version; returns the entries to add instead, if any."""
    if row.signal_type == entry.signal_type and row.value == entry.value:
        banks.update_entry(session, bank, row.id, actor=actor, note=entry.note, labels=entry.labels)
        row.labels = normalize_labels(entry.labels)
        row.quality = entry.quality
        row.external_modified = entry.external_modified
        return []
    # A new value under the same indicator: the old signal must stop matching.
    banks.delete_entry(session, bank, row.id, actor=actor)
    return [entry]


@dataclass(slots=True)
class ItemCounts:
    added: int = 0
    updated: int = 0
    revoked: int = 0
    unchanged: int = 0
    unknown_revocations: int = 0


def apply_items(
    session: Session, banks: Banks, bank: BankRow, items: list[FeedItem], *, actor: str
) -> ItemCounts:
    """Apply feed items to ``bank`` in the caller's transaction (a poll's page, an imported
    bundle): new ones added, newer versions replacing held ones, revocations removing them."""
    latest = _latest(items)
    held = _held(session, bank.id, sorted({item.external_id for item in latest}))
    to_add: list[NewEntry] = []
    renewed: list[NewEntry] = []
    counts = ItemCounts()
    for item in latest:
        row = held.get(item.external_id)
        if item.revoked:
            if row is None:
                counts.unknown_revocations += 1
            elif item.modified and row.external_modified and item.modified < row.external_modified:
                counts.unchanged += 1  # a revocation of an older version than the one held
            else:
                banks.delete_entry(session, bank.name, row.id, actor=actor)
                counts.revoked += 1
        elif item.entry is None:
            counts.unknown_revocations += 1
        elif row is None:
            to_add.append(item.entry)
        elif (
            item.modified is not None
            and row.external_modified is not None
            and item.modified <= row.external_modified
        ):
            counts.unchanged += 1
        else:
            renewed.extend(_replace(session, banks, bank.name, row, item.entry, actor))
            counts.updated += 1
    if to_add:
        result = banks.add_entries(session, bank.name, to_add, actor=actor)
        counts.added += len(result.added)
        counts.unchanged += result.duplicates
    if renewed:  # new values of held indicators: counted as updates above
        banks.add_entries(session, bank.name, renewed, actor=actor)
    return counts


def apply_page(
    session: Session,
    banks: Banks,
    subscription_id: int,
    page: FeedPage,
    report: PollReport,
    *,
    partner: PartnerInfo,
    now: datetime,
) -> None:
    """Apply ``page`` to the subscription's bank and move its checkpoint; all or nothing."""
    subscription = session.scalar(
        select(SubscriptionRow).where(SubscriptionRow.id == subscription_id).with_for_update()
    )
    bank = session.get(BankRow, subscription.bank_id) if subscription else None
    if subscription is None or bank is None:
        raise SubscriptionNotFound(f"subscription {subscription_id} was deleted during the poll")
    counts = apply_items(session, banks, bank, page.items, actor=partner_actor(partner.name))
    added, updated, revoked = counts.added, counts.updated, counts.revoked
    unchanged, unknown = counts.unchanged, counts.unknown_revocations
    objects = len(page.items) + page.ignored + len(page.rejected)
    subscription.checkpoint = dict(page.checkpoint)
    subscription.objects_received += objects
    subscription.entries_added += added
    subscription.entries_revoked += revoked
    session.add(
        ShareEventRow(
            direction="in",
            channel=partner.kind.value,
            partner_id=partner.id,
            who=partner.name,
            bank_id=bank.id,
            objects=objects,
            detail=f"subscription {subscription_id}",
            at=now,
        )
    )
    session.flush()
    report.pages += 1
    report.objects += objects
    report.added += added
    report.updated += updated
    report.revoked += revoked
    report.unchanged += unchanged
    report.unknown_revocations += unknown
    report.ignored += page.ignored
    report.rejected += len(page.rejected)
    room = MAX_REJECTIONS_KEPT - len(report.rejections)
    if room > 0:
        report.rejections.extend(page.rejected[:room])
