"""The per-process index of every bank entry, kept current through the database change log.

Every add and removal of a bank entry appends a row to ``bank_change`` in the same transaction.
Each process holds indexes built up to some change id (its version); before every lookup it asks
the database for the newest id (one primary-key query) and applies only the rows after its own,
so a hash added anywhere is matchable in every API and worker process at its next lookup. No
process ever reloads whole indexes except at start-up, where a persisted PDQ snapshot (written
by ``bastion index snapshot``) plus the changes after it make start-up fast on large banks.

Indexes hold only ``(entry_id, value)``: which bank an entry is in, its threshold, labels and
state are read from the database for the few entries a lookup hits, so bank changes (disable,
threshold, roll-out ratio, quarantine) take effect at once without touching the index.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.errors import BastionError
from bastion.index.audio import AudioIndex
from bastion.index.base import SignalIndex
from bastion.index.exact import ExactIndex
from bastion.index.minhash import MinHashIndex
from bastion.index.pdq import PdqIndex
from bastion.index.pdq_variants import PdqVariantIndex, variant_value
from bastion.index.shingles import ShingleIndex
from bastion.index.url import DomainIndex, UrlPrefixIndex
from bastion.index.vpdq import VpdqIndex, VpdqMatchRule
from bastion.index.vpdq_dense import DenseVpdqIndex
from bastion.signals.audio import ChromaprintSignal
from bastion.signals.text import TextMinHashSignal, TextShinglesSignal
from bastion.signals.url import DomainSignal, UrlPrefixSignal
from bastion.storage.models import BankChangeRow, BankEntryRow, utcnow

log = logging.getLogger(__name__)

# Banked photos' variant hashes live in an index of their own (``index/pdq_variants.py``), and
# banked videos' dense frames in a vPDQ index that matches on the query's share only.
VARIANTS = PdqVariantIndex.signal_type
DENSE_VIDEOS = DenseVpdqIndex.signal_type
# Which index each banked signal type's variants go to, and which stored key holds them.
_VARIANT_INDEXES = {"pdq": VARIANTS, "vpdq": DENSE_VIDEOS}

# Past this many pending changes a full reload is cheaper than replaying them one by one.
_REPLAY_LIMIT = 200_000
_LOAD_BATCH = 50_000


@dataclass(frozen=True, slots=True)
class IndexStatus:
    signal_type: str
    size: int
    version: int
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "version": self.version,
            "updated_at": self.updated_at.isoformat(),
        }


def latest_version(session: Session) -> int:
    return int(session.scalar(select(func.max(BankChangeRow.id))) or 0)


class LiveIndexes:
    """One index per signal type, current to ``version``. Thread-safe."""

    def __init__(self, vpdq_rule: VpdqMatchRule, snapshot_dir: Path | None = None) -> None:
        self._vpdq_rule = vpdq_rule
        self._snapshot_dir = snapshot_dir
        self._lock = threading.RLock()
        self._indexes: dict[str, SignalIndex] = {}
        self._version = -1
        self._updated_at = utcnow()

    def _new_index(self, signal_type: str) -> SignalIndex:
        """The index kind each signal type needs; exact equality for every other type."""
        factories: dict[str, Callable[[], SignalIndex]] = {
            "pdq": PdqIndex,
            VARIANTS: PdqVariantIndex,
            "vpdq": lambda: VpdqIndex(self._vpdq_rule),
            DENSE_VIDEOS: lambda: DenseVpdqIndex(self._vpdq_rule),
            ChromaprintSignal.name: AudioIndex,
            TextMinHashSignal.name: MinHashIndex,
            TextShinglesSignal.name: ShingleIndex,
            UrlPrefixSignal.name: UrlPrefixIndex,
            DomainSignal.name: DomainIndex,
        }
        factory = factories.get(signal_type)
        return factory() if factory is not None else ExactIndex(signal_type)

    def _index(self, signal_type: str) -> SignalIndex:
        index = self._indexes.get(signal_type)
        if index is None:
            index = self._indexes[signal_type] = self._new_index(signal_type)
        return index

    @property
    def version(self) -> int:
        return self._version

    @contextmanager
    def reading(
        self, session: Session, *, refresh: bool = True
    ) -> Iterator[Callable[[str], SignalIndex | None]]:
        """Bring the indexes up to date (unless a batch did just that), then hold them still
        while the caller searches."""
        with self._lock:
            if refresh:
                self.refresh(session)
            yield self._indexes.get

    def refresh(self, session: Session) -> None:
        with self._lock:
            newest = latest_version(session)
            if newest == self._version:
                return
            if self._version < 0 or newest - self._version > _REPLAY_LIMIT:
                self._full_load(session, newest)
            else:
                self._replay(session, self._version, newest)
            self._version = newest
            self._updated_at = utcnow()

    def _snapshot_paths(self) -> tuple[Path, Path] | None:
        if self._snapshot_dir is None:
            return None
        return self._snapshot_dir / "pdq.index", self._snapshot_dir / "pdq.index.json"

    def _load_snapshot(self, newest: int) -> int | None:
        """Load the PDQ snapshot if one exists and is not ahead of the database; its version."""
        paths = self._snapshot_paths()
        if paths is None or not paths[0].is_file() or not paths[1].is_file():
            return None
        try:
            version = int(json.loads(paths[1].read_text())["version"])
            if version > newest:
                return None  # a snapshot of another (or a restored) database: ignore it
            self._indexes["pdq"] = PdqIndex.load(paths[0])
        except (OSError, ValueError, KeyError, TypeError, BastionError) as exc:
            log.warning("PDQ snapshot unusable, loading from the database: %s", exc)
            self._indexes.pop("pdq", None)
            return None
        return version

    def _full_load(self, session: Session, newest: int) -> None:
        self._indexes = {}
        snapshot_version = self._load_snapshot(newest)
        query = select(
            BankEntryRow.id, BankEntryRow.signal_type, BankEntryRow.value, BankEntryRow.variants
        ).order_by(BankEntryRow.id)
        batch: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
        for entry_id, signal_type, value, variants in session.execute(
            query.execution_options(yield_per=_LOAD_BATCH)
        ):
            for name, item in self._items(signal_type, value, variants):
                if name == "pdq" and snapshot_version is not None:
                    continue  # the snapshot holds it (changes since are replayed below)
                batch[name].append((entry_id, item))
                if len(batch[name]) >= _LOAD_BATCH:
                    self._index(name).add(batch.pop(name))
        for signal_type, pairs in batch.items():
            self._index(signal_type).add(pairs)
        if snapshot_version is not None:
            # Entries added or removed while the snapshot aged: replay only PDQ changes.
            self._replay(session, snapshot_version, newest, only="pdq")

    @staticmethod
    def _items(signal_type: str, value: str, variants: Any) -> list[tuple[str, str]]:
        """(index name, value) pairs one entry contributes: its value, and its variants."""
        items = [(signal_type, value)]
        if signal_type == "pdq" and isinstance(variants, dict):
            hashes = variants.get("hashes")
            if isinstance(hashes, dict) and hashes:
                items.append((VARIANTS, variant_value(hashes)))
        if signal_type == "vpdq":
            dense = variants.get("dense") if isinstance(variants, dict) else None
            # A video banked from hashes alone (an import, a partner's list, a stream range) has
            # no dense frames: its own frames stand in, so live watchers, which look single
            # frames up in this index, match it too. Uploads prefer the plain hit either way.
            items.append((DENSE_VIDEOS, dense if isinstance(dense, str) and dense else value))
        return items

    def _replay(self, session: Session, after: int, upto: int, only: str | None = None) -> None:
        query = (
            select(BankChangeRow)
            .where(BankChangeRow.id > after, BankChangeRow.id <= upto)
            .order_by(BankChangeRow.id)
        )
        if only is not None:
            query = query.where(BankChangeRow.signal_type == only)
        changes = list(session.scalars(query))
        added_ids = [c.entry_id for c in changes if c.op == "add"]
        values: dict[int, tuple[str, Any]] = {}
        for start in range(0, len(added_ids), 1000):
            chunk = added_ids[start : start + 1000]
            rows = session.execute(
                select(BankEntryRow.id, BankEntryRow.value, BankEntryRow.variants).where(
                    BankEntryRow.id.in_(chunk)
                )
            )
            values.update({entry_id: (value, variants) for entry_id, value, variants in rows})
        for change in changes:
            if change.op == "remove":
                self._index(change.signal_type).remove([change.entry_id])
                variants_index = _VARIANT_INDEXES.get(change.signal_type)
                if variants_index in self._indexes:
                    self._indexes[variants_index].remove([change.entry_id])
            elif change.entry_id in values:  # else removed since; its remove row follows
                value, variants = values[change.entry_id]
                for name, item in self._items(change.signal_type, value, variants):
                    self._index(name).add([(change.entry_id, item)])

    def save_snapshot(self, session: Session) -> Path | None:
        """Write the PDQ index and its version, for fast start-up of later processes."""
        paths = self._snapshot_paths()
        if paths is None:
            return None
        with self._lock:
            self.refresh(session)
            index = self._indexes.get("pdq")
            if not isinstance(index, PdqIndex):
                return None
            paths[0].parent.mkdir(parents=True, exist_ok=True)
            index.save(paths[0])
            paths[1].write_text(json.dumps({"version": self._version, "size": len(index)}))
            return paths[0]

    def status(self, session: Session) -> list[IndexStatus]:
        with self._lock:
            self.refresh(session)
            return [
                IndexStatus(name, len(index), self._version, self._updated_at)
                for name, index in sorted(self._indexes.items())
            ]
