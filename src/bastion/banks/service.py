"""Bank domain logic: create, change and delete banks and their entries, with provenance and audit.

Every method works inside the caller's session (one unit of work), so a change and its audit event
are committed together or not at all.
"""

from __future__ import annotations

import builtins
import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.banks.records import (
    AddReport,
    BankInfo,
    BankKind,
    BankSource,
    EntryInfo,
    NewEntry,
    Severity,
    Tlp,
)
from bastion.errors import BankExists, BankNotFound, BastionError, EntryNotFound, InvalidInput
from bastion.signals.base import DistanceSignal
from bastion.signals.registry import get_signal_type
from bastion.storage.locks import serialize_ordered_writes
from bastion.storage.models import BankChangeRow, BankEntryRow, BankRow, utcnow
from bastion.storage.share_models import EntryTombstoneRow
from bastion.taxonomy import normalize_labels

BANK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def value_key(value: str) -> str:
    """Short values are their own key; long ones (a whole video's vPDQ) are keyed by SHA-256."""
    return value if len(value) <= 64 else hashlib.sha256(value.encode()).hexdigest()


def _check_name(name: str) -> str:
    if not BANK_NAME.match(name):
        raise InvalidInput(
            f"bad bank name {name!r}: 1-128 letters, digits, '_', '.', '-', starting alnum"
        )
    return name


def _enum(kind: type[Any], value: str, what: str) -> Any:
    try:
        return kind(value.lower())
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InvalidInput(f"bad {what} {value!r}; use one of: {allowed}") from None


def normalize_thresholds(thresholds: dict[str, Any]) -> dict[str, float]:
    result: dict[str, float] = {}
    for name, raw in thresholds.items():
        signal_type = get_signal_type(name)
        if not issubclass(signal_type, DistanceSignal):
            raise InvalidInput(f"signal type {name!r} matches exactly; it takes no threshold")
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise InvalidInput(f"threshold for {name!r} must be a number, not {raw!r}") from None
        if not 0 <= number <= signal_type.max_distance:
            raise InvalidInput(
                f"threshold for {name!r} must be between 0 and {signal_type.max_distance}"
            )
        result[name] = number
    return result


def check_ratio(ratio: float) -> float:
    if not 0.0 <= ratio <= 1.0:
        raise InvalidInput(f"enable ratio must be between 0 and 1, got {ratio}")
    return float(ratio)


def record_changes(session: Session, op: str, rows: Iterable[BankEntryRow]) -> None:
    """Append index changes for ``rows`` to the change log every matcher process follows."""
    serialize_ordered_writes(session)  # change ids must follow commit order
    session.add_all(
        BankChangeRow(op=op, entry_id=row.id, signal_type=row.signal_type) for row in rows
    )


def entry_tlp(bank: BankRow, tlp: str | None) -> str | None:
    """An entry's own marking: None when it adds nothing to the bank's; never looser."""
    if tlp is None:
        return None
    wanted = _enum(Tlp, tlp, "TLP marking")
    effective = Tlp(bank.tlp).strictest(wanted)
    return None if effective == Tlp(bank.tlp) else effective.value


def bank_info(row: BankRow, entry_count: int = 0) -> BankInfo:
    return BankInfo(
        id=row.id,
        name=row.name,
        description=row.description,
        kind=BankKind(row.kind),
        labels=list(row.labels),
        severity=Severity(row.severity),
        source=BankSource(row.source),
        tlp=Tlp(row.tlp),
        thresholds={k: float(v) for k, v in row.thresholds.items()},
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
        entry_count=entry_count,
        enable_ratio=row.enable_ratio,
    )


def entry_info(row: BankEntryRow, bank_name: str) -> EntryInfo:
    return EntryInfo(
        id=row.id,
        bank=bank_name,
        signal_type=row.signal_type,
        value=row.value,
        quality=row.quality,
        labels=list(row.labels),
        note=row.note,
        added_by=row.added_by,
        added_from=row.added_from,
        added_at=row.added_at,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        disabled_until=row.disabled_until,
        group_id=row.group_id if row.group_id is not None else row.id,
        quarantined_at=row.quarantined_at,
        quarantine_reason=row.quarantine_reason,
        variants=row.variants,
        tlp=Tlp(row.tlp) if row.tlp else None,
    )


