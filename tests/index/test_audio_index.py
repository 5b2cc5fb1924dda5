"""The audio index: offset-tolerant matches of excerpts, embeddings and re-encodes, and nothing
for unrelated audio, silence or noise; plus the add/replace/remove contract at some scale."""

from __future__ import annotations

import numpy as np
import pytest

from bastion.errors import InvalidSignal
from bastion.index.audio import AudioIndex
from bastion.index.base import Hit
from bastion.signals.audio import ChromaprintSignal
from bastion.signals.audio_items import format_items, parse_items
from tests.conftest import needs_chromaprint
from tests.signals.test_audio import RATE, encode_audio, synth_music, value_of

pytestmark = needs_chromaprint

THRESHOLD = ChromaprintSignal.default_threshold
SILENCE, NOISE = 5, 6


@pytest.fixture(scope="module")
def tracks() -> dict[int, np.ndarray]:
    """Entry id -> PCM of the banked audio: one 60 s track, three 30 s ones."""
    return {1: synth_music(1, 60.0), **{seed: synth_music(seed, 30.0) for seed in (2, 3, 4)}}


@pytest.fixture(scope="module")
def index(tracks: dict[int, np.ndarray]) -> AudioIndex:
    rng = np.random.default_rng(1)
    built = AudioIndex()
    built.add([(entry_id, value_of(pcm)) for entry_id, pcm in tracks.items()])
    built.add(
        [
            (SILENCE, value_of(np.zeros(20 * RATE, dtype=np.float32))),
            (NOISE, value_of(rng.standard_normal(20 * RATE).astype(np.float32) * 0.1)),
        ]
    )
    return built


def only_hit(hits: list[Hit], entry_id: int) -> dict[str, object]:
    assert [hit.entry_id for hit in hits] == [entry_id]
    assert hits[0].detail is not None
    return hits[0].detail


def test_a_reencoded_excerpt_is_found_where_it_starts(
    index: AudioIndex, tracks: dict[int, np.ndarray]
) -> None:
    first = round(17.3 * RATE)
    excerpt = encode_audio(tracks[1][first : first + 20 * RATE], "aac", "mp4", bit_rate=96_000)
    hits = index.search(value_of(excerpt), THRESHOLD)
    detail = only_hit(hits, 1)
    assert detail["bank_offset_seconds"] == pytest.approx(17.3, abs=0.13)  # one item step
    assert detail["query_offset_seconds"] == pytest.approx(0.0, abs=0.13)
    assert detail["overlap_seconds"] == pytest.approx(20.0, abs=0.5)
    assert hits[0].distance <= 8  # measured 4: the trim is off the item grid


def test_a_banked_track_inside_a_longer_query_is_found(
    index: AudioIndex, tracks: dict[int, np.ndarray]
) -> None:
    query = np.concatenate([synth_music(7, 12.0), tracks[2], synth_music(8, 10.0)])
    hits = index.search(value_of(query), THRESHOLD)
    detail = only_hit(hits, 2)
    assert detail["query_offset_seconds"] == pytest.approx(12.0, abs=0.13)
    assert detail["bank_offset_seconds"] == pytest.approx(0.0, abs=0.13)
    assert detail["overlap_seconds"] == pytest.approx(30.0, abs=2.0)
    assert hits[0].distance <= 8


def test_a_reencoded_copy_matches_closely(index: AudioIndex, tracks: dict[int, np.ndarray]) -> None:
    copy = value_of(encode_audio(tracks[3] * 0.5, "aac", "mp4", bit_rate=96_000))
    hits = index.search(copy, THRESHOLD)
    detail = only_hit(hits, 3)
    assert hits[0].distance <= 3  # measured 1
    assert detail["bank_offset_seconds"] == detail["query_offset_seconds"] == 0.0
    assert ChromaprintSignal.distance(copy, value_of(tracks[3])) == np.ceil(hits[0].distance)


def test_unrelated_audio_silence_and_noise_match_nothing(index: AudioIndex) -> None:
    rng = np.random.default_rng(2)
    tone = 0.3 * np.sin(np.arange(20 * RATE) * 2 * np.pi * 440 / RATE)
    queries = [
        value_of(synth_music(9, 30.0)),
        value_of(synth_music(10, 45.0)),
        value_of(np.zeros(30 * RATE, dtype=np.float32)),
        value_of(rng.standard_normal(30 * RATE).astype(np.float32) * 0.1),
        value_of(tone.astype(np.float32)),
    ]
    assert index.search_many(queries, THRESHOLD) == [[] for _ in queries]
    # Not even at a threshold far above the default.
    assert index.search_many(queries, 35) == [[] for _ in queries]


