"""Small builders for contract tests: random PDQ hashes and near copies, vPDQ texts."""

from __future__ import annotations

import random


def random_pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def flip_bits(pdq: str, count: int, rng: random.Random) -> str:
    value = int(pdq, 16)
    for bit in rng.sample(range(256), count):
        value ^= 1 << bit
    return f"{value:064x}"


def vpdq_text(frames: list[str], quality: int = 100, fps: float = 1.0) -> str:
    return "\n".join(
        f"{number},{quality},{pdq},{number / fps:.3f}" for number, pdq in enumerate(frames)
    )
