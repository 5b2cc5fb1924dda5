"""The equality index and the vPDQ index honour the same add/replace/remove contract."""

from __future__ import annotations

import numpy as np

from bastion.index.base import Hit
from bastion.index.exact import ExactIndex
from bastion.index.vpdq import VpdqIndex, VpdqMatchRule
from bastion.signals.vpdq_format import VpdqFrame, format_vpdq
from tests.index.helpers import random_words, to_hex


def test_exact_index_adds_replaces_and_removes() -> None:
    index = ExactIndex("md5")
    index.add([(1, "a"), (2, "b"), (3, "a"), (2, "c")])  # 2 re-added: now "c"
    assert index.search("a") == [Hit(1, 0.0), Hit(3, 0.0)]
    assert index.search("b") == []
    assert index.search("c") == [Hit(2, 0.0)]
    assert len(index) == 3
    index.add([(3, "b")])
    assert index.search("a") == [Hit(1, 0.0)]
    index.remove([1, 99])  # 99 was never there
    assert index.search("a") == []
    assert index.search_many(["b", "c", "z"], 0) == [[Hit(3, 0.0)], [Hit(2, 0.0)], []]
    assert len(index) == 2
    index.remove([2, 3])
    assert len(index) == 0 and index.search("b") == []


def video(words: np.ndarray) -> str:
    return format_vpdq(
        [VpdqFrame(i, 100, value, float(i)) for i, value in enumerate(to_hex(words))]
    )


def test_vpdq_index_replaces_and_removes_videos() -> None:
    rng = np.random.default_rng(2)
    first, second, third = (random_words(rng, 5) for _ in range(3))
    index = VpdqIndex(VpdqMatchRule())
    index.add([(1, video(first)), (2, video(second)), (3, video(third))])
    assert [hit.entry_id for hit in index.search(video(second), 0)] == [2]
    index.remove([2, 42])
    assert index.search(video(second), 0) == []
    assert [hit.entry_id for hit in index.search(video(third), 0)] == [3]  # frames still line up
    index.add([(1, video(second))])
    assert [hit.entry_id for hit in index.search(video(second), 0)] == [1]
    assert index.search(video(first), 0) == []
    assert len(index) == 2
