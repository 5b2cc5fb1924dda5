"""Audio index: Chromaprint fingerprints matched at any offset (trims, excerpts, embeddings).

A query matches a banked soundtrack when some alignment of the two has a span of at least
``min_overlap_seconds`` (10 s) of audio whose bit error rate is at most ``max_distance`` percent
and clearly lower than at neighbouring alignments (see :mod:`bastion.signals.audio`). The query
may be a trimmed part of the banked audio, the banked audio may be a part of a longer query, and
either may be re-encoded or change volume. Audio shorter than the minimum overlap (banked or
queried) never matches: 10 s is the least evidence on which an audio match is trusted.

Search is in two steps:

1. *Votes.* An inverted index maps the top ``KEY_BITS`` bits of every banked item to where it
   occurs. Each query item with a key looks it up, and every occurrence votes for the pair
   (entry, offset between the two items). Votes of neighbouring offsets are added, since a trim
   off the item grid splits them. Keys that occur far more often than chance across the bank
   (silence, hum and held tones that survived the per-fingerprint filter) are skipped.
2. *Verification.* For the entries with the most votes (at least :data:`MIN_VOTES`, at most
   :data:`MAX_VERIFIED` entries per query), the best offset and its two neighbours are checked
   bit by bit with :func:`bastion.signals.audio_items.align`.

Storage: postings are kept in sorted segments (keys, entry slots, item positions; 12 bytes per
banked item) plus the items themselves (4 bytes each), about 130 MB per 1000 hours of banked
audio. A new batch of entries becomes a new segment and small segments are merged into larger
ones (as in a log-structured merge tree), so adding one entry costs about its own size, not
the bank's. Removal marks the entry dead and its postings are dropped at the next merge that
involves them, or by a rebuild when dead postings outnumber live ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bastion.index.base import Hit, SignalIndex
from bastion.signals.audio import ChromaprintSignal
from bastion.signals.audio_items import (
    ITEM_SECONDS,
    KEY_BITS,
    MAX_ITEMS,
    Items,
    best_alignment,
    expand_ranges,
    items_for_seconds,
    match_keys,
    parse_items,
    seconds_of_items,
    smooth_votes,
    voting_items,
)

# Votes (with those of the two neighbouring offsets) an alignment needs to be verified. A true
# 10 s match on a hard copy has ~9 (see the docstring of bastion.signals.audio), chance ~0.
MIN_VOTES = 3
# Entries verified per query, most voted first: bounds the work of a query that collides with
# a bank full of near-identical tracks.
MAX_VERIFIED = 64
# A key with more postings than this many times the mean is a stationary sound, not a landmark.
_STOP_FACTOR = 32
_MIN_STOP_POSTINGS = 2000
# Offsets fit in 18 bits (|offset| < MAX_ITEMS < 2**17); slots above them in a vote's int64.
_OFFSET_BIAS = 1 << 17
_OFFSET_BITS = 18
assert MAX_ITEMS < _OFFSET_BIAS


@dataclass(frozen=True, slots=True)
class _Segment:
    """Postings sorted by key: key, entry slot and item position of every voting banked item."""

    keys: np.ndarray  # uint32
    slots: np.ndarray  # int64
    positions: np.ndarray  # int32

    def __len__(self) -> int:
        return len(self.keys)


def _merged(segments: list[_Segment], alive: np.ndarray) -> _Segment:
    keys = np.concatenate([s.keys for s in segments])
    slots = np.concatenate([s.slots for s in segments])
    positions = np.concatenate([s.positions for s in segments])
    keep = alive[slots]
    keys, slots, positions = keys[keep], slots[keep], positions[keep]
    order = np.argsort(keys, kind="stable")
    return _Segment(keys[order], slots[order], positions[order])


class AudioIndex(SignalIndex):
    """Offset-tolerant index of ``chromaprint`` values; ``max_distance`` is the BER threshold
    in percent, as :meth:`ChromaprintSignal.distance` measures it."""

    signal_type = ChromaprintSignal.name

    def __init__(
        self,
        min_overlap_seconds: float = ChromaprintSignal.min_overlap_seconds,
        min_contrast: float = ChromaprintSignal.min_contrast,
    ) -> None:
        self._window = max(1, items_for_seconds(min_overlap_seconds))
        self._min_contrast = min_contrast
        self._slot_of: dict[int, int] = {}  # entry id -> slot
        self._entry_of: list[int] = []  # slot -> entry id
        self._items: list[Items | None] = []  # slot -> items; None once removed
        self._alive = np.zeros(0, dtype=bool)
        self._segments: list[_Segment] = []
        self._postings = 0  # in segments, dead ones included
        self._dead_postings = 0
        self._posting_counts: list[int] = []  # slot -> its postings

    # --- changes --------------------------------------------------------------------------------

    def add(self, entries: Iterable[tuple[int, str]]) -> None:
        latest = {entry_id: parse_items(value) for entry_id, value in entries}
        self.remove(latest)  # re-adding an id replaces it, within a batch too
        self._insert(latest)

    def _insert(self, latest: dict[int, Items]) -> None:
        keys: list[np.ndarray] = []
        slots: list[np.ndarray] = []
        positions: list[np.ndarray] = []
        for entry_id, items in latest.items():
            if len(items) < self._window:
                continue  # shorter than the minimum overlap: it can never match
            voting = np.flatnonzero(voting_items(items)).astype(np.int32)
            slot = len(self._entry_of)
            self._slot_of[entry_id] = slot
            self._entry_of.append(entry_id)
            self._items.append(items)
            self._posting_counts.append(len(voting))
            keys.append(match_keys(items[voting]))
            slots.append(np.full(len(voting), slot, dtype=np.int64))
            positions.append(voting)
        self._alive = np.concatenate([self._alive, np.ones(len(keys), dtype=bool)])
        if not keys:
            return
        batch = _merged(
            [_Segment(np.concatenate(keys), np.concatenate(slots), np.concatenate(positions))],
            self._alive,
        )
        self._segments.append(batch)
        self._postings += len(batch)
        # Keep segment sizes decreasing geometrically: O(log n) segments, O(n log n) merging.
        while len(self._segments) > 1 and 2 * len(self._segments[-1]) >= len(self._segments[-2]):
            self._merge_last_two()

    def _merge_last_two(self) -> None:
        merging = self._segments[-2:]
        before = len(merging[0]) + len(merging[1])
        merged = _merged(merging, self._alive)
        self._segments[-2:] = [merged]
        self._postings -= before - len(merged)
        self._dead_postings -= before - len(merged)

    def remove(self, entry_ids: Iterable[int]) -> None:
        for entry_id in entry_ids:
            slot = self._slot_of.pop(entry_id, None)
            if slot is None:
                continue
            self._alive[slot] = False
            self._items[slot] = None
            self._dead_postings += self._posting_counts[slot]
        if self._dead_postings and 2 * self._dead_postings > self._postings:
            self._rebuild()

    def _rebuild(self) -> None:
        """Drop dead postings and renumber slots densely."""
        live = {
            self._entry_of[slot]: items
            for slot, items in enumerate(self._items)
            if items is not None
        }
        self._slot_of, self._entry_of, self._items = {}, [], []
        self._alive = np.zeros(0, dtype=bool)
        self._segments, self._postings, self._dead_postings = [], 0, 0
        self._posting_counts = []
        self._insert(live)

    # --- search ---------------------------------------------------------------------------------

    def _votes(self, query: Items) -> tuple[np.ndarray, np.ndarray]:
        """(slots, offsets) of every vote of the query's items."""
        usable = np.flatnonzero(voting_items(query))
        keys = match_keys(query[usable])
        ranges = [
            (np.searchsorted(s.keys, keys, "left"), np.searchsorted(s.keys, keys, "right"))
            for s in self._segments
        ]
        per_key = sum((ends - starts for starts, ends in ranges), np.zeros(len(keys), np.int64))
        stop = max(_MIN_STOP_POSTINGS, (_STOP_FACTOR * self._postings) >> KEY_BITS)
        wanted = per_key <= stop
        slots: list[np.ndarray] = []
        offsets: list[np.ndarray] = []
        for segment, (starts, ends) in zip(self._segments, ranges, strict=True):
            owners, members = expand_ranges(starts[wanted], ends[wanted])
            slots.append(segment.slots[members])
            offsets.append(segment.positions[members] - usable[wanted][owners])
        all_slots = np.concatenate(slots) if slots else np.zeros(0, np.int64)
        all_offsets = np.concatenate(offsets) if offsets else np.zeros(0, np.int64)
        alive = self._alive[all_slots]
        return all_slots[alive], all_offsets[alive]

    def _candidates(self, query: Items) -> list[tuple[int, int]]:
        """(slot, offset) of the most voted alignment of each entry worth verifying."""
        slots, offsets = self._votes(query)
        if not len(slots):
            return []
        codes = (slots << _OFFSET_BITS) | (offsets + _OFFSET_BIAS)
        values, counts = np.unique(codes, return_counts=True)
        smoothed = smooth_votes(values, counts)
        enough = smoothed >= MIN_VOTES
        values, smoothed = values[enough], smoothed[enough]
        # Most votes first; then keep each slot's first (its best offset).
        order = np.lexsort((values, -smoothed))
        best_slots = values[order] >> _OFFSET_BITS
        _, firsts = np.unique(best_slots, return_index=True)
        chosen = order[np.sort(firsts)][:MAX_VERIFIED]
        return [
            (int(code >> _OFFSET_BITS), int((code & ((1 << _OFFSET_BITS) - 1)) - _OFFSET_BIAS))
            for code in values[chosen]
        ]

    def search(self, value: str, max_distance: float) -> list[Hit]:
        query = parse_items(value)
        if len(query) < self._window or not self._slot_of or not max_distance >= 0:
            return []
        hits: list[Hit] = []
        for slot, centre in self._candidates(query):
            bank = self._items[slot]
            if bank is None:
                continue
            found = best_alignment(
                query,
                bank,
                [centre],
                max_percent=max_distance,
                window=self._window,
                min_contrast=self._min_contrast,
            )
            if found is None:
                continue
            hits.append(
                Hit(
                    self._entry_of[slot],
                    round(found.error_percent, 2),
                    {
                        "query_offset_seconds": round(found.query_start * ITEM_SECONDS, 2),
                        "bank_offset_seconds": round(found.bank_start * ITEM_SECONDS, 2),
                        "overlap_seconds": round(seconds_of_items(found.length), 2),
                        "contrast_percent": round(found.contrast, 1),
                    },
                )
            )
        hits.sort(key=lambda hit: (hit.distance, hit.entry_id))
        return hits

    def __len__(self) -> int:
        return len(self._slot_of)
