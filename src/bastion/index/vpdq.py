"""vPDQ index: videos as bags of PDQ frame hashes.

A query video matches a bank video when enough of its frames are within the frame threshold of some
frame of the bank video (the query is an excerpt or copy), or enough of the bank video's frames are
found in the query (the bank video is embedded in a longer upload). Order and speed do not matter,
so trims, re-ordering and speed changes still match. Frames below the PDQ quality floor are ignored
on both sides: flat frames (black screens, fades) would otherwise match everything.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bastion.index.base import Hit, SignalIndex
from bastion.index.pdq import Words, hamming_matrix, pack_pdq
from bastion.signals.vpdq_format import VpdqFrame, parse_vpdq

# Query rows x bank frames per numpy call; bounds the XOR temporary to about 64 MB.
_CELLS_PER_CALL = 2_000_000


@dataclass(frozen=True, slots=True)
class VpdqMatchRule:
    min_quality: int = 50
    query_match_percent: float = 80.0
    bank_match_percent: float = 80.0


def segments(seconds: list[float], gap: float = 2.0) -> list[list[float]]:
    """Collapse matched timestamps into [start, end] spans for a readable explanation."""
    spans: list[list[float]] = []
    for second in sorted(seconds):
        if spans and second - spans[-1][1] <= gap:
            spans[-1][1] = second
        else:
            spans.append([second, second])
    return spans


class VpdqIndex(SignalIndex):
    signal_type = "vpdq"

    def __init__(self, rule: VpdqMatchRule) -> None:
        self._rule = rule
        self._ids: list[int] = []
        self._starts: list[int] = []
        self._counts: list[int] = []
        self._seconds: list[float] = []
        self._words: Words = np.empty((0, 4), dtype=np.uint64)

    def _usable(self, frames: list[VpdqFrame]) -> list[VpdqFrame]:
        return [frame for frame in frames if frame.quality >= self._rule.min_quality]

    def add(self, entries: Iterable[tuple[int, str]]) -> None:
        latest = dict(entries)  # re-adding an id replaces it, within a batch too
        self.remove(latest)
        blocks: list[Words] = [self._words]
        for entry_id, value in latest.items():
            frames = self._usable(parse_vpdq(value))
            if not frames:
                continue  # nothing matchable: an all-flat video
            self._ids.append(entry_id)
            self._starts.append(sum(self._counts))
            self._counts.append(len(frames))
            self._seconds.extend(frame.seconds for frame in frames)
            blocks.append(pack_pdq(frame.pdq for frame in frames))
        self._words = np.vstack(blocks)

    def remove(self, entry_ids: Iterable[int]) -> None:
        gone = set(entry_ids)
        keep = [i for i, entry_id in enumerate(self._ids) if entry_id not in gone]
        if len(keep) == len(self._ids):
            return
        # Video banks are small next to photo banks: rebuilding the flat arrays is cheap enough.
        rows = [range(self._starts[i], self._starts[i] + self._counts[i]) for i in keep]
        frame_rows = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64)
        self._words = self._words[frame_rows]
        self._seconds = [self._seconds[row] for row in frame_rows.tolist()]
        self._ids = [self._ids[i] for i in keep]
        self._counts = [self._counts[i] for i in keep]
        ends = itertools.accumulate(self._counts)
        self._starts = [end - count for end, count in zip(ends, self._counts, strict=True)]

    def search(self, value: str, max_distance: float) -> list[Hit]:
        frames = self._usable(parse_vpdq(value))
        if not frames or not self._ids:
            return []
        queries = pack_pdq(frame.pdq for frame in frames)
        total = len(self._words)
        starts = np.asarray(self._starts)
        query_hits = np.zeros((len(frames), len(self._ids)), dtype=bool)
        bank_hits = np.zeros(total, dtype=bool)
        best = np.full(len(frames), 257, dtype=np.int32)
        rows_per_call = max(1, _CELLS_PER_CALL // max(total, 1))
        for first in range(0, len(frames), rows_per_call):
            distances = hamming_matrix(queries[first : first + rows_per_call], self._words)
            within = distances <= max_distance
            query_hits[first : first + rows_per_call] = np.logical_or.reduceat(
                within, starts, axis=1
            )
            bank_hits |= within.any(axis=0)
            best[first : first + rows_per_call] = distances.min(axis=1)
        query_percent = query_hits.mean(axis=0) * 100.0
        bank_percent = np.add.reduceat(bank_hits, starts) / np.asarray(self._counts) * 100.0
        hits: list[Hit] = []
        for column, entry_id in enumerate(self._ids):
            q_pct, b_pct = float(query_percent[column]), float(bank_percent[column])
            if q_pct < self._rule.query_match_percent and b_pct < self._rule.bank_match_percent:
                continue
            matched_rows = np.nonzero(query_hits[:, column])[0]
            start, count = self._starts[column], self._counts[column]
            bank_seconds = [
                self._seconds[start + i] for i in np.nonzero(bank_hits[start : start + count])[0]
            ]
            hits.append(
                Hit(
                    entry_id,
                    float(best[matched_rows].mean()) if len(matched_rows) else 0.0,
                    {
                        "query_match_percent": round(q_pct, 1),
                        "bank_match_percent": round(b_pct, 1),
                        "query_segments": segments([frames[i].seconds for i in matched_rows]),
                        "bank_segments": segments(bank_seconds),
                    },
                )
            )
        hits.sort(key=lambda hit: (hit.distance, hit.entry_id))
        return hits

    def __len__(self) -> int:
        return len(self._ids)
