"""Which chunk tables a PDQ query probes, how far, and whether a linear scan is cheaper.

A plan gives each chunk a radius ``t_k`` (``-1``: skip the chunk) with ``sum(t_k + 1) > r``,
which makes the lookup exact (see ``pdq_layout``). Among the exact plans it picks the cheapest
under a small cost model of this implementation (nanoseconds per directory probe, per posting
read, per full comparison), and compares it with a scan of every row. The model only chooses
between exact strategies: a wrong constant costs speed, never a match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from bastion.index.pdq_layout import LOW_BITS_MAX, ChunkLayout

# Fitted to single-query timings on one core of the benchmark machine (bench/RESULTS.md, "PDQ
# index"): 4 thousand to 10 million rows, radii 0 to 80. Only their ratios matter.
PROBE_NS = 50.0  # directory slot lookup: a cache miss, and the run of postings it starts
POSTING_NS = 8.0  # posting read and low-bit filter: sequential within a slot
VERIFY_NS = 40.0  # full 256-bit comparison: a cache miss into the hashes
TABLE_QUERY_NS = 30_000.0  # fixed numpy overhead of a table lookup per query
SCAN_ROW_NS = 11.0  # XOR and popcount of 32 bytes: bound by memory bandwidth
SCAN_QUERY_NS = 10_000.0
# A radius whose flip masks exceed this is never planned: by then a scan is cheaper.
MAX_PROBES_PER_CHUNK = 1 << 21

_LOW_VALUES = 1 << LOW_BITS_MAX


def _accept_table() -> npt.NDArray[np.uint8]:
    """ACCEPT[a * 8 + v]: bit x set when stored low bits x are within ``a`` of query low bits v."""
    table = np.zeros(((LOW_BITS_MAX + 1) * _LOW_VALUES), dtype=np.uint8)
    for allow in range(LOW_BITS_MAX + 1):
        for query in range(_LOW_VALUES):
            bits = sum(1 << x for x in range(_LOW_VALUES) if (x ^ query).bit_count() <= allow)
            table[allow * _LOW_VALUES + query] = bits
    return table


ACCEPT = _accept_table()


@dataclass(frozen=True, slots=True)
class ProbePlan:
    radii: tuple[int, ...]
    chunk: npt.NDArray[np.intp]  # chunk of each probe
    shift: npt.NDArray[np.int64]  # the chunk's low bits: chunk value >> shift = directory key
    low_mask: npt.NDArray[np.int64]
    flip: npt.NDArray[np.int64]  # bits flipped in the chunk's directory key
    base: npt.NDArray[np.int64]  # the chunk's first slot in the directory
    accept_row: npt.NDArray[np.int64]  # row of ACCEPT for the probe's remaining low-bit radius
    filters: bool  # False when every probe accepts any low bits

    @property
    def probes(self) -> int:
        return len(self.chunk)


@lru_cache(maxsize=256)
def flip_masks(bits: int, radius: int) -> npt.NDArray[np.int64]:
    """Every ``bits``-bit mask with at most ``radius`` bits set, fewest bits first."""
    level = np.zeros(1, dtype=np.int64)
    highest = np.full(1, -1, dtype=np.int64)
    found = [level]
    for _ in range(radius):
        grown, tops = [], []
        for bit in range(bits):
            older = level[highest < bit]  # add bits in increasing order: each mask made once
            grown.append(older | (1 << bit))
            tops.append(np.full(len(older), bit, dtype=np.int64))
        level, highest = np.concatenate(grown), np.concatenate(tops)
        found.append(level)
    return np.concatenate(found)


def _probes(bits: int, radius: int) -> int:
    return sum(math.comb(bits, j) for j in range(radius + 1))


def scan_cost(rows: int) -> float:
    return SCAN_QUERY_NS + SCAN_ROW_NS * rows


@lru_cache(maxsize=1024)
def _choose(layout: ChunkLayout, rows: int, radius: int) -> tuple[tuple[int, ...], float] | None:
    """Cheapest exact radii and their cost, by dynamic programming over the chunks."""
    need_total = radius + 1
    options: list[list[tuple[float, int]]] = []
    for width, bits in zip(layout.widths, layout.dir_bits, strict=True):
        choices = [(0.0, -1)]
        for t in range(0, min(width, need_total) + 1):
            probes = _probes(bits, t)
            if probes > MAX_PROBES_PER_CHUNK:
                break
            postings = probes * rows / 2**bits
            candidates = _probes(width, t) * rows / 2**width
            cost = PROBE_NS * probes + POSTING_NS * postings + VERIFY_NS * candidates
            choices.append((cost, t))
        options.append(choices)
    # best[need] = (cost, radii) covering ``need`` more units with the chunks seen so far
    infinity: tuple[float, tuple[int, ...]] = (math.inf, ())
    best: list[tuple[float, tuple[int, ...]]] = [(0.0, ())] + [infinity] * need_total
    for choices in options:
        nxt: list[tuple[float, tuple[int, ...]]] = [infinity] * (need_total + 1)
        for covered, (cost, radii) in enumerate(best):
            if cost == math.inf:
                continue
            for extra, t in choices:
                reach = min(need_total, covered + t + 1)
                if cost + extra < nxt[reach][0]:
                    nxt[reach] = (cost + extra, (*radii, t))
        best = nxt
    cost, radii = best[need_total]
    if cost == math.inf:
        return None
    return radii, cost + TABLE_QUERY_NS


@lru_cache(maxsize=256)
def radii_plan(layout: ChunkLayout, radii: tuple[int, ...]) -> ProbePlan:
    """The probes that look chunk k up within radii[k] (-1: not at all)."""
    chunk, flip, allow = [], [], []
    for k, t in enumerate(radii):
        if t < 0:
            continue
        masks = flip_masks(layout.dir_bits[k], t)
        chunk.append(np.full(len(masks), k, dtype=np.intp))
        flip.append(masks)
        allow.append(t - np.bitwise_count(masks).astype(np.int64))
    chunks = np.concatenate(chunk)
    remaining = np.concatenate(allow)
    return ProbePlan(
        radii=radii,
        chunk=chunks,
        shift=layout.low_bits[chunks],
        low_mask=(1 << layout.low_bits[chunks]) - 1,
        flip=np.concatenate(flip),
        base=layout.dir_base[chunks],
        accept_row=np.minimum(remaining, LOW_BITS_MAX) * _LOW_VALUES,
        filters=bool(np.any(remaining < layout.low_bits[chunks])),
    )


def plan_for(layout: ChunkLayout, rows: int, radius: int) -> ProbePlan | None:
    """The cheapest exact probe plan for ``radius``, or None when scanning the rows is cheaper."""
    # Costs depend on rows only through occupancy: round to a quarter-octave so that segments of
    # similar size share cached plans.
    rounded = max(1, round(2 ** (round(math.log2(max(rows, 1)) * 4) / 4)))
    chosen = _choose(layout, rounded, radius)
    if chosen is None or chosen[1] >= scan_cost(rows):
        return None
    return radii_plan(layout, chosen[0])
