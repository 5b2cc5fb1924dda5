"""MinHash and shingle indexes: the add/replace/remove contract, agreement with the signals'
own distances (no misses), excerpts, and a bank of a few thousand texts."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bastion.errors import InvalidSignal
from bastion.index.base import Hit
from bastion.index.minhash import MinHashIndex, band_rows, most_differences
from bastion.index.shingles import ShingleIndex
from bastion.signals.text import (
    MINHASH_SIZE,
    TextMinHashSignal,
    TextShinglesSignal,
    format_minhash,
)
from tests.signals.test_text_signals import edited, make_text, signal_value


def _minhash(text: str) -> str:
    return signal_value(text, "text_minhash")


def _shingles(text: str) -> str:
    return signal_value(text, "text_shingles")


def _oracle(
    signal: type[TextMinHashSignal] | type[TextShinglesSignal],
    bank: dict[int, str],
    query: str,
    radius: float,
) -> list[tuple[int, float]]:
    """What the index must answer, from the signal's own distance."""
    found = [(entry_id, float(signal.distance(query, value))) for entry_id, value in bank.items()]
    return sorted(((e, d) for e, d in found if d <= radius), key=lambda hit: (hit[1], hit[0]))


def _pairs(hits: list[Hit]) -> list[tuple[int, float]]:
    return [(hit.entry_id, hit.distance) for hit in hits]


# --- banding --------------------------------------------------------------------------------------


def test_band_layout_covers_every_position_once() -> None:
    for bands in (1, 7, 40, 65, 128):
        layout = band_rows(bands)
        positions = layout[layout >= 0]
        assert sorted(positions.tolist()) == list(range(MINHASH_SIZE))
        sizes = (layout >= 0).sum(axis=1)
        assert sizes.max() - sizes.min() <= 1
    assert most_differences(50) == 64 and most_differences(-1) == -1
    assert most_differences(float("nan")) == -1 and most_differences(100) == MINHASH_SIZE


def test_minhash_index_finds_every_value_within_the_guaranteed_distance() -> None:
    """Pigeonhole completeness: synthetic values differing in exactly d positions."""
    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**32, size=MINHASH_SIZE, dtype=np.uint32)
    index = MinHashIndex()
    bank: dict[int, str] = {}
    for entry_id, differing in enumerate(range(0, MINHASH_SIZE + 1, 4)):
        value = base.copy()
        where = rng.choice(MINHASH_SIZE, size=differing, replace=False)
        value[where] ^= np.uint32(0x5A5A5A5A)
        bank[entry_id] = format_minhash(value)
    for entry_id in range(1000, 1600):  # unrelated values around them
        bank[entry_id] = format_minhash(rng.integers(0, 2**32, size=MINHASH_SIZE, dtype=np.uint32))
    index.add(bank.items())
    query = format_minhash(base)
    for radius in (0, 10, 30, 50, 75, 100):
        assert _pairs(index.search(query, radius)) == _oracle(
            TextMinHashSignal, bank, query, radius
        )
    assert index.search(query, -1) == [] and index.search(query, float("nan")) == []


# --- MinHash index ----------------------------------------------------------------------------


def test_minhash_index_adds_replaces_removes_and_explains() -> None:
    rng = random.Random("minhash-index")
    texts = [make_text(rng, 120) for _ in range(4)]
    index = MinHashIndex()
    index.add([(1, _minhash(texts[0])), (2, _minhash(texts[1])), (3, _minhash(texts[2]))])
    assert len(index) == 3
    copy = _minhash(edited(rng, texts[0], 2))
    hits = index.search(copy, TextMinHashSignal.default_threshold)
    assert [hit.entry_id for hit in hits] == [1]
    assert hits[0].detail is not None
    assert hits[0].detail["jaccard"] == pytest.approx(1 - hits[0].distance / 100, abs=0.01)
    index.add([(1, _minhash(texts[3]))])  # replaced: 1 is now another text
    assert index.search(copy, 50) == [] and len(index) == 3
    index.add([(4, _minhash(texts[0]))])
    index.remove([4, 99])
    assert index.search(copy, 50) == []
    assert index.search_many([_minhash(texts[1]), _minhash(texts[2])], 0) == [
        [Hit(2, 0.0, {"jaccard": 1.0})],
        [Hit(3, 0.0, {"jaccard": 1.0})],
    ]
    index.remove([1, 2, 3])
    assert len(index) == 0 and index.search(_minhash(texts[1]), 100) == []
    with pytest.raises(InvalidSignal):
        index.search("mh1:AAAA", 10)
    with pytest.raises(InvalidSignal):
        index.add([(5, "not a value")])


