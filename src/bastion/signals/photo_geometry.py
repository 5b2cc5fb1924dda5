"""Where the picture is inside a photo: borders, embedded regions, crops and small rotations.

Everything here works on a *work image*: the photo's luma box-averaged to at most
:data:`WORK_SIDE` pixels on its long side. Variants are hashed from it (a PDQ of a region of a
384-pixel picture differs from one of the full-size region by a few bits at most, and costs a
fraction), while the plain PDQ, the exchange format, is always hashed at full size.

Boxes are ``(left, top, right, bottom)`` fractions of the picture, so they mean the same at any
size and on either side of a comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

Box = tuple[float, float, float, float]
WHOLE: Box = (0.0, 0.0, 1.0, 1.0)
WORK_SIDE = 384

# A border row or column: its standard deviation within this many grey levels, and its mean this
# close to the outermost row's (one bar colour; JPEG ringing stays under both).
_FLAT_SPREAD = 5.0
_SAME_BAR = 14.0
# Borders thinner than this share of a side are noise, not a letterbox.
_MIN_BORDER = 0.02

# An edge: neighbouring work pixels this many grey levels apart.
_EDGE_STEP = 14.0
# A candidate line holds edge pixels over at least this share of the picture's width (height).
_MIN_LINE = 0.12
_MAX_LINES = 10
# A region must hold this share of the picture, and edges along this share of each drawn side.
_MIN_REGION_AREA = 0.12
_MAX_REGION_AREA = 0.92
_MIN_SIDE_SUPPORT = 0.75
_MAX_ASPECT = 4.0


@dataclass(frozen=True, slots=True)
class WorkImage:
    """The photo's luma at work size; ``scale`` = full-size pixels per work pixel."""

    luma: np.ndarray
    scale: int

    @property
    def height(self) -> int:
        return int(self.luma.shape[0])

    @property
    def width(self) -> int:
        return int(self.luma.shape[1])

    def region(self, box: Box) -> np.ndarray:
        """The pixels inside ``box`` (at least one pixel each way)."""
        left, top, right, bottom = _pixel_box(box, self.width, self.height)
        region: np.ndarray = self.luma[top:bottom, left:right]
        return region


