"""Shingle index: which banked texts contain a query text (``text_shingles``, containment).

A query is scored against every banked text that shares at least one of its five-word shingles:
the distance is ``round(100 * (1 - matched / query_shingles))`` (see
:class:`bastion.signals.text.TextShinglesSignal`), so an excerpt of a banked manifesto is near 0
however long the manifesto. Banked texts sharing no shingle are at distance 100 and are returned
only when ``max_distance`` reaches 100; queries with fewer than ``MIN_QUERY_SHINGLES`` shingles
are at distance 100 from everything.

**Storage.** An inverted index of postings ``(shingle, slot)``: a sorted uint64 array of
shingles and a parallel uint32 array of entry slots, 12 bytes per banked shingle (a 100,000-word
manifesto is ~1.2 MB) and nothing else per shingle: banked values are not kept. Postings live in
sorted *segments* as in a log-structured merge tree: each ``add`` makes a segment of its batch
and merges it into the previous one while that is not more than twice its size, so a posting is
re-sorted O(log n) times over its life and a search makes a few ``searchsorted`` calls per
segment. Removal clears the slot's live flag at once; dead postings are dropped by the merges
that meet them, and by a full compaction when they outnumber live ones.

**Search.** For each segment, both ends of every query shingle's run of postings come from one
vectorised ``searchsorted``; the slots of all matching postings are counted with ``bincount``.
Shingles within a banked text are unique, so the count per slot is the number of query shingles
it contains.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bastion.index.base import Hit, SignalIndex
from bastion.signals.text import MIN_QUERY_SHINGLES, TextShinglesSignal, parse_shingles

_SLOT_DTYPE = np.uint32


@dataclass(frozen=True, slots=True)
class _Segment:
    shingles: npt.NDArray[np.uint64]  # sorted
    slots: npt.NDArray[np.uint32]


def _merged(segments: list[_Segment], alive: npt.NDArray[np.bool_]) -> _Segment:
    """One segment of the live postings of ``segments``."""
    shingles = np.concatenate([segment.shingles for segment in segments])
    slots = np.concatenate([segment.slots for segment in segments])
    live = alive[slots]
    if not bool(live.all()):
        shingles, slots = shingles[live], slots[live]
    order = np.argsort(shingles, kind="stable")
    return _Segment(shingles[order], slots[order])


class ShingleIndex(SignalIndex):
    def __init__(self, signal_type: str = TextShinglesSignal.name) -> None:
        self.signal_type = signal_type
        self._segments: list[_Segment] = []
        self._entry_ids = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=bool)
        self._sizes = np.zeros(0, dtype=np.int64)  # postings per slot
        self._used = 0
        self._slot_of: dict[int, int] = {}
        self._live_postings = 0
        self._dead_postings = 0

    # --- changes ---------------------------------------------------------------------------------

    def add(self, entries: Iterable[tuple[int, str]]) -> None:
        batch = [(entry_id, parse_shingles(value)) for entry_id, value in entries]
        if not batch:
            return
        self._grow(self._used + len(batch))
        if self._used + len(batch) > np.iinfo(_SLOT_DTYPE).max:
            self._compact()
        parts: list[npt.NDArray[np.uint64]] = []
        slots: list[npt.NDArray[np.uint32]] = []
        for entry_id, shingles in batch:
            self._forget(entry_id)
            slot = self._used
            self._used += 1
            self._entry_ids[slot] = entry_id
            self._alive[slot] = True
            self._sizes[slot] = len(shingles)
            self._slot_of[entry_id] = slot
            self._live_postings += len(shingles)
            parts.append(shingles)
            slots.append(np.full(len(shingles), slot, dtype=_SLOT_DTYPE))
        fresh = _Segment(np.concatenate(parts), np.concatenate(slots))
        # An id repeated within the batch: only its last value is alive, the rest drop out here.
        segment = _merged([fresh], self._alive)
        self._dead_postings -= len(fresh.shingles) - len(segment.shingles)
        self._segments.append(segment)
        while len(self._segments) > 1 and len(self._segments[-2].shingles) <= 2 * len(
            self._segments[-1].shingles
        ):
            newer = self._segments.pop()
            older = self._segments.pop()
            self._segments.append(self._merge(older, newer))

    def remove(self, entry_ids: Iterable[int]) -> None:
        for entry_id in entry_ids:
            self._forget(entry_id)
        if self._dead_postings > max(self._live_postings, 1 << 16):
            self._compact()

    def _forget(self, entry_id: int) -> None:
        slot = self._slot_of.pop(entry_id, None)
        if slot is not None:
            self._alive[slot] = False
            size = int(self._sizes[slot])
            self._live_postings -= size
            self._dead_postings += size

    def _merge(self, older: _Segment, newer: _Segment) -> _Segment:
        merged = _merged([older, newer], self._alive)
        self._dead_postings -= len(older.shingles) + len(newer.shingles) - len(merged.shingles)
        return merged

    def _compact(self) -> None:
        """One segment of live postings, slots renumbered densely."""
        live = np.flatnonzero(self._alive[: self._used])
        renumber = np.zeros(max(self._used, 1), dtype=_SLOT_DTYPE)
        renumber[live] = np.arange(len(live), dtype=_SLOT_DTYPE)
        segments = [_merged(self._segments, self._alive)] if self._segments else []
        self._segments = [_Segment(s.shingles, renumber[s.slots]) for s in segments]
        self._entry_ids = self._entry_ids[live].copy()
        self._sizes = self._sizes[live].copy()
        self._alive = np.ones(len(live), dtype=bool)
        self._used = len(live)
        self._slot_of = {int(entry_id): slot for slot, entry_id in enumerate(self._entry_ids)}
        self._dead_postings = 0

    def _grow(self, needed: int) -> None:
        capacity = len(self._alive)
        if needed <= capacity:
            return
        capacity = max(needed, 2 * capacity, 64)
        for name, dtype in (("_entry_ids", np.int64), ("_alive", bool), ("_sizes", np.int64)):
            grown = np.zeros(capacity, dtype=dtype)
            grown[: self._used] = getattr(self, name)[: self._used]
            setattr(self, name, grown)

    # --- search ----------------------------------------------------------------------------------

    def search(self, value: str, max_distance: float) -> list[Hit]:
        query = parse_shingles(value)
        if not max_distance >= 0 or not self._slot_of:
            return []
        total = len(query)
        matched = np.zeros(self._used, dtype=np.int64)
        if total >= MIN_QUERY_SHINGLES:
            for segment in self._segments:
                matched += np.bincount(self._matching_slots(segment, query), minlength=self._used)
        if max_distance >= TextShinglesSignal.max_distance:
            slots = np.flatnonzero(self._alive[: self._used])  # everything is within reach
        else:
            slots = np.flatnonzero((matched > 0) & self._alive[: self._used])
        if len(slots) == 0:
            return []
        counts = matched[slots]
        if total >= MIN_QUERY_SHINGLES:
            # The same float expression as TextShinglesSignal.distance, so they always agree.
            distances = np.round(100 * (1 - counts / total))
        else:
            distances = np.full(len(slots), float(TextShinglesSignal.max_distance))
        keep = distances <= max_distance
        hits = [
            Hit(
                int(entry_id),
                float(distance),
                {
                    "containment": round(int(count) / total, 4),
                    "matched_shingles": int(count),
                    "query_shingles": total,
                },
            )
            for entry_id, distance, count in zip(
                self._entry_ids[slots[keep]].tolist(),
                distances[keep].tolist(),
                counts[keep].tolist(),
                strict=True,
            )
        ]
        hits.sort(key=lambda hit: (hit.distance, hit.entry_id))
        return hits

    @staticmethod
    def _matching_slots(segment: _Segment, query: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
        lo = np.searchsorted(segment.shingles, query, side="left")
        hi = np.searchsorted(segment.shingles, query, side="right")
        runs = hi - lo
        found = int(runs.sum())
        if found == 0:
            return np.zeros(0, dtype=np.intp)
        # Positions lo[i] .. hi[i]-1 of every run, laid end to end.
        starts = np.repeat(lo - (np.cumsum(runs) - runs), runs)
        positions = starts + np.arange(found)
        slots: npt.NDArray[np.intp] = segment.slots[positions].astype(np.intp)
        return slots

    def memory_bytes(self) -> int:
        """Bytes held by postings and per-entry arrays (for sizing a deployment)."""
        postings = sum(s.shingles.nbytes + s.slots.nbytes for s in self._segments)
        return postings + self._entry_ids.nbytes + self._alive.nbytes + self._sizes.nbytes

    def __len__(self) -> int:
        return len(self._slot_of)