def test_minhash_index_at_scale_agrees_with_the_signal() -> None:
    rng = random.Random("minhash-scale")
    originals = {entry_id: make_text(rng, rng.randint(40, 200)) for entry_id in range(2000)}
    bank = {entry_id: _minhash(text) for entry_id, text in originals.items()}
    index = MinHashIndex()
    entries = list(bank.items())
    for start in range(0, len(entries), 300):  # several batches: band table and pending part
        index.add(entries[start : start + 300])
    removed = list(range(0, 2000, 10))
    index.remove(removed)
    for entry_id in removed:
        del bank[entry_id]
    queries = []
    for entry_id in rng.sample(sorted(originals), 40):
        queries.append(_minhash(edited(rng, originals[entry_id], rng.randint(0, 4))))
    queries.append(_minhash(make_text(rng, 100)))
    results = index.search_many(queries, TextMinHashSignal.default_threshold)
    for query, hits in zip(queries, results, strict=True):
        expected = _oracle(TextMinHashSignal, bank, query, TextMinHashSignal.default_threshold)
        assert _pairs(hits) == expected
    found = sum(1 for hits in results[:-1] if hits)
    assert found >= 30  # most edited copies of live entries (a tenth were removed)
    assert results[-1] == []


# --- shingle index ----------------------------------------------------------------------------


def test_shingle_index_finds_an_excerpt_of_a_long_text() -> None:
    rng = random.Random("excerpt-index")
    manifesto = make_text(rng, 5000)
    others = {entry_id: make_text(rng, 300) for entry_id in range(2, 40)}
    index = ShingleIndex()
    index.add([(1, _shingles(manifesto))])
    index.add((entry_id, _shingles(text)) for entry_id, text in others.items())
    words = manifesto.split()
    excerpt = " ".join(words[3100:3160])
    hits = index.search(_shingles(excerpt), TextShinglesSignal.default_threshold)
    assert [hit.entry_id for hit in hits] == [1] and hits[0].distance == 0.0
    assert hits[0].detail == {"containment": 1.0, "matched_shingles": 56, "query_shingles": 56}
    copy = _shingles(edited(rng, excerpt, 1))
    assert [hit.entry_id for hit in index.search(copy, TextShinglesSignal.default_threshold)] == [1]
    # The MinHash of the excerpt is nowhere near the whole manifesto's.
    minhashes = MinHashIndex()
    minhashes.add([(1, _minhash(manifesto))])
    assert minhashes.search(_minhash(excerpt), TextMinHashSignal.default_threshold) == []
    # Too short to score: nothing, unless everything is asked for.
    short = _shingles(" ".join(words[3100:3110]))
    assert index.search(short, 99) == []
    assert len(index.search(short, 100)) == len(index) == 39


def test_shingle_index_adds_replaces_and_removes() -> None:
    rng = random.Random("shingle-contract")
    texts = [make_text(rng, 200) for _ in range(4)]
    index = ShingleIndex()
    index.add([(1, _shingles(texts[0])), (2, _shingles(texts[1])), (1, _shingles(texts[2]))])
    assert len(index) == 2  # 1 repeated in the batch: the last value counts
    assert [h.entry_id for h in index.search(_shingles(texts[2]), 0)] == [1]
    assert index.search(_shingles(texts[0]), 20) == []
    index.add([(2, _shingles(texts[3]))])
    assert index.search(_shingles(texts[1]), 20) == []
    assert [h.entry_id for h in index.search(_shingles(texts[3]), 0)] == [2]
    index.remove([2, 77])
    assert index.search_many([_shingles(texts[3]), _shingles(texts[2])], 20) == [
        [],
        [Hit(1, 0.0, index.search(_shingles(texts[2]), 0)[0].detail)],
    ]
    index.remove([1])
    assert len(index) == 0 and index.search(_shingles(texts[2]), 100) == []
    with pytest.raises(InvalidSignal):
        index.search("sh1:", 20)


def test_shingle_index_at_scale_agrees_with_the_signal_and_stays_small() -> None:
    rng = random.Random("shingle-scale")
    texts = {entry_id: make_text(rng, rng.randint(30, 400)) for entry_id in range(2000)}
    bank = {entry_id: _shingles(text) for entry_id, text in texts.items()}
    index = ShingleIndex()
    entries = list(bank.items())
    for start in range(0, len(entries), 97):  # many small batches: segments merge
        index.add(entries[start : start + 97])
    for entry_id in range(0, 2000, 3):
        del bank[entry_id]
    index.remove(range(0, 2000, 3))
    index.add([(5000, _shingles(texts[3]))])  # a removed text banked again under a new id
    bank[5000] = _shingles(texts[3])
    queries = []
    for entry_id in rng.sample(sorted(texts), 30):
        words = texts[entry_id].split()
        start = rng.randrange(max(1, len(words) - 40))
        queries.append(
            _shingles(edited(rng, " ".join(words[start : start + 40]), rng.randint(0, 2)))
        )
    for radius in (TextShinglesSignal.default_threshold, 60):
        for query, hits in zip(queries, index.search_many(queries, radius), strict=True):
            assert _pairs(hits) == _oracle(TextShinglesSignal, bank, query, radius)
    banked_shingles = sum(len(v) for v in bank.values()) * 3 // 4  # base64: 4 chars per 3 bytes
    # 12 bytes per live shingle, plus dead postings not yet merged away and per-entry arrays.
    assert index.memory_bytes() < 2 * 12 * (banked_shingles // 8) + 64 * 2001
