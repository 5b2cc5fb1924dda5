"""PDQ index snapshots: what is saved is what loads, and a damaged file is refused cleanly."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from bastion.errors import ConfigurationError
from bastion.index import pdq
from bastion.index.pdq import PdqIndex
from tests.index.helpers import flipped, oracle, random_words, to_hex


@pytest.fixture
def small_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdq, "BUFFER_ROWS", 64)


def build(rng: np.random.Generator) -> tuple[PdqIndex, dict[int, np.ndarray], np.ndarray]:
    """An index with a large tabled segment, a small one, tombstones and pending additions."""
    queries = random_words(rng, 8)
    words = np.concatenate(
        [random_words(rng, 6000), np.stack([flipped(rng, queries[d % 8], d) for d in range(41)])]
    )
    ids = rng.choice(10**7, size=len(words), replace=False)
    index = PdqIndex()
    index.add(zip(ids.tolist(), to_hex(words), strict=True))
    index.search(to_hex(queries)[0], 31)  # index them
    extra = np.stack([flipped(rng, queries[d % 8], d) for d in range(100)])
    index.add(zip(range(10**7, 10**7 + 100), to_hex(extra), strict=True))
    index.remove(ids[::7].tolist())
    entries = dict(zip(ids.tolist(), words, strict=True)) | dict(
        zip(range(10**7, 10**7 + 100), extra, strict=True)
    )
    for gone in ids[::7].tolist():
        del entries[gone]
    return index, entries, queries


def test_a_loaded_snapshot_answers_exactly_like_the_saved_index(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    index, entries, queries = build(rng)
    path = tmp_path / "pdq.index"
    index.save(path)
    loaded = PdqIndex.load(path)
    assert len(loaded) == len(index) == len(entries)
    for radius in (0, 12, 31, 40, 90, 256):
        expected = oracle(entries, queries, radius)
        assert loaded.search_many(to_hex(queries), radius) == expected
        assert index.search_many(to_hex(queries), radius) == expected
    assert sorted(os.listdir(tmp_path)) == ["pdq.index"]  # no temporary file left behind


def test_a_loaded_index_keeps_taking_changes(tmp_path: Path, small_buffer: None) -> None:
    rng = np.random.default_rng(12)
    index, entries, queries = build(rng)
    path = tmp_path / "pdq.index"
    index.save(path)
    loaded = PdqIndex.load(path)
    gone = sorted(entries)[:500]
    loaded.remove(gone)
    for entry_id in gone:
        del entries[entry_id]
    fresh = np.stack([flipped(rng, queries[0], d) for d in range(200)])
    loaded.add(zip(range(-200, 0), to_hex(fresh), strict=True))  # enough to merge segments
    entries |= dict(zip(range(-200, 0), fresh, strict=True))
    assert loaded.search_many(to_hex(queries), 31) == oracle(entries, queries, 31)
    loaded.save(path)  # over the file it is mapped from
    assert PdqIndex.load(path).search_many(to_hex(queries), 31) == oracle(entries, queries, 31)


def test_an_empty_index_round_trips(tmp_path: Path) -> None:
    PdqIndex().save(tmp_path / "empty")
    loaded = PdqIndex.load(tmp_path / "empty")
    assert len(loaded) == 0 and loaded.search("0" * 64, 256) == []


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[str], object]:
    """A saved snapshot's bytes, queries, and the saved index's answers to them."""
    index, _, queries = build(np.random.default_rng(13))
    path = tmp_path_factory.mktemp("snapshot") / "pdq.index"
    index.save(path)
    return path.read_bytes(), to_hex(queries), index.search_many(to_hex(queries), 40)


def test_every_truncation_is_refused_cleanly(
    snapshot: tuple[bytes, list[str], object], tmp_path: Path
) -> None:
    data = snapshot[0]
    path = tmp_path / "cut"
    cuts = {0, 1, 7, 8, 23, 24, 100, len(data) // 2, len(data) - 1}
    cuts |= set(np.random.default_rng(0).integers(0, len(data), 20).tolist())
    for cut in sorted(cuts):
        path.write_bytes(data[:cut])
        with pytest.raises(ConfigurationError, match="unusable"):
            PdqIndex.load(path)


def test_a_flipped_bit_anywhere_is_refused_or_harmless(
    snapshot: tuple[bytes, list[str], object], tmp_path: Path
) -> None:
    data, queries, answers = snapshot
    path = tmp_path / "flipped"
    rng = np.random.default_rng(1)
    places = {0, 9, 13, 30, 60, len(data) - 1, *rng.integers(0, len(data), 40).tolist()}
    refused = 0
    for place in sorted(places):
        damaged = bytearray(data)
        damaged[place] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(damaged))
        try:
            loaded = PdqIndex.load(path)
        except ConfigurationError:
            refused += 1
            continue
        # Only the padding between blocks has no checksum, and it carries nothing.
        assert loaded.search_many(queries, 40) == answers
    assert refused >= len(places) - 5


@pytest.mark.parametrize(
    "content", [b"", b"BSTNPDQ\x00", b"not a snapshot at all" * 10, b"\x00" * 4096]
)
def test_foreign_files_are_refused_cleanly(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "foreign"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError):
        PdqIndex.load(path)


def test_a_missing_file_is_refused_cleanly(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        PdqIndex.load(tmp_path / "absent")
