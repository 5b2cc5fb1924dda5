"""PDQ index: exact Hamming-distance search over 256-bit hashes that takes changes in place.

Entries live in a few immutable segments (``pdq_segment``), oldest and largest first. A segment
of at least ``BUFFER_ROWS`` rows has multi-index hashing tables (``pdq_layout``, ``pdq_plan``):
a query looks up the near values of its chunks and compares only the rows found there, in full,
so every entry within the threshold is returned and nothing else (100% recall by construction,
for any threshold 0..256; when a threshold is so large that the lookup would cost more than
reading every row, the segment is scanned instead, which is exact too).

Changes never rebuild the whole index. Added rows wait in a pending area, scanned, until a
search finds at least ``BUFFER_ROWS`` of them; they then become one indexed segment, and the
two newest segments merge while the newer holds at least 1/``MERGE_RATIO`` of the older's rows
(sizes shrink geometrically: a query visits a handful of segments, a row is rebuilt a handful
of times, and a bulk load of many batches is indexed once). A merge of more than
``INLINE_MERGE_ROWS`` rows runs in a background thread while searches use the two old
segments; removals made meanwhile are applied to the merged segment before it replaces them.
A removal sets a tombstone; merges drop dead rows, and a segment half dead is rebuilt.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bastion.errors import InvalidSignal
from bastion.index.base import Hit, SignalIndex
from bastion.index.pdq_layout import HASH_BITS, MIN_TABLE_ROWS, Words
from bastion.index.pdq_segment import QUERY_GROUP, Ids, Segment, hamming_matrix

__all__ = ["PdqIndex", "Words", "hamming_matrix", "pack_pdq"]

# Pending rows are indexed from this many on (scanning fewer costs a few microseconds).
BUFFER_ROWS = MIN_TABLE_ROWS
# Merge the two newest segments when the newer holds at least 1/MERGE_RATIO of the older's rows.
MERGE_RATIO = 8
# Merges of up to this many rows (well under a second) run in the caller; larger ones in a
# background thread, so that no search waits seconds for a rebuild of the big segments.
INLINE_MERGE_ROWS = 400_000

log = logging.getLogger(__name__)


def pack_pdq(hex_values: Iterable[str]) -> Words:
    """(N, 4) uint64 array from 64-hex-digit PDQ hashes (big-endian words, so bit order is kept)."""
    values = hex_values if isinstance(hex_values, list) else list(hex_values)
    # One join and one decode: no per-hash bytes objects, whose freed memory Python would keep.
    # With every value 64 characters long, 32 bytes per value decode only if all are hex digits.
    try:
        raw = bytes.fromhex("".join(values))
    except (ValueError, TypeError) as exc:
        raise InvalidSignal(f"not a PDQ hash: {exc}") from exc
    if len(raw) != 32 * len(values) or set(map(len, values)) - {64}:
        raise InvalidSignal("a PDQ hash is 64 hexadecimal digits")
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, 4)


def _radius(max_distance: float) -> int:
    """Largest integer distance allowed; -1 when nothing can match (negative or NaN)."""
    if not max_distance >= 0:
        return -1
    return int(min(max_distance, HASH_BITS))


def _last_of_each(ids: Ids) -> npt.NDArray[np.intp]:
    """Positions keeping only the last occurrence of each id (re-adding replaces)."""
    _, from_end = np.unique(ids[::-1], return_index=True)
    return np.sort(len(ids) - 1 - from_end)


def _joined(segments: Sequence[Segment]) -> tuple[Ids, Words]:
    rows = [segment.live_rows() for segment in segments]
    if len(rows) == 1:
        return rows[0]  # shared, not copied: segments never change their rows
    return np.concatenate([ids for ids, _ in rows]), np.concatenate([words for _, words in rows])


def _rows(segment: Segment, alive: npt.NDArray[np.bool_] | None) -> tuple[Ids, Words]:
    """A segment's ids and hashes, keeping the rows ``alive`` marks (all when None)."""
    ids = segment.ids_of(np.arange(len(segment)))
    return (ids, segment.words) if alive is None else (ids[alive], segment.words[alive])


