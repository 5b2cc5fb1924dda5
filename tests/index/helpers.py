"""Random PDQ hashes, planted near-duplicates and a brute-force oracle for the index tests."""

from __future__ import annotations

import numpy as np

from bastion.index.base import Hit
from bastion.index.pdq import Words, hamming_matrix


def random_words(rng: np.random.Generator, count: int) -> Words:
    return rng.integers(0, 2**64 - 1, size=(count, 4), dtype=np.uint64, endpoint=True)


def to_hex(words: Words) -> list[str]:
    return [row.astype(">u8").tobytes().hex() for row in words]


def flipped(rng: np.random.Generator, row: Words, bits: int) -> Words:
    """A copy of one (4,) hash with exactly ``bits`` distinct bits flipped."""
    out = row.copy()
    for bit in rng.choice(256, size=bits, replace=False):
        out[bit // 64] ^= np.uint64(1) << np.uint64(63 - bit % 64)
    return out


def oracle(entries: dict[int, Words], queries: Words, radius: float) -> list[list[Hit]]:
    """What any exact index must answer: every entry within ``radius``, nearest then id first."""
    if not entries or not radius >= 0:
        return [[] for _ in queries]
    ids = sorted(entries)
    stored = np.stack([entries[entry_id] for entry_id in ids])
    distances = hamming_matrix(queries, stored)
    return [
        sorted(
            (Hit(ids[j], float(row[j])) for j in np.flatnonzero(row <= radius)),
            key=lambda hit: (hit.distance, hit.entry_id),
        )
        for row in distances
    ]
