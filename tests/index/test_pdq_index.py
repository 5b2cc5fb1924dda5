"""PdqIndex answers exactly what a brute-force scan answers, however it was built or changed."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.errors import InvalidSignal
from bastion.index import pdq, pdq_layout, pdq_plan, pdq_segment
from bastion.index.base import Hit
from bastion.index.pdq import PdqIndex
from tests.index.helpers import flipped, oracle, random_words, to_hex

FIXTURE_OK = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None, max_examples=60
)


@pytest.fixture(params=["tables", "defaults"])
def sizes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``tables``: tiny segments get multi-index tables and always use them (never the scan),
    and every merge runs in the background, so small examples exercise the table code and
    searches during merges; ``defaults``: the shipped thresholds."""
    if request.param == "tables":
        monkeypatch.setattr(pdq_layout, "MIN_TABLE_ROWS", 16)
        monkeypatch.setattr(pdq, "BUFFER_ROWS", 16)
        monkeypatch.setattr(pdq, "INLINE_MERGE_ROWS", 0)
        monkeypatch.setattr(pdq_plan, "SCAN_QUERY_NS", math.inf)
    return str(request.param)


def planted(rng: np.random.Generator, queries: np.ndarray, base: int) -> np.ndarray:
    """Random rows plus, for the queries in turn, one row at every distance 0..40."""
    near = [flipped(rng, queries[d % len(queries)], d) for d in range(41)]
    return np.concatenate([random_words(rng, base), np.stack(near)])


@FIXTURE_OK
@given(
    seed=st.integers(0, 2**32 - 1),
    base=st.integers(0, 300),
    radius=st.one_of(st.integers(0, 48), st.integers(0, 256), st.floats(-2, 300)),
)
def test_search_returns_exactly_the_entries_within_the_threshold(
    sizes: str, seed: int, base: int, radius: float
) -> None:
    rng = np.random.default_rng(seed)
    queries = random_words(rng, 70)  # more than one query group
    words = planted(rng, queries, base)
    ids = rng.choice(10**9, size=len(words), replace=False).tolist()  # any order, any values
    index = PdqIndex()
    index.add(zip(ids, to_hex(words), strict=True))

    expected = oracle(dict(zip(ids, words, strict=True)), queries, radius)
    assert index.search_many(to_hex(queries), radius) == expected
    assert [index.search(query, radius) for query in to_hex(queries)] == expected
    assert len(index) == len(words)


OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "search"]), st.integers(0, 90)), max_size=25
)


@FIXTURE_OK
@given(seed=st.integers(0, 2**32 - 1), operations=OPERATIONS)
def test_interleaved_adds_removes_and_searches_match_the_oracle(
    sizes: str, seed: int, operations: list[tuple[str, int]]
) -> None:
    """Values are near copies of a few anchors, so searches hit many entries; ids repeat, so
    adds replace values, and removals hit live, dead and never-seen ids."""
    rng = np.random.default_rng(seed)
    anchors = random_words(rng, 5)
    index = PdqIndex()
    entries: dict[int, np.ndarray] = {}
    for kind, number in operations:
        if kind == "add":
            ids = rng.integers(0, 400, size=number).tolist()
            values = [flipped(rng, anchors[rng.integers(5)], rng.integers(0, 41)) for _ in ids]
            index.add(zip(ids, to_hex(np.stack(values)) if values else [], strict=True))
            entries.update(zip(ids, values, strict=True))  # the last of a repeated id wins
        elif kind == "remove":
            ids = rng.integers(0, 450, size=number).tolist()
            index.remove(ids)
            for entry_id in ids:
                entries.pop(entry_id, None)
        else:
            radius = int(rng.integers(0, 2 * number + 1))
            assert index.search_many(to_hex(anchors), radius) == oracle(entries, anchors, radius)
        assert len(index) == len(entries)
    assert index.search_many(to_hex(anchors), 40) == oracle(entries, anchors, 40)
    index.wait_for_merges()
    assert index.search_many(to_hex(anchors), 40) == oracle(entries, anchors, 40)
    assert len(index) == len(entries)


