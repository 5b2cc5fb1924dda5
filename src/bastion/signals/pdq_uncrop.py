"""Crops undone by search: the banked photo's centre, looked for under many crop hypotheses.

A copy cut by a few percent defeats PDQ: measured on the work image, moving an edge by 1.25% of
the picture costs ~2 bits, by 2.5% ~11 bits per edge and ~24 when all four move, and a 5% cut is
50 bits away. The cut cannot be undone on the copy, but the banked photo's *inner* part (10% in
from every edge, see :data:`INNER`) survives any cut of up to 10% of each axis, and lies in the
copy at a place fixed by how much was cut from each side. So a banked photo stores the hash of
its inner part, and a query is hashed under every hypothesis ``(left, right)`` x ``(top,
bottom)`` on a 2.5% grid with at most 10% off each axis (15 x 15 = 225 hypotheses): the true cut
is within 1.25% of one of them at every edge, a few bits.

225 PDQs would cost ~40 ms done one by one. They cost ~2 ms here because PDQ up to its median is
linear and separable: the 16x16 coefficients of a region are ``(D Kr) W (Kc^T D^T)``, where ``Kr``
and ``Kc`` are the Jarosz sampling kernels of the region's rows and columns (zero outside it) and
``D`` the DCT rows PDQ keeps. The 15 column factors ``W Kc^T D^T`` take one matrix product, the
15 row factors another, and all 225 coefficient blocks a third.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from bastion.signals.pdq_numpy import _dct_matrix
from bastion.signals.photo_geometry import Box

INNER: Box = (0.10, 0.10, 0.90, 0.90)
_STEP = 0.025
_MOST = 0.10
# Every (first side, second side) cut of one axis on the grid, at most _MOST in all.
AXIS_CUTS: tuple[tuple[float, float], ...] = tuple(
    (first * _STEP, second * _STEP)
    for first in range(round(_MOST / _STEP) + 1)
    for second in range(round(_MOST / _STEP) + 1 - first)
)


def _span(cut: tuple[float, float], inner: tuple[float, float]) -> tuple[float, float]:
    """Where the original's ``inner`` span lies in a copy cut by ``cut`` (fractions)."""
    first, second = cut
    kept = 1.0 - first - second
    return (inner[0] - first) / kept, (inner[1] - first) / kept


@lru_cache(maxsize=4096)
def _tent_factor(length: int, start: float, end: float) -> np.ndarray:
    """(16, length): the DCT rows PDQ keeps times the tent kernel (cached: the crop grid's spans
    are the same fractions for every photo, so photos of one size reuse them all)."""
    factor: np.ndarray = _dct_matrix() @ _tent_kernel(length, start, end)
    factor.setflags(write=False)
    return factor


def _tent_kernel(length: int, start: float, end: float) -> np.ndarray:
    """(64, length): each row a tent over two sample cells, centred on one of 64 samples of
    [start, end) (fractions of ``length``, not rounded to pixels).

    Not PDQ's Jarosz filter, whose box width jumps with the pixel count (a region 255 pixels
    long is filtered with 2-pixel boxes, one 257 long with 3-pixel boxes, ~15 bits apart): a
    tent scaled to the region treats a photo and its half-size copy alike, and its smooth
    edges make a hash move gradually as a crop boundary does.
    """
    cell = (end - start) * length / 64.0
    centres = start * length + (np.arange(64) + 0.5) * cell
    pixels = np.arange(length) + 0.5
    weights = np.maximum(0.0, 1.0 - np.abs(pixels[np.newaxis, :] - centres[:, np.newaxis]) / cell)
    totals = weights.sum(axis=1, keepdims=True)
    kernel: np.ndarray = weights / np.where(totals > 0, totals, 1.0)
    return kernel


def _factors(length: int, spans: list[tuple[float, float]]) -> np.ndarray:
    """(len(spans) * 16, length): DCT rows times the sampling kernel of each span, stacked."""
    return np.concatenate([_tent_factor(length, start, end) for start, end in spans])


