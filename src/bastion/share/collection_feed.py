"""The objects of one bank's TAXII collection, paged: what ``GET .../objects/`` serves.

A collection is three ordered streams merged by the time each object was added:

1. the objects every indicator refers to (the project and instance identities, the extension
   definition, the bank's TLP marking definition), dated when the bank was created;
2. the bank's entries as indicators, in entry-id order (ids grow with every insert);
3. the bank's removed entries as *revoked* indicators (same id, later ``modified``), in
   tombstone-id order, dated when they were removed.

A page's cursor names the last position sent in streams 2 and 3, so paging resumes exactly
after the last object of the page however the two interleave.
"""

from __future__ import annotations

import base64
import binascii
import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bastion.banks.records import BankInfo, EntryInfo, Tlp
from bastion.banks.service import entry_info
from bastion.errors import InvalidInput
from bastion.share import stix
from bastion.share.instance import Instance
from bastion.storage.models import BankEntryRow
from bastion.storage.share_models import EntryTombstoneRow

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
# Entry ids are read in chunks while a filter (match[id]) decides which ones to send.
SCAN_CHUNK: Final = 2000


@dataclass(frozen=True, slots=True)
class Cursor:
    """The last entry id and tombstone id sent (supporting objects sit at negative entry ids)."""

    entry: int | None = None
    tombstone: int = 0

    def encode(self) -> str:
        raw = f"p{self.entry if self.entry is not None else -99}t{self.tombstone}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            if not raw.startswith("p"):
                raise ValueError(raw)
            entry_text, _, tomb_text = raw[1:].partition("t")
            return cls(int(entry_text), int(tomb_text) if tomb_text else 0)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise InvalidInput(
                "next is not a cursor this server gave out", parameter="next"
            ) from None


