"""Keeps one loaded :class:`MatchIndexes` per process and reloads it when banks change.

Every change to a bank or entry writes an audit event in the same transaction, so the newest
bank-related audit event id is an exact, cheap change counter for the whole bank table.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.match.matcher import MatchIndexes
from bastion.settings import Settings
from bastion.storage.models import AuditEventRow

BANK_TARGETS = ("bank", "bank_entry")


def bank_version(session: Session) -> int:
    query = select(func.max(AuditEventRow.id)).where(AuditEventRow.target_type.in_(BANK_TARGETS))
    return int(session.scalar(query) or 0)


class MatcherCache:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._version = -1
        self._indexes: MatchIndexes | None = None

    def get(self, session: Session) -> MatchIndexes:
        version = bank_version(session)
        with self._lock:
            if self._indexes is None or version != self._version:
                self._indexes = MatchIndexes.load(session, self._settings)
                self._version = version
            return self._indexes