class Banks:
    """Bank and entry operations. ``actor`` names who acts (``key:ab12cd34``, ``cli:alice``)."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    # --- banks ----------------------------------------------------------------------------------

    def _row(self, session: Session, name: str) -> BankRow:
        row = session.scalars(select(BankRow).where(BankRow.name == name)).first()
        if row is None:
            raise BankNotFound(f"no bank named {name!r}")
        return row

    def _count(self, session: Session, bank_id: int) -> int:
        query = select(func.count()).where(BankEntryRow.bank_id == bank_id)
        return int(session.scalar(query) or 0)

    def create(
        self,
        session: Session,
        *,
        name: str,
        actor: str,
        description: str = "",
        kind: str = "positive",
        labels: Iterable[str] = (),
        severity: str = "high",
        source: str = "local",
        tlp: str = "amber",
        thresholds: dict[str, Any] | None = None,
        enabled: bool = True,
        enable_ratio: float = 1.0,
    ) -> BankInfo:
        _check_name(name)
        if session.scalars(select(BankRow.id).where(BankRow.name == name)).first() is not None:
            raise BankExists(f"a bank named {name!r} already exists")
        row = BankRow(
            name=name,
            description=description,
            kind=_enum(BankKind, kind, "bank kind").value,
            labels=normalize_labels(labels),
            severity=_enum(Severity, severity, "severity").value,
            source=_enum(BankSource, source, "source").value,
            tlp=_enum(Tlp, tlp, "TLP marking").value,
            thresholds=normalize_thresholds(thresholds or {}),
            enabled=enabled,
            enable_ratio=check_ratio(enable_ratio),
        )
        session.add(row)
        session.flush()
        info = bank_info(row)
        self._audit.record(
            session,
            actor=actor,
            action="bank.create",
            target_type="bank",
            target_id=name,
            details={
                "kind": info.kind,
                "labels": info.labels,
                "tlp": info.tlp,
                "thresholds": info.thresholds,
                "enable_ratio": info.enable_ratio,
            },
        )
        return info

    def get(self, session: Session, name: str) -> BankInfo:
        row = self._row(session, name)
        return bank_info(row, self._count(session, row.id))

    def list(self, session: Session) -> list[BankInfo]:
        counts = dict(
            session.execute(
                select(BankEntryRow.bank_id, func.count()).group_by(BankEntryRow.bank_id)
            ).all()
        )
        rows = session.scalars(select(BankRow).order_by(BankRow.name))
        return [bank_info(row, int(counts.get(row.id, 0))) for row in rows]

    def update(
        self,
        session: Session,
        name: str,
        *,
        actor: str,
        new_name: str | None = None,
        description: str | None = None,
        labels: Iterable[str] | None = None,
        severity: str | None = None,
        tlp: str | None = None,
        thresholds: dict[str, Any] | None = None,
        enabled: bool | None = None,
        enable_ratio: float | None = None,
    ) -> BankInfo:
        row = self._row(session, name)
        changes: dict[str, Any] = {}
        if new_name is not None and new_name != row.name:
            _check_name(new_name)
            taken = session.scalars(select(BankRow.id).where(BankRow.name == new_name)).first()
            if taken is not None:
                raise BankExists(f"a bank named {new_name!r} already exists")
            changes["name"] = [row.name, new_name]
            row.name = new_name
        if description is not None and description != row.description:
            changes["description"] = [row.description, description]
            row.description = description
        if labels is not None:
            clean = normalize_labels(labels)
            if clean != row.labels:
                changes["labels"] = [row.labels, clean]
                row.labels = clean
        if severity is not None:
            value = _enum(Severity, severity, "severity").value
            if value != row.severity:
                changes["severity"] = [row.severity, value]
                row.severity = value
        if tlp is not None:
            value = _enum(Tlp, tlp, "TLP marking").value
            if value != row.tlp:
                changes["tlp"] = [row.tlp, value]
                row.tlp = value
        if thresholds is not None:
            # Merge: a null threshold removes the override for that signal type.
            merged = {k: v for k, v in row.thresholds.items() if thresholds.get(k, 0) is not None}
            merged.update({k: v for k, v in thresholds.items() if v is not None})
            clean_thresholds = normalize_thresholds(merged)
            if clean_thresholds != row.thresholds:
                changes["thresholds"] = [row.thresholds, clean_thresholds]
                row.thresholds = clean_thresholds
        if enabled is not None and enabled != row.enabled:
            changes["enabled"] = [row.enabled, enabled]
            row.enabled = enabled
        if enable_ratio is not None and check_ratio(enable_ratio) != row.enable_ratio:
            changes["enable_ratio"] = [row.enable_ratio, float(enable_ratio)]
            row.enable_ratio = float(enable_ratio)
        if changes:
            row.updated_at = utcnow()
            session.flush()
            self._audit.record(
                session,
                actor=actor,
                action="bank.update",
                target_type="bank",
                target_id=row.name,
                details=changes,
            )
        return bank_info(row, self._count(session, row.id))

    def delete(self, session: Session, name: str, *, actor: str) -> None:
        row = self._row(session, name)
        count = self._count(session, row.id)
        entries = session.scalars(select(BankEntryRow).where(BankEntryRow.bank_id == row.id))
        record_changes(session, "remove", entries)
        session.delete(row)
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="bank.delete",
            target_type="bank",
            target_id=name,
            details={"entries_deleted": count},
        )

    # --- entries --------------------------------------------------------------------------------

    def add_entries(
        self,
        session: Session,
        bank_name: str,
        entries: Iterable[NewEntry],
        *,
        actor: str,
        group: bool = False,
    ) -> AddReport:
        """Add entries; duplicates of existing values are counted, not errors. All or nothing.

        With ``group`` the added entries form one group (the signals of one file: HMA's "bank
        content"), identified by the first entry's id; otherwise each entry is its own group.
        """
        bank = self._row(session, bank_name)
        report = AddReport()
        normalized: list[tuple[NewEntry, str, str]] = []
        for entry in entries:
            signal_type = get_signal_type(entry.signal_type)
            normalized.append((entry, signal_type.name, signal_type.normalize(entry.value)))
        # Only the keys of this batch are looked up, so adding a page to a bank of millions
        # costs the page, not the bank.
        existing_keys: set[tuple[str, str]] = set()
        by_type: dict[str, set[str]] = {}
        for _, type_name, value in normalized:
            by_type.setdefault(type_name, set()).add(value_key(value))
        for type_name, keys in by_type.items():
            ordered = sorted(keys)
            for start in range(0, len(ordered), 500):
                # bank, type and key: the whole unique index, whatever the planner knows.
                existing_keys.update(
                    (type_name, key)
                    for key in session.scalars(
                        select(BankEntryRow.value_key).where(
                            BankEntryRow.bank_id == bank.id,
                            BankEntryRow.signal_type == type_name,
                            BankEntryRow.value_key.in_(ordered[start : start + 500]),
                        )
                    )
                )
        seen: set[tuple[str, str]] = set()
        rows: list[BankEntryRow] = []
        for entry, type_name, value in normalized:
            key = (type_name, value_key(value))
            if key in existing_keys or key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            rows.append(
                BankEntryRow(
                    bank_id=bank.id,
                    signal_type=type_name,
                    value=value,
                    value_key=key[1],
                    quality=entry.quality,
                    labels=normalize_labels(entry.labels),
                    note=entry.note,
                    added_by=actor,
                    added_from=entry.added_from,
                    variants=entry.variants if type_name in ("pdq", "vpdq") else None,
                    external_id=entry.external_id,
                    external_modified=entry.external_modified,
                    tlp=entry_tlp(bank, entry.tlp),
                )
            )
        session.add_all(rows)
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent writer added the same value first
            raise BankExists("an entry with one of these values was added concurrently") from exc
        for row in rows:
            row.group_id = rows[0].id if group else row.id
        record_changes(session, "add", rows)
        session.flush()
        report.added = [entry_info(row, bank.name) for row in rows]
        if rows:
            self._audit.record(
                session,
                actor=actor,
                action="bank.entries.add",
                target_type="bank",
                target_id=bank.name,
                details={
                    "count": len(rows),
                    "entry_ids": [row.id for row in rows][:1000],
                    "sources": sorted({row.added_from for row in rows if row.added_from})[:20],
                },
            )
        return report

    def _entry_row(self, session: Session, bank_name: str, entry_id: int) -> BankEntryRow:
        bank = self._row(session, bank_name)
        row = session.get(BankEntryRow, entry_id)
        if row is None or row.bank_id != bank.id:
            raise EntryNotFound(f"bank {bank_name!r} has no entry {entry_id}")
        return row

    def get_entry(self, session: Session, bank_name: str, entry_id: int) -> EntryInfo:
        return entry_info(self._entry_row(session, bank_name, entry_id), bank_name)

    def list_entries(
        self,
        session: Session,
        bank_name: str,
        *,
        signal_type: str | None = None,
        limit: int = 100,
        after_id: int = 0,
    ) -> builtins.list[EntryInfo]:  # `list` here would mean the method above
        bank = self._row(session, bank_name)
        query = (
            select(BankEntryRow)
            .where(BankEntryRow.bank_id == bank.id, BankEntryRow.id > after_id)
            .order_by(BankEntryRow.id)
            .limit(max(1, min(limit, 10_000)))
        )
        if signal_type:
            query = query.where(BankEntryRow.signal_type == get_signal_type(signal_type).name)
        return [entry_info(row, bank.name) for row in session.scalars(query)]

    def update_entry(
        self,
        session: Session,
        bank_name: str,
        entry_id: int,
        *,
        actor: str,
        disabled_until: datetime | bool | None = False,
        note: str | None = None,
        labels: Iterable[str] | None = None,
        tlp: str | None = None,
    ) -> EntryInfo:
        """Change an entry. ``disabled_until=None`` re-enables; ``False`` leaves it unchanged.
        ``tlp="bank"`` drops the entry's own marking."""
        row = self._entry_row(session, bank_name, entry_id)
        changes: dict[str, Any] = {}
        if tlp is not None:
            bank = self._row(session, bank_name)
            wanted = None if tlp == "bank" else entry_tlp(bank, tlp)
            if wanted != row.tlp:
                changes["tlp"] = [row.tlp, wanted]
                row.tlp = wanted
        if disabled_until is not False:
            if isinstance(disabled_until, bool):
                raise InvalidInput("disabled_until takes a time or null")
            if disabled_until is not None and disabled_until.tzinfo is None:
                raise InvalidInput("disabled_until needs a timezone (e.g. 2026-12-01T00:00:00Z)")
            changes["disabled_until"] = [row.disabled_until, disabled_until]
            row.disabled_until = disabled_until
        if note is not None and note != row.note:
            changes["note"] = [row.note, note]
            row.note = note
        if labels is not None:
            clean = normalize_labels(labels)
            changes["labels"] = [row.labels, clean]
            row.labels = clean
        if changes:
            session.flush()
            self._audit.record(
                session,
                actor=actor,
                action="bank.entry.update",
                target_type="bank_entry",
                target_id=entry_id,
                details={"bank": bank_name, **changes},
            )
        return entry_info(row, bank_name)

    def delete_entry(self, session: Session, bank_name: str, entry_id: int, *, actor: str) -> None:
        row = self._entry_row(session, bank_name, entry_id)
        details = {"bank": bank_name, "signal_type": row.signal_type, "value": row.value[:128]}
        record_changes(session, "remove", [row])
        # Feeds tell partners to revoke the entry's indicator from this tombstone.
        session.add(
            EntryTombstoneRow(
                bank_id=row.bank_id,
                entry_id=row.id,
                signal_type=row.signal_type,
                value=row.value,
                labels=list(row.labels or []),
                quality=row.quality,
                note=row.note,
                tlp=row.tlp,
                added_at=row.added_at,
                removed_by=actor,
            )
        )
        session.delete(row)
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="bank.entry.delete",
            target_type="bank_entry",
            target_id=entry_id,
            details=details,
        )

    # --- groups (HMA's "bank content": the signals banked from one file) ------------------------

    def _group_rows(
        self, session: Session, bank_name: str, group_id: int
    ) -> builtins.list[BankEntryRow]:
        bank = self._row(session, bank_name)
        rows = builtins.list(
            session.scalars(
                select(BankEntryRow)
                .where(BankEntryRow.bank_id == bank.id, BankEntryRow.group_id == group_id)
                .order_by(BankEntryRow.id)
            )
        )
        if not rows:
            raise EntryNotFound(f"bank {bank_name!r} has no content {group_id}")
        return rows

    def group_entries(
        self, session: Session, bank_name: str, group_id: int
    ) -> builtins.list[EntryInfo]:
        return [
            entry_info(row, bank_name) for row in self._group_rows(session, bank_name, group_id)
        ]

    def update_group(
        self,
        session: Session,
        bank_name: str,
        group_id: int,
        *,
        actor: str,
        disabled_until: datetime | bool | None = False,
        note: str | None = None,
        labels: Iterable[str] | None = None,
    ) -> builtins.list[EntryInfo]:
        label_list = None if labels is None else builtins.list(labels)
        return [
            self.update_entry(
                session,
                bank_name,
                row.id,
                actor=actor,
                disabled_until=disabled_until,
                note=note,
                labels=label_list,
            )
            for row in self._group_rows(session, bank_name, group_id)
        ]

    def delete_group(self, session: Session, bank_name: str, group_id: int, *, actor: str) -> None:
        for row in self._group_rows(session, bank_name, group_id):
            self.delete_entry(session, bank_name, row.id, actor=actor)

    # --- flood-control quarantine -----------------------------------------------------------------

    def release_quarantine(
        self, session: Session, bank_name: str, entry_id: int, *, actor: str
    ) -> EntryInfo:
        """Let a quarantined entry's matches lead to automatic action again."""
        row = self._entry_row(session, bank_name, entry_id)
        if row.quarantined_at is not None:
            details = {"bank": bank_name, "was": row.quarantine_reason}
            row.quarantined_at, row.quarantine_reason = None, ""
            row.flood_reset_at = utcnow()
            session.flush()
            self._audit.record(
                session,
                actor=actor,
                action="bank.entry.release",
                target_type="bank_entry",
                target_id=entry_id,
                details=details,
            )
        return entry_info(row, bank_name)


def error_item(position: str, number: int, error: BastionError) -> dict[str, Any]:
    """One import error as the API and CLI report it."""
    return {position: number, "code": error.code, "detail": error.detail}