def parse_timestamp(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} is not a timestamp: {value[:40]!r}", parameter=name) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def version_of(obj: Mapping[str, Any]) -> str:
    return str(obj.get("modified") or obj["created"])


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stamp(moment: datetime) -> str:
    """A ``date_added`` timestamp: UTC, microsecond precision (so ``added_after`` with a value
    taken from a page never repeats or skips an object), ``Z``."""
    return aware(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Filters:
    added_after: datetime | None = None
    limit: int = DEFAULT_LIMIT
    after: Cursor | None = None  # the position a ``next`` cursor names
    ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    versions: tuple[str, ...] = ("last",)
    spec_versions: frozenset[str] | None = None
    # Entry markings the caller may receive; an entry marked stricter than its bank (a red hash
    # in a green crisis bank) is left out, its revocation too.
    tlps: frozenset[Tlp] = frozenset({Tlp.CLEAR, Tlp.GREEN})

    def admits(self, obj: Mapping[str, Any]) -> bool:
        """The match[...] filters on one object (each object here has exactly one version)."""
        if self.ids is not None and obj["id"] not in self.ids:
            return False
        if self.types is not None and obj["type"] not in self.types:
            return False
        if self.spec_versions is not None and obj.get("spec_version") not in self.spec_versions:
            return False
        if any(v in ("last", "first", "all") for v in self.versions):
            return True
        when = parse_timestamp(version_of(obj), "version")
        return any(parse_timestamp(v, "match[version]") == when for v in self.versions)


@dataclass(frozen=True, slots=True)
class Item:
    stream: str  # "e" (supporting objects and entries) or "t" (tombstones)
    position: int
    date_added: datetime
    obj: dict[str, Any]


def _supporting(instance: Instance, bank: BankInfo) -> list[Item]:
    objects = [
        stix.project_identity(),
        stix.extension_definition(),
        instance.identity,
        stix.tlp_marking(bank.tlp),
    ]
    added = aware(bank.created_at)
    return [Item("e", index - len(objects), added, obj) for index, obj in enumerate(objects)]


def _wanted_ids(
    session: Session, instance: Instance, bank: BankInfo, ids: frozenset[str], column: Any
) -> dict[int, int]:
    """Indicator ids are one-way (UUIDv5 of the entry id): the rows (of entries or tombstones)
    whose entries they name, as row id -> entry id."""
    found: dict[int, int] = {}
    key_column = column.entry_id if column is EntryTombstoneRow else column.id
    cursor = -1
    while True:
        chunk = [
            (row_id, entry_id)
            for row_id, entry_id in session.execute(
                select(column.id, key_column)
                .where(column.bank_id == bank.id, column.id > cursor)
                .order_by(column.id)
                .limit(SCAN_CHUNK)
            )
        ]
        if not chunk:
            return found
        found.update(
            (row_id, entry_id)
            for row_id, entry_id in chunk
            if stix.indicator_id(instance.name, bank.name, entry_id) in ids
        )
        cursor = chunk[-1][0]


def entry_ids_for(
    session: Session, instance: Instance, bank: BankInfo, ids: frozenset[str]
) -> dict[str, int | None]:
    """Which of ``ids`` are indicators of ``bank``: the entry id, or None for a removed entry."""
    found: dict[str, int | None] = {}
    for entry_id in _wanted_ids(session, instance, bank, ids, BankEntryRow).values():
        found[stix.indicator_id(instance.name, bank.name, entry_id)] = entry_id
    for entry_id in _wanted_ids(session, instance, bank, ids, EntryTombstoneRow).values():
        found.setdefault(stix.indicator_id(instance.name, bank.name, entry_id), None)
    return found


def _rows(
    session: Session,
    bank: BankInfo,
    filters: Filters,
    column: Any,
    after: int,
    wanted: set[int] | None,
    date_column: Any,
) -> Iterator[Any]:
    cursor = after
    while True:
        query = (
            select(column)
            .where(column.bank_id == bank.id, column.id > cursor)
            .order_by(column.id)
            .limit(filters.limit + 1)
        )
        if wanted is not None:
            query = query.where(column.id.in_(sorted(wanted)))
        if filters.added_after is not None:
            query = query.where(date_column > filters.added_after)
        query = query.where(
            or_(column.tlp.is_(None), column.tlp.in_(sorted(t.value for t in filters.tlps)))
        )
        rows = list(session.scalars(query))
        if not rows:
            return
        yield from rows
        cursor = rows[-1].id


def _entry_items(
    session: Session, instance: Instance, bank: BankInfo, filters: Filters
) -> Iterator[Item]:
    after = max(filters.after.entry if filters.after and filters.after.entry else 0, 0)
    wanted = None
    if filters.ids is not None:
        wanted = set(_wanted_ids(session, instance, bank, filters.ids, BankEntryRow))
        if not wanted:
            return
    for row in _rows(session, bank, filters, BankEntryRow, after, wanted, BankEntryRow.added_at):
        obj = stix.entry_to_indicator(
            entry_info(row, bank.name), bank, producer=instance.producer, instance=instance.name
        )
        yield Item("e", row.id, aware(row.added_at), obj)


def tombstone_entry(row: EntryTombstoneRow, bank_name: str) -> EntryInfo:
    return EntryInfo(
        id=row.entry_id,
        bank=bank_name,
        signal_type=row.signal_type,
        value=row.value,
        quality=row.quality,
        labels=list(row.labels or []),
        note=row.note,
        tlp=Tlp(row.tlp) if row.tlp else None,
        added_by="",
        added_from="",
        added_at=row.added_at,
        first_seen=None,
        last_seen=None,
        disabled_until=None,
    )


def _tombstone_items(
    session: Session, instance: Instance, bank: BankInfo, filters: Filters
) -> Iterator[Item]:
    after = filters.after.tombstone if filters.after else 0
    wanted = None
    if filters.ids is not None:
        wanted = set(_wanted_ids(session, instance, bank, filters.ids, EntryTombstoneRow))
        if not wanted:
            return
    rows = _rows(
        session, bank, filters, EntryTombstoneRow, after, wanted, EntryTombstoneRow.removed_at
    )
    for row in rows:
        obj = stix.entry_to_indicator(
            tombstone_entry(row, bank.name),
            bank,
            producer=instance.producer,
            instance=instance.name,
            revoked=True,
            modified=row.removed_at,
        )
        yield Item("t", row.id, aware(row.removed_at), obj)


def page(
    session: Session, instance: Instance, bank: BankInfo, filters: Filters
) -> tuple[list[Item], bool, Cursor]:
    """Up to ``filters.limit`` objects passing the filters, whether more follow, and the cursor
    that continues after them."""
    after = filters.after
    types = filters.types
    found: list[Item] = []

    def candidates() -> Iterator[Item]:
        if after is None or after.entry is None or after.entry < 0:
            for item in _supporting(instance, bank):
                if after is not None and after.entry is not None and item.position <= after.entry:
                    continue
                if filters.added_after is not None and item.date_added <= filters.added_after:
                    continue
                yield item
        if types is not None and "indicator" not in types:
            return
        yield from heapq.merge(
            _entry_items(session, instance, bank, filters),
            _tombstone_items(session, instance, bank, filters),
            key=lambda item: item.date_added,
        )

    entry_pos = after.entry if after is not None else None
    tomb_pos = after.tombstone if after is not None else 0
    for item in candidates():
        if not filters.admits(item.obj):
            continue
        if len(found) == filters.limit:
            return found, True, Cursor(entry_pos, tomb_pos)
        found.append(item)
        if item.stream == "e":
            entry_pos = item.position
        else:
            tomb_pos = item.position
    return found, False, Cursor(entry_pos, tomb_pos)
