"""PDQ index: exact Hamming-distance search over 256-bit hashes.

Hashes are packed as four uint64 words; a query XORs against all of them and counts bits with
``numpy.bitwise_count``, so every entry within the threshold is found (exhaustive, 100% recall).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from bastion.index.base import Hit, SignalIndex

Words = npt.NDArray[np.uint64]


def pack_pdq(hex_values: Iterable[str]) -> Words:
    """(N, 4) uint64 array from 64-hex-digit PDQ hashes (big-endian words, so bit order is kept)."""
    raw = b"".join(bytes.fromhex(value) for value in hex_values)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, 4)


def hamming_matrix(queries: Words, entries: Words) -> npt.NDArray[np.int32]:
    """Distances between every query row and every entry row, shape (Q, N)."""
    xor = np.bitwise_xor(queries[:, None, :], entries[None, :, :])
    distances: npt.NDArray[np.int32] = np.bitwise_count(xor).sum(axis=2, dtype=np.int32)
    return distances


class PdqIndex(SignalIndex):
    signal_type = "pdq"
    # Rows compared per numpy call: bounds the (Q, N, 4) temporary to a few tens of MB.
    _CHUNK = 262_144

    def __init__(self) -> None:
        self._ids: list[int] = []
        self._words: Words = np.empty((0, 4), dtype=np.uint64)

    def add(self, entries: Iterable[tuple[int, str]]) -> None:
        pairs = list(entries)
        if not pairs:
            return
        self._ids.extend(entry_id for entry_id, _ in pairs)
        self._words = np.vstack([self._words, pack_pdq(value for _, value in pairs)])

    def search(self, value: str, max_distance: float) -> list[Hit]:
        return self.search_many([value], max_distance)[0]

    def search_many(self, values: list[str], max_distance: float) -> list[list[Hit]]:
        results: list[list[Hit]] = [[] for _ in values]
        if not values or not self._ids:
            return results
        queries = pack_pdq(values)
        ids = np.asarray(self._ids, dtype=np.int64)
        step = max(1, self._CHUNK // len(values))
        for start in range(0, len(self._ids), step):
            distances = hamming_matrix(queries, self._words[start : start + step])
            rows, cols = np.nonzero(distances <= max_distance)
            for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
                results[row].append(Hit(int(ids[start + col]), float(distances[row, col])))
        for hits in results:
            hits.sort(key=lambda hit: (hit.distance, hit.entry_id))
        return results

    def __len__(self) -> int:
        return len(self._ids)
