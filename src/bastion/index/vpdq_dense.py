"""Index of banked videos' dense frames: a copy's frames looked up one by one, at any cut.

A banked video keeps, besides its once-a-second vPDQ, frames sampled eight times a second
(``hash_video(dense=True)``). A copy cut at an arbitrary moment samples its own seconds between
the banked ones; each of its frames is then within 1/16 s of a dense banked frame. Only the
query's share counts here (the share of the banked video found would be an eighth at best), so
the index needs no per-video frame bookkeeping beyond counts, and the frames go into one exact
multi-index PDQ index (``index/pdq.py``) instead of the brute-force scan the plain vPDQ index
does: eight times the frames must not cost eight times the lookup.

Rows are keyed ``entry_id << FRAME_BITS | frame`` so an entry's rows are removed together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from bastion.index.base import Hit, SignalIndex
from bastion.index.pdq import PdqIndex
from bastion.index.vpdq import VpdqMatchRule, segments
from bastion.signals.vpdq_format import parse_vpdq

FRAME_BITS = 24  # up to 16.7 million dense frames per video: 24 days at 8 a second


class DenseVpdqIndex(SignalIndex):
    signal_type = "vpdq_dense"

    def __init__(self, rule: VpdqMatchRule) -> None:
        self._rule = rule
        self._frames = PdqIndex()
        self._counts: dict[int, int] = {}  # entry id -> rows it holds

    def add(self, entries: Iterable[tuple[int, str]]) -> None:
        rows: list[tuple[int, str]] = []
        for entry_id, value in dict(entries).items():
            self.remove([entry_id])
            usable = [f for f in parse_vpdq(value) if f.quality >= self._rule.min_quality]
            usable = usable[: 1 << FRAME_BITS]
            if usable:
                self._counts[entry_id] = len(usable)
                rows.extend(((entry_id << FRAME_BITS) | n, f.pdq) for n, f in enumerate(usable))
        if rows:
            self._frames.add(rows)

    def remove(self, entry_ids: Iterable[int]) -> None:
        rows: list[int] = []
        for entry_id in entry_ids:
            count = self._counts.pop(entry_id, 0)
            rows.extend((entry_id << FRAME_BITS) | n for n in range(count))
        if rows:
            self._frames.remove(rows)

    def search(self, value: str, max_distance: float) -> list[Hit]:
        frames = [f for f in parse_vpdq(value) if f.quality >= self._rule.min_quality]
        if not frames or not self._counts:
            return []
        found: defaultdict[int, dict[int, float]] = defaultdict(dict)  # entry -> frame -> best
        for number, hits in enumerate(
            self._frames.search_many([f.pdq for f in frames], max_distance)
        ):
            for hit in hits:
                entry_id = hit.entry_id >> FRAME_BITS
                best = found[entry_id].get(number)
                if best is None or hit.distance < best:
                    found[entry_id][number] = hit.distance
        results: list[Hit] = []
        for entry_id, matched in found.items():
            percent = 100.0 * len(matched) / len(frames)
            if percent < self._rule.query_match_percent:
                continue
            detail: dict[str, object] = {
                "query_match_percent": round(percent, 1),
                "query_segments": segments([frames[n].seconds for n in matched]),
            }
            distance = sum(matched.values()) / len(matched)
            results.append(Hit(entry_id, distance, detail))
        results.sort(key=lambda hit: (hit.distance, hit.entry_id))
        return results

    def frame_hits(self, values: list[str], max_distance: float) -> list[list[Hit]]:
        """Per PDQ value, the banked videos with a dense frame within ``max_distance`` (a hit's
        ``entry_id`` is the video's; one hit per frame found). For sampled live frames, which
        are matched one at a time rather than as a whole video."""
        return [
            [Hit(hit.entry_id >> FRAME_BITS, hit.distance) for hit in hits]
            for hits in self._frames.search_many(values, max_distance)
        ]

    def __len__(self) -> int:
        return len(self._counts)
