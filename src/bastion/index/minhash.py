"""MinHash index: near-duplicate texts (``text_minhash``) found by LSH banding, then verified.

**Completeness.** The index contract is "no approximate misses", which plain LSH does not give.
Banding here is chosen so that it does, by the pigeonhole principle: the 128 positions are split
into ``B`` bands, and two values that differ in at most ``B - 1`` positions leave at least one
band whole, so they share that band's key. With ``B = D + 1`` bands, where ``D`` is the most
differing positions a distance within ``guaranteed_distance`` allows, every entry within that
distance is a candidate. A search with a larger ``max_distance`` scans every entry instead
(exact, and only a few hundred bytes per entry).

**Layout.** For the default threshold of 50 (J >= 0.5), ``D = 64``: 65 bands, 63 of 2 rows and
2 of 1 row. The S-curve (probability that an entry is a candidate at Jaccard ``J``) is
``1 - (1 - J)**2 * (1 - J**2)**63``: 1.00 at J = 0.5, 0.95 at 0.2, 0.57 at 0.1, 0.23 at 0.05,
and ~0 for unrelated texts (J ~ 0, only 32-bit value collisions). So it is a wide net for the
moderately similar texts a bank rarely holds many of, and every candidate is verified exactly
(128 uint32 comparisons) before it becomes a hit, so the net's width costs only time.

**Storage.** Values live in one (slots x 128) uint32 matrix (512 B per entry). The band keys
of all entries built so far are one sorted uint64 array with the uint32 slot of each key (12 B
per band, ~780 B per entry at 65 bands); entries added since are scanned directly until they
are an eighth of the index, then everything is rebuilt (a sort, so O(log n) amortised per added
entry). Removal clears the slot's live flag at once; dead slots are dropped at the next rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from bastion.index.base import Hit, SignalIndex
from bastion.signals.text import (
    MINHASH_DISTANCE_BY_DIFFERENCES,
    MINHASH_SIZE,
    TextMinHashSignal,
    parse_minhash,
)
from bastion.signals.text_normalize import mix64

_MIN_PENDING_BEFORE_REBUILD = 512
_REBUILD_SHARE = 8  # rebuild when entries outside the band table exceed 1/8 of those in it
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_DISTANCES = np.array(MINHASH_DISTANCE_BY_DIFFERENCES, dtype=np.float64)


def most_differences(max_distance: float) -> int:
    """Most differing positions a distance within ``max_distance`` allows; -1 for none."""
    if not max_distance >= 0:  # negative or NaN
        return -1
    allowed = np.flatnonzero(max_distance >= _DISTANCES)
    return int(allowed[-1]) if len(allowed) else -1


def band_rows(bands: int) -> npt.NDArray[np.intp]:
    """(bands x rows) positions of each band, -1 padded: the 128 positions as evenly as can be."""
    if not 1 <= bands <= MINHASH_SIZE:
        raise ValueError(f"bands must be between 1 and {MINHASH_SIZE}")
    rows = -(-MINHASH_SIZE // bands)
    layout = np.full((bands, rows), -1, dtype=np.intp)
    sizes = [MINHASH_SIZE // bands + (1 if b < MINHASH_SIZE % bands else 0) for b in range(bands)]
    start = 0
    for band, size in enumerate(sorted(sizes, reverse=True)):
        layout[band, :size] = np.arange(start, start + size)
        start += size
    return layout


class MinHashIndex(SignalIndex):
    def __init__(
        self,
        signal_type: str = TextMinHashSignal.name,
        guaranteed_distance: float = TextMinHashSignal.default_threshold,
    ) -> None:
        self.signal_type = signal_type
        self._guaranteed_differences = most_differences(guaranteed_distance)
        bands = min(MINHASH_SIZE, max(1, self._guaranteed_differences + 1))
        self._layout = band_rows(bands)
        # Each band's key is salted with its number, so one sorted array holds every band.
        self._band_salt = (np.arange(bands, dtype=np.uint64) + np.uint64(1)) * _GOLDEN
        self._values = np.zeros((0, MINHASH_SIZE), dtype=np.uint32)
        self._entry_ids = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=bool)
        self._used = 0  # slots in use (alive or dead)
        self._slot_of: dict[int, int] = {}
        self._built = 0  # slots [0, _built) are in the band table
        self._keys = np.zeros(0, dtype=np.uint64)
        self._key_slots = np.zeros(0, dtype=np.uint32)

    # --- changes ---------------------------------------------------------------------------------

    def add(self, entries: Iterable[tuple[int, str]]) -> None:
        batch = [(entry_id, parse_minhash(value)) for entry_id, value in entries]
        if not batch:
            return
        self._grow(self._used + len(batch))
        for entry_id, values in batch:
            self._forget(entry_id)
            slot = self._used
            self._values[slot] = values
            self._entry_ids[slot] = entry_id
            self._alive[slot] = True
            self._slot_of[entry_id] = slot
            self._used += 1
        pending = self._used - self._built
        if pending > max(_MIN_PENDING_BEFORE_REBUILD, self._built // _REBUILD_SHARE):
            self._rebuild()

    def remove(self, entry_ids: Iterable[int]) -> None:
        for entry_id in entry_ids:
            self._forget(entry_id)
        if self._used > _MIN_PENDING_BEFORE_REBUILD and len(self._slot_of) < self._used // 2:
            self._rebuild()

    def _forget(self, entry_id: int) -> None:
        slot = self._slot_of.pop(entry_id, None)
        if slot is not None:
            self._alive[slot] = False

    def _grow(self, needed: int) -> None:
        capacity = len(self._alive)
        if needed <= capacity:
            return
        capacity = max(needed, 2 * capacity, 64)
        values = np.zeros((capacity, MINHASH_SIZE), dtype=np.uint32)
        values[: self._used] = self._values[: self._used]
        ids = np.zeros(capacity, dtype=np.int64)
        ids[: self._used] = self._entry_ids[: self._used]
        alive = np.zeros(capacity, dtype=bool)
        alive[: self._used] = self._alive[: self._used]
        self._values, self._entry_ids, self._alive = values, ids, alive

    def _rebuild(self) -> None:
        """Drop dead slots and put every entry in the band table."""
        live = np.flatnonzero(self._alive[: self._used])
        self._values = self._values[live].copy()
        self._entry_ids = self._entry_ids[live].copy()
        self._alive = np.ones(len(live), dtype=bool)
        self._used = self._built = len(live)
        self._slot_of = {int(entry_id): slot for slot, entry_id in enumerate(self._entry_ids)}
        keys = self._band_keys(self._values).ravel()
        slots = np.repeat(np.arange(len(live), dtype=np.uint32), len(self._layout))
        order = np.argsort(keys, kind="stable")
        self._keys, self._key_slots = keys[order], slots[order]

    def _band_keys(self, values: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
        """(n x bands) keys: a hash of each band's positions, salted with the band number."""
        padded = np.concatenate([values, np.zeros((len(values), 1), dtype=np.uint32)], axis=1)
        total = np.broadcast_to(self._band_salt, (len(values), len(self._band_salt))).copy()
        for column in range(self._layout.shape[1]):
            # Position -1 (padding) reads the zero column, adding nothing.
            part = padded[:, self._layout[:, column]].astype(np.uint64)
            total = mix64(total ^ part)
        return total

    # --- search ----------------------------------------------------------------------------------

    def search(self, value: str, max_distance: float) -> list[Hit]:
        query = parse_minhash(value)
        differences = most_differences(max_distance)
        if differences < 0 or not self._slot_of:
            return []
        if differences <= self._guaranteed_differences:
            candidates = self._candidates(query)
        else:
            candidates = np.arange(self._used, dtype=np.int64)  # beyond the bands: scan all
        candidates = candidates[self._alive[candidates]]
        if len(candidates) == 0:
            return []
        differing = np.count_nonzero(self._values[candidates] != query, axis=1)
        keep = differing <= differences
        hits = [
            Hit(
                int(entry_id),
                float(_DISTANCES[d]),
                {"jaccard": round((MINHASH_SIZE - int(d)) / MINHASH_SIZE, 4)},
            )
            for entry_id, d in zip(
                self._entry_ids[candidates[keep]].tolist(), differing[keep].tolist(), strict=True
            )
        ]
        hits.sort(key=lambda hit: (hit.distance, hit.entry_id))
        return hits

    def _candidates(self, query: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
        """Slots sharing a band with ``query``, plus every slot not yet in the band table."""
        keys = self._band_keys(query[None, :])[0]
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        parts = [
            self._key_slots[start:stop].astype(np.int64)
            for start, stop in zip(lo, hi, strict=True)
            if stop > start
        ]
        parts.append(np.arange(self._built, self._used, dtype=np.int64))
        found: npt.NDArray[np.int64] = np.unique(np.concatenate(parts))
        return found

    def __len__(self) -> int:
        return len(self._slot_of)