def _hashes(coefficients: np.ndarray) -> list[str]:
    """PDQ hex of each (16, 16) block of an (n, 16, 16) array."""
    flat = coefficients.reshape(len(coefficients), 256)
    median = np.partition(flat, 127, axis=1)[:, 127:128]
    bits = (flat > median)[:, ::-1]
    packed = np.packbits(bits, axis=1)
    return [row.tobytes().hex() for row in packed]


def span_hashes(
    luma: np.ndarray, rows: list[tuple[float, float]], columns: list[tuple[float, float]]
) -> np.ndarray:
    """PDQ hashes of every region ``rows[j] x columns[i]`` of ``luma``: a (len(rows),
    len(columns)) object array of hex strings (spans are fractions of the height / width)."""
    height, width = luma.shape
    row_factors = _factors(height, rows)  # (16 * nr, h)
    column_factors = _factors(width, columns)  # (16 * nc, w)
    both = row_factors @ (luma.astype(np.float64) @ column_factors.T)  # (16 nr, 16 nc)
    blocks = both.reshape(len(rows), 16, len(columns), 16).transpose(0, 2, 1, 3)
    values = _hashes(blocks.reshape(-1, 16, 16))
    return np.asarray(values, dtype=object).reshape(len(rows), len(columns))


Cut = tuple[float, float, float, float]  # left, right, top, bottom
# Refinement: each edge moved by up to half a grid step either way, in quarter steps.
_NUDGES = (-0.5 * _STEP, -0.25 * _STEP, 0.0, 0.25 * _STEP, 0.5 * _STEP)


def cut_name(cut: Cut) -> str:
    left, right, top, bottom = (100 * side for side in cut)
    return f"uncrop:l{left:g}r{right:g}t{top:g}b{bottom:g}"


def parse_cut(name: str) -> Cut | None:
    """The cut an ``uncrop:`` variant name stands for; None for other names."""
    match = _CUT_NAME.fullmatch(name)
    if match is None:
        return None
    left, right, top, bottom = (float(group) / 100 for group in match.groups())
    return left, right, top, bottom


_CUT_NAME = re.compile(r"uncrop:l([\d.]+)r([\d.]+)t([\d.]+)b([\d.]+)")


def refined_distance(luma: np.ndarray, cut: Cut, target: str) -> tuple[int, Cut]:
    """The closest the inner part gets to ``target`` with each edge of ``cut`` nudged by up to
    half a grid step (625 hypotheses in one pass): the verification of an uncrop match."""
    left, right, top, bottom = cut
    columns = [(left + a, right + b) for a in _NUDGES for b in _NUDGES]
    rows = [(top + a, bottom + b) for a in _NUDGES for b in _NUDGES]
    grid = span_hashes(
        luma,
        [_span(c, (INNER[1], INNER[3])) for c in rows],
        [_span(c, (INNER[0], INNER[2])) for c in columns],
    )
    wanted = int(target, 16)
    best = (257, cut)
    for row, (top_cut, bottom_cut) in enumerate(rows):
        for column, (left_cut, right_cut) in enumerate(columns):
            distance = (int(grid[row, column], 16) ^ wanted).bit_count()
            if distance < best[0]:
                best = (distance, (left_cut, right_cut, top_cut, bottom_cut))
    return best


def inner_hash(luma: np.ndarray) -> str:
    """The banked side: PDQ of the photo's inner part."""
    span = (INNER[1], INNER[3])
    return str(span_hashes(luma, [span], [(INNER[0], INNER[2])])[0, 0])


def uncrop_hashes(luma: np.ndarray) -> dict[str, str]:
    """The query side: the inner part's hash under every crop hypothesis, named by the cut
    (``uncrop:l2.5r0t5b5``, percent from each side)."""
    columns = [_span(cut, (INNER[0], INNER[2])) for cut in AXIS_CUTS]
    rows = [_span(cut, (INNER[1], INNER[3])) for cut in AXIS_CUTS]
    grid = span_hashes(luma, rows, columns)
    found: dict[str, str] = {}
    for row, (top, bottom) in enumerate(AXIS_CUTS):
        for column, (left, right) in enumerate(AXIS_CUTS):
            found[cut_name((left, right, top, bottom))] = str(grid[row, column])
    return found