def _killed_since(segment: Segment, alive: npt.NDArray[np.bool_] | None) -> Ids:
    """Ids of rows live under the mask ``alive`` (all when None) that are dead now."""
    if segment.alive is None:
        return np.empty(0, dtype=np.int64)
    dead = ~segment.alive if alive is None else alive & ~segment.alive
    return segment.ids_of(np.flatnonzero(dead))


class PdqIndex(SignalIndex):
    """Exact PDQ index; thread-safe (writers serialise, readers see one consistent state)."""

    signal_type = "pdq"

    def __init__(self, segments: Iterable[Segment] = ()) -> None:
        # (indexed segments oldest first, pending unindexed segments): replaced as one tuple so
        # that a search never sees a row in both or in neither.
        self._state: tuple[tuple[Segment, ...], tuple[Segment, ...]] = (
            tuple(s for s in segments if s.live),
            (),
        )
        self._write = threading.Lock()
        self._merging: tuple[Segment, ...] = ()  # the two segments a background merge replaces
        self._merger: threading.Thread | None = None

    def __len__(self) -> int:
        indexed, pending = self._state
        return sum(segment.live for segment in (*indexed, *pending))

    @property
    def segments(self) -> tuple[Segment, ...]:
        """The indexed segments, oldest first (pending additions not included)."""
        return self._state[0]

    def add(self, entries: Iterable[tuple[int, str]]) -> None:
        pairs = list(entries)
        if not pairs:
            return
        ids = np.fromiter((entry_id for entry_id, _ in pairs), dtype=np.int64, count=len(pairs))
        words = pack_pdq([value for _, value in pairs])
        if not (ids[1:] > ids[:-1]).all() and len(np.unique(ids)) != len(ids):
            keep = _last_of_each(ids)
            ids, words = ids[keep], words[keep]
        with self._write:
            indexed, pending = self._state
            self._kill(ids)
            # New rows wait, scanned, until a search finds enough of them to be worth indexing:
            # a bulk load of many batches then costs one build, not one per batch.
            waiting = [segment for segment in pending if segment.live]
            if waiting and len(waiting[-1]) < BUFFER_ROWS and len(ids) < BUFFER_ROWS:
                old_ids, old_words = waiting.pop().live_rows()
                ids, words = np.concatenate([old_ids, ids]), np.concatenate([old_words, words])
            waiting.append(Segment.unindexed(ids, words))
            self._state = (indexed, tuple(waiting))

    def remove(self, entry_ids: Iterable[int]) -> None:
        ids = np.fromiter(entry_ids, dtype=np.int64)
        if not len(ids):
            return
        with self._write:
            indexed, pending = self._state
            self._kill(ids)
            rebuilt = [
                # Rebuild an indexed segment once half of it is dead (small ones at once); one
                # being merged in the background loses its dead rows there.
                Segment.build(*segment.live_rows())
                if segment.live < len(segment)
                and (segment.tables is None or 2 * segment.live < len(segment))
                and not self._busy(segment)
                else segment
                for segment in indexed
            ]
            self._state = (self._merged(rebuilt), tuple(s for s in pending if s.live))

    def _kill(self, ids: Ids) -> None:
        indexed, pending = self._state
        for segment in (*indexed, *pending):
            segment.kill(segment.rows_of(ids))

    def _busy(self, segment: Segment) -> bool:
        return any(segment is merging for merging in self._merging)

    def _index_pending(self, at_least: int) -> None:
        """Index the pending rows if there are ``at_least`` of them."""
        with self._write:
            indexed, pending = self._state
            live = [segment for segment in pending if segment.live]
            if not live or sum(segment.live for segment in live) < at_least:
                return
            built = Segment.build(*_joined(live))
            self._state = (self._merged([*indexed, built]), ())

    def _merged(self, segments: list[Segment]) -> tuple[Segment, ...]:
        """Merge the newest segments while the newer holds 1/MERGE_RATIO of the older's rows
        (or the older is small). Call with the write lock held."""
        segments = [segment for segment in segments if segment.live or self._busy(segment)]
        while len(segments) >= 2 and (
            segments[-1].live * MERGE_RATIO >= segments[-2].live or segments[-2].live < BUFFER_ROWS
        ):
            older, newer = segments[-2:]
            if self._busy(older) or self._busy(newer):
                break  # they will be merged when the running merge ends
            if older.live + newer.live > INLINE_MERGE_ROWS:
                self._merge_in_background(older, newer)
                break
            segments[-2:] = [Segment.build(*_joined([older, newer]))]
        return tuple(segments)

    def _merge_in_background(self, older: Segment, newer: Segment) -> None:
        if self._merging:
            return
        # Tombstones as of now (the write lock is held): rows killed later are killed in the
        # merged segment when it replaces these two.
        masks = [
            segment.alive.copy() if segment.alive is not None else None
            for segment in (older, newer)
        ]
        self._merging = (older, newer)
        self._merger = threading.Thread(
            target=self._merge, args=(older, newer, masks), name="pdq-index-merge", daemon=True
        )
        self._merger.start()

    def _merge(
        self, older: Segment, newer: Segment, masks: list[npt.NDArray[np.bool_] | None]
    ) -> None:
        try:
            parts = [
                _rows(segment, mask) for segment, mask in zip((older, newer), masks, strict=True)
            ]
            merged = Segment.build(
                np.concatenate([ids for ids, _ in parts]), np.concatenate([w for _, w in parts])
            )
        except Exception:  # e.g. MemoryError: keep serving the two segments as they are
            log.exception("merging PDQ index segments failed")
            with self._write:
                self._merging = ()
            return
        with self._write:
            self._merging = ()
            gone = [
                _killed_since(segment, mask)
                for segment, mask in zip((older, newer), masks, strict=True)
            ]
            merged.kill(merged.rows_of(np.concatenate(gone)))
            indexed, pending = self._state
            segments = list(indexed)
            at = next(i for i, segment in enumerate(segments) if segment is older)
            segments[at : at + 2] = [merged]  # merges only ever take two neighbours
            self._state = (self._merged(segments), pending)

    def wait_for_merges(self, timeout: float | None = None) -> None:
        """Wait until no merge runs in the background (tests, benchmarks, before a snapshot)."""
        while (merger := self._merger) is not None and merger.is_alive():
            merger.join(timeout)
            if timeout is not None:
                return

    def search(self, value: str, max_distance: float) -> list[Hit]:
        return self.search_many([value], max_distance)[0]

    def search_many(self, values: Sequence[str], max_distance: float) -> list[list[Hit]]:
        results: list[list[Hit]] = [[] for _ in values]
        radius = _radius(max_distance)
        if not values or radius < 0:
            return results
        queries = pack_pdq(values)
        if sum(segment.live for segment in self._state[1]) >= BUFFER_ROWS:
            self._index_pending(BUFFER_ROWS)
        indexed, pending = self._state  # one consistent view, whatever writers do meanwhile
        segments = (*indexed, *pending)
        found_q, found_id, found_d = [], [], []
        for start in range(0, len(queries), QUERY_GROUP):
            group = queries[start : start + QUERY_GROUP]
            for segment in segments:
                found = segment.search(group, radius)
                if len(found.ids):
                    found_q.append(found.query + start)
                    found_id.append(found.ids)
                    found_d.append(found.distance)
        if not found_q:
            return results
        query, ids, dist = (
            part[0] if len(part) == 1 else np.concatenate(part)
            for part in (found_q, found_id, found_d)
        )
        if len(ids) > 1:
            order = np.lexsort((ids, dist, query))
            query, ids, dist = query[order], ids[order], dist[order]
        previous = (-1, -1)
        for q, entry_id, distance in zip(query.tolist(), ids.tolist(), dist.tolist(), strict=True):
            if (q, entry_id) != previous:  # found through several chunks: report it once
                results[q].append(Hit(entry_id, float(distance)))
                previous = (q, entry_id)
        return results

    def save(self, path: Path) -> None:
        """Write a snapshot atomically (temporary file, then rename)."""
        from bastion.index.pdq_snapshot import write_snapshot

        self._index_pending(1)
        write_snapshot(path, self._state[0])

    @classmethod
    def load(cls, path: Path) -> PdqIndex:
        """Open a snapshot, memory-mapped; a damaged file raises ConfigurationError."""
        from bastion.index.pdq_snapshot import read_snapshot

        return cls(read_snapshot(path))