def test_a_query_needs_ten_seconds_in_common(
    index: AudioIndex, tracks: dict[int, np.ndarray]
) -> None:
    first = 5 * RATE
    short, enough = (tracks[4][first : first + round(s * RATE)] for s in (9.0, 10.5))
    assert index.search(value_of(short), THRESHOLD) == []
    assert [hit.entry_id for hit in index.search(value_of(enough), THRESHOLD)] == [4]


def test_max_distance_is_the_bit_error_percent(index: AudioIndex) -> None:
    rng = np.random.default_rng(3)
    banked = parse_items(index_value(index, 1))
    flips = rng.random((len(banked), 32)) < 0.15  # about 15% of the bits flipped
    weights = np.uint32(1) << np.arange(32, dtype=np.uint32)
    noisy = banked ^ (flips * weights).sum(axis=1).astype(np.uint32)
    hits = index.search(format_items(noisy), THRESHOLD)
    assert [hit.entry_id for hit in hits] == [1]
    assert 13 < hits[0].distance < 17
    assert index.search(format_items(noisy), 12) == []
    assert ChromaprintSignal.distance(format_items(noisy), index_value(index, 1)) == np.ceil(
        hits[0].distance
    )


def index_value(index: AudioIndex, entry_id: int) -> str:
    items = index._items[index._slot_of[entry_id]]
    assert items is not None
    return format_items(items)


# --- the index contract, on random items ---------------------------------------------------------


def random_items(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.integers(0, 2**32, size=count, dtype=np.uint32)


def test_adds_replaces_removes_and_skips_short_entries() -> None:
    rng = np.random.default_rng(4)
    first, second, short = random_items(rng, 300), random_items(rng, 300), random_items(rng, 40)
    index = AudioIndex()
    index.add([(1, format_items(first)), (2, format_items(second)), (3, format_items(short))])
    assert len(index) == 2  # 40 items (under 10 s) can never match
    assert [hit.entry_id for hit in index.search(format_items(first[50:200]), 0)] == [1]
    index.add([(1, format_items(second)), (2, format_items(first))])  # swapped
    assert [hit.entry_id for hit in index.search(format_items(first[50:200]), 0)] == [2]
    index.remove([2, 99])
    assert index.search(format_items(first), THRESHOLD) == []
    found = index.search_many([format_items(second), format_items(first)], 0)
    assert [[hit.entry_id for hit in hits] for hits in found] == [[1], []]
    assert found[0][0].distance == 0.0
    assert len(index) == 1
    index.remove([1])
    assert len(index) == 0 and index.search(format_items(second), THRESHOLD) == []


def test_many_entries_in_batches_with_removals() -> None:
    """Segments merge and dead postings are dropped without losing or inventing a match."""
    rng = np.random.default_rng(5)
    bank = {entry_id: random_items(rng, int(rng.integers(80, 400))) for entry_id in range(300)}
    bank[300] = bank[7].copy()  # a duplicate: both must be found
    index = AudioIndex()
    ids = list(bank)
    for start in range(0, len(ids), 37):
        index.add((i, format_items(bank[i])) for i in ids[start : start + 37])
    removed = set(ids[::3]) - {7, 300}
    index.remove(removed)
    assert len(index) == len(bank) - len(removed)
    for entry_id in [7, *ids[1:60:5]]:
        items = bank[entry_id]
        start = int(rng.integers(0, len(items) - 70))
        excerpt = items[start : start + 70].copy()
        excerpt ^= np.uint32(1) << rng.integers(0, 32, size=len(excerpt)).astype(np.uint32)
        query = np.concatenate([random_items(rng, 25), excerpt, random_items(rng, 10)])
        hits = index.search(format_items(query), THRESHOLD)
        expected = [] if entry_id in removed else [entry_id] + ([300] if entry_id == 7 else [])
        assert sorted(hit.entry_id for hit in hits) == expected
        for hit in hits:
            assert hit.detail is not None
            bank_at, query_at = (
                hit.detail["bank_offset_seconds"],
                hit.detail["query_offset_seconds"],
            )
            assert isinstance(bank_at, float) and isinstance(query_at, float)
            shift = bank_at - query_at
            assert shift == pytest.approx((start - 25) * 1365 / 11025, abs=0.01)
            assert hit.distance <= 5  # one bit in 32 flipped per item: ~3%


def test_an_empty_index_finds_nothing_and_bad_values_are_invalid() -> None:
    index = AudioIndex()
    assert index.search(format_items(np.arange(100, dtype=np.uint32)), THRESHOLD) == []
    with pytest.raises(InvalidSignal, match="cp1"):
        index.search("not a value", THRESHOLD)
    with pytest.raises(InvalidSignal):
        index.add([(1, "cp1:!!")])
