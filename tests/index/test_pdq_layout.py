"""The pieces the PDQ index's exactness rests on: chunk extraction, probe plans, candidates."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.index.pdq import hamming_matrix
from bastion.index.pdq_layout import ChunkLayout
from bastion.index.pdq_plan import flip_masks, plan_for, radii_plan
from bastion.index.pdq_segment import Tables
from tests.index.helpers import flipped, random_words

ROW_COUNTS = [4096, 30_000, 10**6, 10**7, 10**8]
LAYOUTS = [
    *(layout for rows in ROW_COUNTS if (layout := ChunkLayout.for_rows(rows)) is not None),
    # Uneven chunks that straddle every 32- and 64-bit boundary differently.
    ChunkLayout((32, 31, 1, 17, 29, 30, 32, 30, 27, 27), (29, 28, 1, 15, 27, 27, 29, 27, 24, 24)),
]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_chunk_keys_are_the_hash_bits_in_order(layout: ChunkLayout) -> None:
    words = random_words(np.random.default_rng(1), 50)
    keys = layout.keys(words)
    for row, hex_value in zip(keys, (w.astype(">u8").tobytes().hex() for w in words), strict=True):
        bits = format(int(hex_value, 16), "0256b")
        starts = np.cumsum((0, *layout.widths))
        assert row.tolist() == [int(bits[a:b], 2) for a, b in itertools.pairwise(starts)]
    for chunk in range(layout.chunks):
        assert (layout.chunk_keys(words, chunk) == keys[:, chunk]).all()


@pytest.mark.parametrize("rows", ROW_COUNTS)
def test_every_plan_covers_its_radius_by_the_pigeonhole_principle(rows: int) -> None:
    layout = ChunkLayout.for_rows(rows)
    assert layout is not None
    # Every radius at the size the benchmark targets; the others at the radii people use.
    radii = range(257) if rows == 10**7 else [*range(48), 200, 256]
    for radius in radii:
        plan = plan_for(layout, rows, radius)
        if plan is None:
            continue  # the linear scan answers: exact too
        assert sum(t + 1 for t in plan.radii) > radius
        expected = sum(
            math.comb(bits, j)
            for bits, t in zip(layout.dir_bits, plan.radii, strict=True)
            for j in range(t + 1)
        )
        assert plan.probes == expected


def test_the_shipped_threshold_uses_the_tables_at_every_size_worth_indexing() -> None:
    for rows in ROW_COUNTS[1:]:
        layout = ChunkLayout.for_rows(rows)
        assert layout is not None and plan_for(layout, rows, 31) is not None


@pytest.mark.parametrize("rows", [10**6, 10**7, 10**8])
def test_the_directory_stays_small_next_to_the_rows(rows: int) -> None:
    layout = ChunkLayout.for_rows(rows)
    assert layout is not None
    assert layout.dir_slots * 4 / rows < 20  # bytes per row, all chunks together


@given(bits=st.integers(1, 24), radius=st.integers(0, 3))
def test_flip_masks_are_every_mask_within_the_radius_once(bits: int, radius: int) -> None:
    masks = flip_masks(bits, radius)
    assert len(set(masks.tolist())) == len(masks)
    assert len(masks) == sum(math.comb(bits, j) for j in range(radius + 1))
    assert int(np.bitwise_count(masks).max()) <= radius
    assert int(masks.max()) < 1 << bits


@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 2**32 - 1), radii=st.lists(st.integers(-1, 2), min_size=16, max_size=16))
def test_candidates_include_every_row_the_radii_cover(seed: int, radii: list[int]) -> None:
    """Any per-chunk radii, not just the planner's: the lookup misses nothing they cover."""
    rng = np.random.default_rng(seed)
    layout = ChunkLayout((15, 17) * 8, (12, 16) * 8)
    radius = sum(t + 1 for t in radii) - 1
    if radius < 0:
        return
    queries = random_words(rng, 3)
    near = [flipped(rng, queries[i % 3], int(rng.integers(0, radius + 1))) for i in range(60)]
    words = np.concatenate([random_words(rng, 200), np.stack(near)])
    tables, plan = Tables.build(layout, words), radii_plan(layout, tuple(radii))
    found = {(q, row) for q in range(3) for row in tables.candidates(queries[q : q + 1], plan)}
    within = np.argwhere(hamming_matrix(queries, words) <= radius)
    assert {(int(q), int(r)) for q, r in within} <= found