def _pixel_box(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    left = min(width - 1, max(0, round(box[0] * width)))
    top = min(height - 1, max(0, round(box[1] * height)))
    right = max(left + 1, min(width, round(box[2] * width)))
    bottom = max(top + 1, min(height, round(box[3] * height)))
    return left, top, right, bottom


def work_image(luma: np.ndarray) -> WorkImage:
    """Box-average ``luma`` by the smallest whole factor that brings it to WORK_SIDE or less."""
    height, width = luma.shape
    scale = max(1, -(-max(height, width) // WORK_SIDE))
    if scale == 1:
        return WorkImage(np.ascontiguousarray(luma, dtype=np.float32), 1)
    rows, cols = height // scale, width // scale
    if rows < 1 or cols < 1:  # a thin strip: keep it as it is
        return WorkImage(np.ascontiguousarray(luma, dtype=np.float32), 1)
    # Sum the rows of each block, then its columns: both reductions run over contiguous memory.
    tall = luma[: rows * scale, : cols * scale].reshape(rows, scale, cols * scale).sum(axis=1)
    blocks = tall.reshape(rows, cols, scale).sum(axis=2, dtype=np.float32)
    return WorkImage(blocks * np.float32(1.0 / (scale * scale)), scale)


def work_image_halved(work: WorkImage) -> WorkImage:
    rows, cols = work.height // 2, work.width // 2
    tall = work.luma[: rows * 2, : cols * 2].reshape(rows, 2, cols * 2).sum(axis=1)
    blocks = tall.reshape(rows, cols, 2).sum(axis=2, dtype=np.float32)
    return WorkImage(blocks * np.float32(0.25), work.scale * 2)


# ---- borders -------------------------------------------------------------------------------


def _flat_run(means: np.ndarray, spreads: np.ndarray) -> int:
    """How many leading lines are flat and of the first line's colour (from their statistics)."""
    flat = (spreads <= _FLAT_SPREAD) & (np.abs(means - means[0]) <= _SAME_BAR)
    if not flat[0]:
        return 0
    unflat = np.flatnonzero(~flat)
    return int(unflat[0]) if unflat.size else len(flat)


def trim_box(work: WorkImage) -> Box | None:
    """The picture inside flat bars (letterbox, pillarbox, padding), or None without bars."""
    luma, height, width = work.luma, work.height, work.width
    row_means, row_spreads = luma.mean(axis=1), luma.std(axis=1)
    col_means, col_spreads = luma.mean(axis=0), luma.std(axis=0)
    top = _flat_run(row_means, row_spreads)
    bottom = _flat_run(row_means[::-1], row_spreads[::-1])
    left = _flat_run(col_means, col_spreads)
    right = _flat_run(col_means[::-1], col_spreads[::-1])
    if top + bottom >= height - 8 or left + right >= width - 8:
        return None  # (nearly) all flat: nothing inside
    if max(top, bottom) < _MIN_BORDER * height and max(left, right) < _MIN_BORDER * width:
        return None
    return (left / width, top / height, (width - right) / width, (height - bottom) / height)


# ---- embedded regions ------------------------------------------------------------------------


def _line_candidates(edges: np.ndarray, length: int) -> np.ndarray:
    """Positions (boundary indexes 1..n-1) of the strongest lines along axis 0 of ``edges``."""
    counts = edges.sum(axis=1)
    order = np.argsort(-counts, kind="stable")
    chosen: list[int] = []
    for position in order:
        if counts[position] < _MIN_LINE * length or len(chosen) >= _MAX_LINES:
            break
        if all(abs(int(position) - c) > 2 for c in chosen):  # one line, not its neighbours
            chosen.append(int(position))
    return np.asarray(sorted(chosen), dtype=np.int64) + 1


def embedded_regions(work: WorkImage, limit: int = 3) -> list[Box]:
    """Rectangles drawn inside the picture: a photo in a screenshot, a video in a video, a
    meme's picture between caption bars. Best first, at most ``limit``.

    A rectangle qualifies when edge pixels run along most of each of its sides that is not the
    picture's own border (at most two sides may be), it holds a fair share of the picture and is
    not nearly all of it. Ranked by drawn sides (four beats two), then edge support, then area.
    """
    luma = work.luma
    if work.height < 16 or work.width < 16:
        return []
    across = np.abs(np.diff(luma, axis=0)) > _EDGE_STEP  # (h-1, w): edges between rows
    down = np.abs(np.diff(luma, axis=1)) > _EDGE_STEP  # (h, w-1): edges between columns
    return regions_from_edges(across, down, limit)


def persistent_regions(works: Sequence[WorkImage], limit: int = 3) -> list[Box]:
    """Rectangles whose sides stay put while the pictures on both sides change: an inset video
    pasted straight onto another video, with no border (``embedded_regions`` misses it: between
    two unrelated pictures the step is weak along much of each side in any one frame).

    Per frame, a row boundary scores its step minus the mean step two rows above and below it
    (a ridge: inside a picture, neighbouring steps are alike, so textures score ~0); averaged over
    the frames, only boundaries that hold in most frames stay above the edge step. Frames of
    another size than the first are ignored.
    """
    shaped = [work.luma for work in works if work.luma.shape == works[0].luma.shape]
    if len(shaped) < 3 or min(shaped[0].shape) < 16:
        return []
    across = np.mean([_ridge(np.abs(np.diff(luma, axis=0))) for luma in shaped], axis=0)
    down = np.mean([_ridge(np.abs(np.diff(luma, axis=1)).T).T for luma in shaped], axis=0)
    return regions_from_edges(across > _RIDGE_STEP, down > _RIDGE_STEP, limit)


# A persistent boundary: its step above its neighbours' by this much on average over the frames.
_RIDGE_STEP = 10.0


def _ridge(steps: np.ndarray) -> np.ndarray:
    """Each row of steps less the mean of the rows two above and two below (edges clamped)."""
    padded = np.pad(steps, ((2, 2), (0, 0)), mode="edge")
    ridge: np.ndarray = steps - 0.5 * (padded[:-4] + padded[4:])
    return ridge


def regions_from_edges(across: np.ndarray, down: np.ndarray, limit: int = 3) -> list[Box]:
    """The rectangles of :func:`embedded_regions`, from boolean edge maps: ``across`` (h-1, w)
    marks edges between rows, ``down`` (h, w-1) edges between columns."""
    height, width = down.shape[0], across.shape[1]
    rows = _line_candidates(across, width)
    cols = _line_candidates(down.T, height)
    ys = np.unique(np.concatenate([[0, height], rows]))
    xs = np.unique(np.concatenate([[0, width], cols]))
    # Running sums give the edge count along any segment of a candidate line in O(1).
    row_sums = np.zeros((height + 1, width + 1), dtype=np.int32)
    row_sums[1:height, 1:] = np.cumsum(across, axis=1)
    col_sums = np.zeros((width + 1, height + 1), dtype=np.int32)
    col_sums[1:width, 1:] = np.cumsum(down.T, axis=1)

    def horizontal(y: int, x0: int, x1: int) -> float:
        if y in (0, height):
            return 2.0  # the picture's border: no edge to see
        return float(row_sums[y, x1] - row_sums[y, x0]) / (x1 - x0)

    def vertical(x: int, y0: int, y1: int) -> float:
        if x in (0, width):
            return 2.0
        return float(col_sums[x, y1] - col_sums[x, y0]) / (y1 - y0)

    found: list[tuple[int, float, float, Box]] = []
    for i, y0 in enumerate(ys):
        for y1 in ys[i + 1 :]:
            for j, x0 in enumerate(xs):
                for x1 in xs[j + 1 :]:
                    w, h = int(x1 - x0), int(y1 - y0)
                    area = w * h / (width * height)
                    if not _MIN_REGION_AREA <= area <= _MAX_REGION_AREA:
                        continue
                    if max(w / h, h / w) > _MAX_ASPECT:
                        continue
                    sides = [
                        horizontal(int(y0), int(x0), int(x1)),
                        horizontal(int(y1), int(x0), int(x1)),
                        vertical(int(x0), int(y0), int(y1)),
                        vertical(int(x1), int(y0), int(y1)),
                    ]
                    drawn = [s for s in sides if s <= 1.0]
                    if len(drawn) < 2 or min(drawn) < _MIN_SIDE_SUPPORT:
                        continue
                    box = (x0 / width, y0 / height, x1 / width, y1 / height)
                    found.append((len(drawn), min(drawn), area, box))
    found.sort(key=lambda item: (-item[0], -item[1], -item[2]))
    chosen: list[Box] = []
    for _, _, _, box in found:
        if all(box_overlap(box, other) < 0.85 for other in chosen):
            chosen.append(box)
        if len(chosen) >= limit:
            break
    return chosen


def box_overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


# ---- crops, rotations, verification regions ---------------------------------------------------


# Verification regions: inside the central 80%, so any crop of up to 10% a side keeps them, and
# spread so that a logo or watermark in one place spoils at most one or two.
CHECK_REGIONS: tuple[Box, ...] = (
    (0.25, 0.25, 0.75, 0.75),
    (0.10, 0.10, 0.55, 0.55),
    (0.45, 0.10, 0.90, 0.55),
    (0.10, 0.45, 0.55, 0.90),
    (0.45, 0.45, 0.90, 0.90),
)

# Small rotations tried on a query: a copy turned by up to 3 degrees either way is then within
# 0.75 degrees of one of them, which costs PDQ only a few bits.
ROTATIONS: tuple[float, ...] = (-3.0, -1.5, 1.5, 3.0)


def rotated(work: WorkImage, degrees: float) -> WorkImage:
    """The work image turned by ``degrees`` (counter-clockwise), same size, corners filled.

    Turned at half the work size when that keeps 128 pixels a side: turning costs with the
    pixel count, and PDQ's filter still averages two pixels per sample (below 128 it would
    point-sample, and hashes move by ~18 bits).
    """
    if min(work.height, work.width) >= 256:
        work = work_image_halved(work)
    image = Image.fromarray(work.luma, mode="F")
    turned = image.rotate(degrees, resample=Image.Resampling.BILINEAR, expand=False)
    return WorkImage(np.asarray(turned, dtype=np.float32), work.scale)


def map_box(box: Box, frame: Box) -> Box:
    """``box`` of an original, in the coordinates of the part ``frame`` of it (clipped)."""
    left, top, right, bottom = frame
    width, height = right - left, bottom - top

    def clip(value: float) -> float:
        return min(1.0, max(0.0, value))

    return (
        clip((box[0] - left) / width),
        clip((box[1] - top) / height),
        clip((box[2] - left) / width),
        clip((box[3] - top) / height),
    )
