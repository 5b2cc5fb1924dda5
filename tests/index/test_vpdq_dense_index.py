"""The dense-frame index: a query matches on the share of its frames found, at any offset."""

from __future__ import annotations

import numpy as np

from bastion.index.vpdq import VpdqMatchRule
from bastion.index.vpdq_dense import DenseVpdqIndex
from bastion.signals.vpdq_format import VpdqFrame, format_vpdq


def _hashes(seed: int, count: int) -> list[str]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex() for _ in range(count)]


def _video(hashes: list[str], step: float, quality: int = 90) -> str:
    return format_vpdq(
        [VpdqFrame(n, quality, value, round(n * step, 3)) for n, value in enumerate(hashes)]
    )


def test_a_query_whose_frames_are_among_the_dense_ones_matches_with_its_share() -> None:
    dense = _hashes(1, 80)  # 10 s at 8 frames a second
    index = DenseVpdqIndex(VpdqMatchRule())
    index.add([(5, _video(dense, 0.125)), (6, _video(_hashes(2, 80), 0.125))])
    query = _video(dense[3::8], 1.0)  # once a second, starting 3/8 s in
    [hit] = index.search(query, 31)
    assert hit.entry_id == 5 and hit.distance == 0
    assert hit.detail == {"query_match_percent": 100.0, "query_segments": [[0.0, 9.0]]}
    half = _video(dense[3::8][:5] + _hashes(3, 5), 1.0)
    assert index.search(half, 31) == []  # 50% < 80%
    assert len(index) == 2


def test_low_quality_frames_removal_and_re_adding() -> None:
    dense = _hashes(4, 40)
    index = DenseVpdqIndex(VpdqMatchRule())
    index.add([(1, _video(dense, 0.125, quality=10))])  # flat frames: nothing to match
    assert len(index) == 0 and index.search(_video(dense[::8], 1.0), 31) == []
    index.add([(1, _video(dense, 0.125))])
    assert [h.entry_id for h in index.search(_video(dense[::8], 1.0), 31)] == [1]
    index.remove([1, 2])
    assert index.search(_video(dense[::8], 1.0), 31) == [] and len(index) == 0
