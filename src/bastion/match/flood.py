"""Flood control: one bad hash must not flood the review queue or trigger mass removals.

After an item's matches are recorded, each positive entry it matched is checked: if the entry has
matched more than ``flood_max_matches`` different items within ``flood_window_seconds``, it is
quarantined. It keeps matching (the content may really be spreading), but only for human review;
an alert and an audit event say what happened, and an analyst can release it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.match.records import Match
from bastion.settings import Settings
from bastion.storage.models import AlertRow, BankEntryRow, BankRow, MatchRow

FLOOD_ACTOR = "system:flood-control"


class FloodControl:
    def __init__(self, settings: Settings, audit: AuditLog) -> None:
        self._max = settings.flood_max_matches
        self._window = timedelta(seconds=settings.flood_window_seconds)
        self._audit = audit

    def check(self, session: Session, matches: list[Match], now: datetime) -> list[int]:
        """Quarantine entries over the limit; mark ``matches`` of them review-only; alert ids."""
        watched = {m.entry_id for m in matches if m.actionable}
        if self._max == 0 or not watched:
            return []
        start = now - self._window
        # Count from the window's start, or from an analyst's release if that came later.
        since = {
            entry_id: max(start, reset) if reset is not None else start
            for entry_id, reset in session.execute(
                select(BankEntryRow.id, BankEntryRow.flood_reset_at).where(
                    BankEntryRow.id.in_(sorted(watched))
                )
            )
        }
        seen: defaultdict[int, set[int]] = defaultdict(set)
        for entry_id, content_id, created_at in session.execute(
            select(MatchRow.bank_entry_id, MatchRow.content_id, MatchRow.created_at).where(
                MatchRow.bank_entry_id.in_(sorted(watched)),
                MatchRow.created_at >= start,
                MatchRow.suppressed.is_(False),
            )
        ):
            if entry_id in since and created_at >= since[entry_id]:
                seen[entry_id].add(content_id)
        counts = [(entry_id, len(items)) for entry_id, items in sorted(seen.items())]
        alerts: list[int] = []
        for entry_id, count in counts:
            if count <= self._max:
                continue
            alert_id = self._quarantine(session, entry_id, count, now)
            if alert_id is None:
                continue
            alerts.append(alert_id)
            for match in matches:
                if match.entry_id == entry_id:
                    match.review_only = True
                    match.review_reason = self._reason(count)
        return alerts

    def _reason(self, count: int) -> str:
        window = int(self._window.total_seconds())
        return f"flood control: matched {count} items within {window} s (limit {self._max})"

    def _quarantine(self, session: Session, entry_id: int, count: int, now: datetime) -> int | None:
        query = select(BankEntryRow).where(BankEntryRow.id == entry_id).with_for_update()
        entry = session.scalars(query).first()
        if entry is None or entry.quarantined_at is not None:
            return None  # gone, or another process quarantined it first
        entry.quarantined_at = now
        entry.quarantine_reason = self._reason(count)
        bank = session.get(BankRow, entry.bank_id)
        alert = AlertRow(
            kind="flood_quarantine",
            severity="high",
            summary=f"bank entry {entry_id} quarantined: {entry.quarantine_reason}",
            bank_name=bank.name if bank is not None else None,
            entry_id=entry_id,
            details={"matches_in_window": count, "limit": self._max, "value": entry.value[:128]},
        )
        session.add(alert)
        session.flush()
        self._audit.record(
            session,
            actor=FLOOD_ACTOR,
            action="bank.entry.quarantine",
            target_type="bank_entry",
            target_id=entry_id,
            details={"reason": entry.quarantine_reason, "alert_id": alert.id},
        )
        return alert.id
