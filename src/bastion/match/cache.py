"""The matching engine one process holds: live indexes plus the matcher that reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bastion.index.vpdq import VpdqMatchRule
from bastion.match.live_index import LiveIndexes
from bastion.match.matcher import Matcher
from bastion.settings import Settings
from bastion.storage.db import Database


class MatcherCache:
    """Built once per process; every lookup first catches up with the database change log."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        rule = VpdqMatchRule(
            min_quality=settings.pdq_min_quality,
            query_match_percent=settings.vpdq_query_match_percent,
            bank_match_percent=settings.vpdq_bank_match_percent,
        )
        self.indexes = LiveIndexes(rule, snapshot_dir=Path(settings.data_dir) / "index")
        self.matcher = Matcher(settings, self.indexes)

    def status(self) -> dict[str, dict[str, Any]]:
        """Per signal type: entries held, change-log version applied, when it last changed."""
        with self._db.session() as session:
            return {s.signal_type: s.to_dict() for s in self.indexes.status(session)}

    def save_snapshot(self) -> Path | None:
        with self._db.session() as session:
            return self.indexes.save_snapshot(session)