def test_changes_made_during_a_background_merge_survive_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The merge is held until the index has changed under it: removals, replacements and
    additions made meanwhile must all hold once the merged segment replaces the old two."""
    monkeypatch.setattr(pdq, "INLINE_MERGE_ROWS", 1000)
    gate = threading.Event()
    build = pdq_segment.Segment.build

    def held_build(ids: np.ndarray, words: np.ndarray) -> pdq_segment.Segment:
        if len(ids) > 20_000:
            assert gate.wait(10)
        return build(ids, words)

    monkeypatch.setattr(pdq_segment.Segment, "build", staticmethod(held_build))
    rng = np.random.default_rng(9)
    anchors = random_words(rng, 4)
    entries = {i: flipped(rng, anchors[i % 4], int(rng.integers(0, 41))) for i in range(23_000)}
    index = PdqIndex()
    index.add((i, to_hex(entries[i][None, :])[0]) for i in range(20_000))
    index.search(to_hex(anchors)[0], 31)  # indexes the first 20,000 inline
    index.add((i, to_hex(entries[i][None, :])[0]) for i in range(20_000, 23_000))
    index.search(to_hex(anchors)[0], 31)  # indexes 3,000 more: a merge starts, and is held
    assert len(index.segments) == 2

    index.remove(range(0, 23_000, 5))  # from both segments being merged
    for i in range(0, 23_000, 5):
        del entries[i]
    replaced = {i: flipped(rng, anchors[0], 3) for i in range(1, 23_000, 7)}
    index.add((i, to_hex(value[None, :])[0]) for i, value in replaced.items())
    entries |= replaced
    assert index.search_many(to_hex(anchors), 31) == oracle(entries, anchors, 31)

    gate.set()
    index.wait_for_merges()
    assert index.search_many(to_hex(anchors), 31) == oracle(entries, anchors, 31)
    assert len(index.segments) <= 2 and len(index) == len(entries)


def test_a_large_index_with_default_layout_finds_every_planted_duplicate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """20,000 rows: the shipped chunk layout, tables forced on, every distance 0..40."""
    monkeypatch.setattr(pdq_plan, "SCAN_QUERY_NS", math.inf)
    rng = np.random.default_rng(7)
    queries = random_words(rng, 41)
    near = np.stack([flipped(rng, queries[d], d) for d in range(41)])
    words = np.concatenate([random_words(rng, 20_000), near])
    index = PdqIndex()
    index.add(enumerate(to_hex(words)))
    found = index.search_many(to_hex(queries), 31)
    assert index.segments[0].tables is not None
    assert found == oracle(dict(enumerate(words)), queries, 31)
    assert [len(hits) for hits in found] == [1] * 32 + [0] * 9


def test_an_entry_is_found_right_after_add_and_never_after_remove() -> None:
    rng = np.random.default_rng(3)
    index = PdqIndex()
    index.add(enumerate(to_hex(random_words(rng, 9000))))  # a built segment ...
    index.search(to_hex(random_words(rng, 1))[0], 31)
    target = random_words(rng, 1)
    index.add([(10**6, to_hex(target)[0])])  # ... and a pending addition
    query = to_hex(flipped(rng, target[0], 31)[None, :])[0]
    assert index.search(query, 31) == [Hit(10**6, 31.0)]
    index.remove([10**6, 5])
    assert index.search(query, 31) == []
    assert len(index) == 8999


def test_readding_an_id_replaces_its_value() -> None:
    rng = np.random.default_rng(4)
    old, new, other = to_hex(random_words(rng, 3))
    index = PdqIndex()
    index.add([(1, old), (2, other), (1, new)])  # repeated within one batch: the last wins
    assert index.search(old, 0) == []
    assert index.search(new, 0) == [Hit(1, 0.0)]
    index.add([(1, old)])  # and across batches
    assert index.search(old, 0) == [Hit(1, 0.0)]
    assert index.search(new, 0) == []
    assert len(index) == 2


def test_identical_hashes_under_different_ids_are_all_returned_in_id_order() -> None:
    value = to_hex(random_words(np.random.default_rng(5), 1))[0]
    index = PdqIndex()
    index.add([(9, value), (3, value), (6, value)])
    assert index.search(value, 0) == [Hit(3, 0.0), Hit(6, 0.0), Hit(9, 0.0)]


def test_an_empty_index_answers_nothing_and_ignores_removals() -> None:
    index = PdqIndex()
    query = "f" * 64
    index.remove([1, 2, 3])
    index.add([])
    assert len(index) == 0
    assert index.search(query, 256) == []
    assert index.search_many([], 31) == []
    assert index.search_many([query, query], 31) == [[], []]


@pytest.mark.parametrize(
    ("radius", "expected"),
    [(-1, []), (math.nan, []), (0, [0]), (1.9, [0, 1]), (256, [0, 1, 2]), (10**6, [0, 1, 2])],
)
def test_thresholds_are_whole_bits_and_out_of_range_values_are_safe(
    radius: float, expected: list[int]
) -> None:
    index = PdqIndex()
    index.add([(0, "0" * 64), (1, "0" * 63 + "1"), (2, "f" * 64)])
    assert [hit.entry_id for hit in index.search("0" * 64, radius)] == expected


@pytest.mark.parametrize("value", ["zz" * 32, "ab" * 31, "ab" * 33, "ab" * 31 + "a", ""])
def test_a_malformed_hash_is_an_invalid_signal_and_changes_nothing(value: str) -> None:
    index = PdqIndex()
    index.add([(1, "ab" * 32)])
    with pytest.raises(InvalidSignal):
        index.add([(2, "cd" * 32), (3, value)])
    with pytest.raises(InvalidSignal):
        index.search(value, 31)
    assert len(index) == 1


def test_ids_anywhere_in_the_64_bit_range_are_kept_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    words = random_words(rng, 5000)
    ids = [-(2**62), -1, 0, 2**32, 2**62, *range(10**15, 10**15 + 4995)]
    index = PdqIndex()
    index.add(zip(ids, to_hex(words), strict=True))
    queries = words[:6]
    assert index.search_many(to_hex(queries), 0) == [[Hit(i, 0.0)] for i in ids[:6]]
    index.remove([2**62, 10**15])
    index.save(tmp_path / "wide")
    loaded = PdqIndex.load(tmp_path / "wide")
    expected = [[Hit(i, 0.0)] for i in ids[:4]] + [[], []]
    assert loaded.search_many(to_hex(queries), 0) == expected


def test_directories_past_four_billion_postings_search_the_same(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Wide (int64) directories, as a 400-million-row segment would have, on a small one."""
    monkeypatch.setattr(pdq_segment, "WIDE_DIRECTORY", 0)
    monkeypatch.setattr(pdq_plan, "SCAN_QUERY_NS", math.inf)
    rng = np.random.default_rng(8)
    queries = random_words(rng, 8)
    words = planted(rng, queries, 6000)
    index = PdqIndex()
    index.add(enumerate(to_hex(words)))
    expected = oracle(dict(enumerate(words)), queries, 31)
    assert index.search_many(to_hex(queries), 31) == expected
    assert index.segments[0].tables is not None
    assert index.segments[0].tables.directory.dtype == np.int64
    index.save(tmp_path / "wide")
    assert PdqIndex.load(tmp_path / "wide").search_many(to_hex(queries), 31) == expected
