"""An immutable block of PDQ hashes with its multi-index tables; deletions are tombstones.

Rows are kept in entry-id order, so finding an id (to replace or remove it) is a binary search
and needs no extra map. For each chunk of the layout, the postings list every row sorted by the
chunk's directory key, each row number shifted left over the chunk's low bits; the directory
holds, per key, where its postings start (one concatenated array for all chunks, so a query
gathers all its probes in one call).

Memory per row: 32 bytes of hash, 4 of id (8 if the ids span 2**32 or more), 4 per chunk of
postings and about 2 per chunk of directory (``pdq_layout``), plus 1 for the tombstone mask
once something is removed: about 100 bytes at 10 million rows (11 chunks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bastion.errors import ConfigurationError
from bastion.index.pdq_layout import ChunkLayout, Words
from bastion.index.pdq_plan import ACCEPT, ProbePlan, plan_for

Ids = npt.NDArray[np.int64]
Rows = npt.NDArray[np.int64]
Distances = npt.NDArray[np.uint16]
# (query, row) pairs compared per numpy call in a scan: bounds the temporaries to ~10 MB.
_SCAN_CELLS = 1 << 18
# Queries scanned together: enough to amortise numpy's per-call cost, few enough that the
# (queries, rows) temporaries stay in cache.
QUERY_GROUP = 64
# Directories address up to this many postings with uint32 offsets; past it, int64.
WIDE_DIRECTORY = 1 << 32


@dataclass(frozen=True, slots=True)
class Found:
    """Matches of a query group in one segment: parallel arrays."""

    query: npt.NDArray[np.intp]
    ids: Ids
    distance: Distances


def distances(queries: Words, rows: Words) -> Distances:
    """Row-wise Hamming distance between two (n, 4) arrays (or one query broadcast)."""
    counts = np.bitwise_count(queries ^ rows)
    # Column adds: far faster than sum(axis=1) over four columns. Two words fit in uint8.
    total: Distances = (counts[..., 0] + counts[..., 1]).astype(np.uint16)
    total += counts[..., 2] + counts[..., 3]
    return total


def hamming_matrix(queries: Words, entries: Words) -> Distances:
    """Distances between every query row and every entry row, shape (Q, N)."""
    return distances(queries[:, None, :], entries[None, :, :])


@dataclass(frozen=True, slots=True)
class Tables:
    layout: ChunkLayout
    # dir_slots + 1 offsets into postings: uint32, or int64 past 2**32 postings (never uint64,
    # which numpy would mix with int64 into floats)
    directory: npt.NDArray[np.integer]
    postings: npt.NDArray[np.unsignedinteger]  # chunks * rows: (row << low_field) | low bits

    @staticmethod
    def build(layout: ChunkLayout, words: Words) -> Tables:
        rows = len(words)
        field = layout.low_field
        if (rows << field) >= 1 << 32:
            raise ConfigurationError(f"a PDQ index segment holds at most {(1 << 32) >> field} rows")
        wide = layout.chunks * rows >= WIDE_DIRECTORY
        directory: npt.NDArray[np.integer] = np.empty(
            layout.dir_slots + 1, dtype=np.int64 if wide else np.uint32
        )
        postings = np.empty(layout.chunks * rows, dtype=np.uint32)
        directory[0] = 0
        row_part = np.arange(rows, dtype=np.int64) << field
        for k in range(layout.chunks):
            # In place where possible: fewer temporaries, less memory the allocator keeps.
            order = layout.chunk_keys(words, k)
            low_bits = int(layout.low_bits[k])
            low = order & ((1 << low_bits) - 1)
            order >>= low_bits  # now the directory key
            counts = np.bincount(order, minlength=1 << layout.dir_bits[k])
            # One 64-bit sort orders by directory key and packs the posting in the low half.
            order <<= 32
            order |= row_part
            order |= low
            del low
            order.sort()
            postings[k * rows : (k + 1) * rows] = order
            base = int(layout.dir_base[k])
            directory[base + 1 : base + 1 + len(counts)] = np.cumsum(counts) + k * rows
        return Tables(layout, directory, postings)

    def candidates(self, query: Words, plan: ProbePlan) -> Rows:
        """Rows whose chunks are within the plan's radii of one (1, 4) query: every match and
        some rows that are not."""
        picked = self.layout.keys(query)[0].take(plan.chunk)
        slots = ((picked >> plan.shift) ^ plan.flip) + plan.base
        starts = self.directory.take(slots)
        lengths = self.directory.take(slots + 1) - starts
        ends = np.cumsum(lengths, dtype=np.int64)
        total = int(ends[-1])
        if total == 0:
            return np.empty(0, dtype=np.int64)
        # The postings of every probed slot, concatenated: each run starts where its slot does.
        # One repeat carries both the run's offset and, in the low byte, which low bits the
        # probe accepts.
        runs = (starts - (ends - lengths)) << 8
        if plan.filters:
            runs |= ACCEPT.take((picked & plan.low_mask) + plan.accept_row)
        each = np.repeat(runs, lengths)
        positions = each >> 8
        positions += np.arange(total)
        postings = self.postings.take(positions)
        if plan.filters:
            stored = postings & ((1 << self.layout.low_field) - 1)
            postings = postings.take(np.flatnonzero((each >> stored) & 1))
        rows: Rows = (postings >> self.layout.low_field).astype(np.int64)
        return rows


class Segment:
    """Rows sorted by entry id; ``alive`` is None until the first removal.

    Ids are kept as offsets from the smallest when they span less than 2**32 (database ids
    do): 4 bytes a row instead of 8.
    """

    __slots__ = ("_plans", "alive", "id_base", "id_offsets", "live", "tables", "words")

    def __init__(
        self,
        ids: Ids,
        words: Words,
        tables: Tables | None,
        alive: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        """``ids`` ascending and unique, one per row of ``words``."""
        base = int(ids[0]) if len(ids) else 0
        if len(ids) and int(ids[-1]) - base < 1 << 32:
            self._store(base, (ids - base).astype(np.uint32), words, tables, alive)
        else:
            self._store(0, ids, words, tables, alive)

    @classmethod
    def stored(
        cls,
        id_base: int,
        id_offsets: npt.NDArray[np.integer],
        words: Words,
        tables: Tables | None,
        alive: npt.NDArray[np.bool_] | None,
    ) -> Segment:
        """A segment from the arrays it keeps (a snapshot), without converting them."""
        segment = cls.__new__(cls)
        segment._store(id_base, id_offsets, words, tables, alive)
        return segment

    def _store(
        self,
        id_base: int,
        id_offsets: npt.NDArray[np.integer],
        words: Words,
        tables: Tables | None,
        alive: npt.NDArray[np.bool_] | None,
    ) -> None:
        self.id_base = id_base
        self.id_offsets = id_offsets
        self.words = words
        self.tables = tables
        self.alive = alive
        self.live = len(id_offsets) if alive is None else int(np.count_nonzero(alive))
        self._plans: dict[int, ProbePlan | None] = {}

    @staticmethod
    def unindexed(ids: Ids, words: Words) -> Segment:
        """Rows with unique ids (any order), searched by scanning."""
        if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():  # bulk loads come in id order
            order = np.argsort(ids, kind="stable")
            ids, words = ids[order], words[order]
        return Segment(ids, np.ascontiguousarray(words), None)

    @staticmethod
    def build(ids: Ids, words: Words) -> Segment:
        """Rows with unique ids (any order), with tables when they are worth it."""
        segment = Segment.unindexed(ids, words)
        layout = ChunkLayout.for_rows(len(ids))
        if layout is not None:
            segment.tables = Tables.build(layout, segment.words)
        return segment

    def __len__(self) -> int:
        return len(self.id_offsets)

    def ids_of(self, rows: Rows) -> Ids:
        return self.id_offsets.take(rows).astype(np.int64) + self.id_base

    def rows_of(self, ids: Ids) -> Rows:
        """Live rows holding any of ``ids``."""
        offsets = self.id_offsets
        if not len(offsets):
            return np.empty(0, dtype=np.int64)
        # Most new entries have ids above every stored one (the database counts up): a range
        # check skips the binary search for them.
        first, last = self.id_base + int(offsets[0]), self.id_base + int(offsets[-1])
        wanted = (ids[(ids >= first) & (ids <= last)] - self.id_base).astype(offsets.dtype)
        where = np.searchsorted(offsets, wanted)
        inside = where < len(offsets)
        where = where[inside]
        rows = where[offsets.take(where) == wanted[inside]]
        if self.alive is not None:
            rows = rows[self.alive.take(rows)]
        return np.unique(rows)

    def kill(self, rows: Rows) -> None:
        if not len(rows):
            return
        if self.alive is None:
            self.alive = np.ones(len(self), dtype=np.bool_)
        self.alive[rows] = False
        self.live = int(np.count_nonzero(self.alive))

    def live_rows(self) -> tuple[Ids, Words]:
        ids = self.id_offsets.astype(np.int64) + self.id_base
        if self.alive is None:
            return ids, self.words
        return ids[self.alive], self.words[self.alive]

    def search(self, queries: Words, radius: int) -> Found:
        """Every live row within ``radius`` of each query (query index, id, distance). A row
        near a query in several chunks is reported once per chunk: callers drop repeats."""
        plan = None
        if self.tables is not None:
            if radius not in self._plans:
                self._plans[radius] = plan_for(self.tables.layout, len(self), radius)
            plan = self._plans[radius]
        if plan is None or self.tables is None:
            query, rows, dist = self._scan(queries, radius)
        elif len(queries) == 1:
            rows, dist = self._lookup(self.tables, queries, radius, plan)
            query = np.zeros(len(rows), dtype=np.intp)
        else:
            # One query at a time: the lookup is bound by memory latency, so grouping queries
            # saves little numpy overhead and costs cache (measured: slower from 2 queries on).
            found = [
                self._lookup(self.tables, queries[i : i + 1], radius, plan)
                for i in range(len(queries))
            ]
            query = np.repeat(np.arange(len(queries)), [len(rows) for rows, _ in found])
            rows = np.concatenate([rows for rows, _ in found])
            dist = np.concatenate([dist for _, dist in found])
        if self.alive is not None and len(rows):
            live = self.alive.take(rows)
            query, rows, dist = query[live], rows[live], dist[live]
        return Found(query, self.ids_of(rows), dist)

    def _lookup(
        self, tables: Tables, query: Words, radius: int, plan: ProbePlan
    ) -> tuple[Rows, Distances]:
        rows = tables.candidates(query, plan)
        dist = distances(query, self.words.take(rows, axis=0))
        near = np.flatnonzero(dist <= radius)
        return rows.take(near), dist.take(near)

    def _scan(self, queries: Words, radius: int) -> tuple[npt.NDArray[np.intp], Rows, Distances]:
        found_q, found_r, found_d = [], [], []
        step = max(1, _SCAN_CELLS // len(queries))
        for start in range(0, len(self.words), step):
            dist = hamming_matrix(queries, self.words[start : start + step])
            query, rows = np.nonzero(dist <= radius)
            found_q.append(query)
            found_r.append(rows + start)
            found_d.append(dist[query, rows])
        if not found_q:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.int64), np.empty(0, np.uint16)
        return np.concatenate(found_q), np.concatenate(found_r), np.concatenate(found_d)
