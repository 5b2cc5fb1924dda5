"""PDQ robustness: recall of edited copies and false matches against many unrelated photos.

    OMP_NUM_THREADS=1 .venv/bin/python bench/robustness.py [--bases 200] [--distractors 20000]
        [--distractor-size 256x192] [--workers 2] [--threshold 31]

Bases are synthetic 1024x768 photos (``bastion.demo.media.make_photo``, seeds 0..bases-1). Each
base is decoded, edited by every transformation in :data:`TRANSFORMS` and re-encoded; a copy is
*recalled* when the column's ``compare`` rule puts it within ``--threshold`` of its own base.
Distractors are other seeds (from 1,000,000 up), drawn small by default because generating a
1024x768 picture costs ~80 ms and the hash hardly depends on the size; a distractor is a *false
match* when ``PdqIndex.search_many`` finds any base hash within the threshold.

A column is a way of hashing (a :class:`Hasher`: bytes -> list of hex hashes) plus the rule that
compares two such lists. Only plain PDQ ("pdq") exists so far; a second column (e.g. Bastion's
variant family) is one more entry in :data:`COLUMNS` and is measured on the very same images.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
import pdqhash
import PIL
from machine import describe
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from bastion.demo.media import make_photo
from bastion.index.pdq import PdqIndex, pack_pdq
from bastion.signals.base import HashLimits
from bastion.signals.pdq import PdqSignal

LIMITS = HashLimits()
BASE_SIZE = (1024, 768)
# Far above any base seed, so no distractor is a base drawn again.
DISTRACTOR_SEED0 = 1_000_000
# Edited copies are stored at a high quality so that each row measures its own edit, not an
# extra lossy re-encode (which has a row of its own: jpeg_q50).
COPY_QUALITY = 95


# ---- columns: how a photo is hashed and how two photos' hashes compare -----------------------


class Hasher(Protocol):
    def __call__(self, data: bytes) -> list[str]: ...


Compare = Callable[[list[str], list[str]], int]


@dataclass(frozen=True)
class Column:
    """One way of matching. ``compare(query, base)`` is a distance; recall means <= threshold.
    The false-match search puts every hash of every base in one index and counts a distractor
    when any of its hashes finds any of them, which agrees with ``min_pair_distance``; a column
    whose rule is not "closest pair" must say so in its own false-match code."""

    name: str
    hasher: Hasher
    compare: Compare


def plain_pdq(data: bytes) -> list[str]:
    return [PdqSignal.hash_bytes(data, LIMITS)[0].value]


def min_pair_distance(query: list[str], base: list[str]) -> int:
    return min(PdqSignal.distance(q, b) for q in query for b in base)


COLUMNS: dict[str, Column] = {
    "pdq": Column("pdq", plain_pdq, min_pair_distance),
}


# ---- transformations ------------------------------------------------------------------------


def _scribble(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], ink: int, seed: int):
    """Rows of dashes inside ``box``, like lines of text (no font files needed)."""
    rng = np.random.default_rng(seed)
    left, top, right, bottom = box
    gap = max(3, (bottom - top) // 12)
    y = top + gap
    while y < bottom - gap:
        x = left + gap
        while x < right - 2 * gap:
            word = int(rng.integers(gap, gap * 4))
            draw.line((x, y, min(x + word, right - gap), y), fill=(ink, ink, ink), width=gap // 2)
            x += word + gap
        y += 2 * gap


def logo(image: Image.Image) -> Image.Image:
    """A textured badge with writing over 10% of the area, in the bottom-right corner."""
    w, h = image.size
    side = 0.1**0.5  # both sides scaled alike: sqrt(0.1) of each, 10% of the area
    bw, bh = round(w * side), round(h * side)
    ramp = np.linspace(150, 230, bw, dtype=np.float32)[np.newaxis, :]
    noise = np.random.default_rng(1).normal(0, 12, size=(bh, bw)).astype(np.float32)
    badge = Image.fromarray(np.clip(ramp + noise, 0, 255).astype(np.uint8)).convert("RGB")
    _scribble(ImageDraw.Draw(badge), (0, 0, bw, bh), 30, seed=2)
    out = image.copy()
    out.paste(badge, (w - bw, h - bh))
    return out


def crop_side(fraction: float) -> Callable[[Image.Image], Image.Image]:
    """Cut ``fraction`` of the width off the right edge (the rest untouched)."""

    def edit(image: Image.Image) -> Image.Image:
        w, h = image.size
        return image.crop((0, 0, w - round(w * fraction), h))

    return edit


def crop_centre(fraction: float) -> Callable[[Image.Image], Image.Image]:
    """Keep the centre: ``fraction`` of each dimension goes, half from each edge."""

    def edit(image: Image.Image) -> Image.Image:
        w, h = image.size
        dx, dy = round(w * fraction / 2), round(h * fraction / 2)
        return image.crop((dx, dy, w - dx, h - dy))

    return edit


def letterbox(image: Image.Image) -> Image.Image:
    """Black bars above and below: the photo centred in a 9:16 (portrait phone) canvas."""
    w, h = image.size
    canvas = Image.new("RGB", (w, round(w * 16 / 9)))
    canvas.paste(image, (0, (canvas.height - h) // 2))
    return canvas


def pillarbox(image: Image.Image) -> Image.Image:
    """Black bars left and right: the photo centred in a 16:9 canvas of the same height."""
    w, h = image.size
    canvas = Image.new("RGB", (round(h * 16 / 9), h))
    canvas.paste(image, ((canvas.width - w) // 2, 0))
    return canvas


def rotate(degrees: float) -> Callable[[Image.Image], Image.Image]:
    def edit(image: Image.Image) -> Image.Image:
        return image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=False)

    return edit


def screenshot(image: Image.Image) -> Image.Image:
    """The photo inside app chrome: a dark top bar with status text, a light side panel with a
    list, a caption strip below; the photo keeps its pixels (no rescale)."""
    w, h = image.size
    bar, panel, caption, margin = round(h * 0.08), round(w * 0.22), round(h * 0.12), 16
    canvas = Image.new("RGB", (panel + w + 2 * margin, bar + h + caption + 2 * margin), "#f2f2f2")
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, canvas.width, bar), fill="#202124")
    _scribble(draw, (margin, 0, canvas.width // 3, bar), 230, seed=3)
    draw.rectangle((0, bar, panel, canvas.height), fill="#e0e3e7")
    _scribble(draw, (margin, bar + margin, panel - margin, canvas.height - margin), 80, seed=4)
    canvas.paste(image, (panel + margin, bar + margin))
    top = bar + h + 2 * margin
    _scribble(draw, (panel + margin, top, panel + w, canvas.height), 60, seed=5)
    return canvas


# name -> (edit, JPEG quality of the stored copy)
TRANSFORMS: dict[str, tuple[Callable[[Image.Image], Image.Image], int]] = {
    "jpeg_q50": (lambda image: image, 50),
    "half_size": (lambda image: image.resize((image.width // 2, image.height // 2)), COPY_QUALITY),
    "crop5_side": (crop_side(0.05), COPY_QUALITY),
    "crop5_centre": (crop_centre(0.05), COPY_QUALITY),
    "crop10_side": (crop_side(0.10), COPY_QUALITY),
    "crop10_centre": (crop_centre(0.10), COPY_QUALITY),
    "logo_10pct": (logo, COPY_QUALITY),
    "brightness+30": (lambda image: ImageEnhance.Brightness(image).enhance(1.3), COPY_QUALITY),
    "contrast+30": (lambda image: ImageEnhance.Contrast(image).enhance(1.3), COPY_QUALITY),
    "greyscale": (ImageOps.grayscale, COPY_QUALITY),
    "letterbox": (letterbox, COPY_QUALITY),
    "pillarbox": (pillarbox, COPY_QUALITY),
    "mirror": (ImageOps.mirror, COPY_QUALITY),
    "rotate+3": (rotate(3), COPY_QUALITY),
    "rotate-3": (rotate(-3), COPY_QUALITY),
    "screenshot": (screenshot, COPY_QUALITY),
}


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


# ---- work done in the pool ------------------------------------------------------------------


@dataclass
class BaseResult:
    seed: int
    hashes: dict[str, list[str]]  # column -> the base's hashes
    copies: dict[str, dict[str, list[str]]]  # transformation -> column -> the copy's hashes
    hash_seconds: dict[str, float]  # column -> time spent hashing the base itself


def hash_base(job: tuple[int, tuple[str, ...]]) -> BaseResult:
    seed, columns = job
    data = make_photo(seed, size=BASE_SIZE)
    hashes, seconds = {}, {}
    for name in columns:
        start = time.perf_counter()
        hashes[name] = COLUMNS[name].hasher(data)
        seconds[name] = time.perf_counter() - start
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    copies = {}
    for transform, (edit, quality) in TRANSFORMS.items():
        copy = _jpeg(edit(image), quality)
        copies[transform] = {name: COLUMNS[name].hasher(copy) for name in columns}
    return BaseResult(seed, hashes, copies, seconds)


def hash_distractors(
    job: tuple[int, int, tuple[int, int], tuple[str, ...]],
) -> tuple[dict[str, list[list[str]]], float]:
    """Hashes of distractor seeds [first, first + count) per column, and the hashing seconds."""
    first, count, size, columns = job
    out: dict[str, list[list[str]]] = {name: [] for name in columns}
    seconds = 0.0
    for seed in range(first, first + count):
        data = make_photo(seed, size=size)
        start = time.perf_counter()
        for name in columns:
            out[name].append(COLUMNS[name].hasher(data))
        seconds += time.perf_counter() - start
    return out, seconds


# ---- measures -------------------------------------------------------------------------------


def false_matches(base_hashes: list[list[str]], distractors: list[list[str]], threshold: int):
    """Distractors with any hash within ``threshold`` of any base hash, found with PdqIndex."""
    index = PdqIndex()
    owners = []  # index id -> base number, as a base may have several hashes
    for number, hashes in enumerate(base_hashes):
        for value in hashes:
            index.add([(len(owners), value)])
            owners.append(number)
    flat, whose = [], []
    for number, hashes in enumerate(distractors):
        flat.extend(hashes)
        whose.extend([number] * len(hashes))
    found = set()
    for position, hits in enumerate(index.search_many(flat, threshold)):
        if hits:
            found.add(whose[position])
    return sorted(found)


def nearest_distances(base_hashes: list[list[str]], distractors: list[list[str]]) -> np.ndarray:
    """Each distractor's distance to its closest base (brute force): the margin below the
    threshold, and a check on the index's count."""
    bases = pack_pdq([value for hashes in base_hashes for value in hashes])
    flat = [value for hashes in distractors for value in hashes]
    whose = np.repeat(np.arange(len(distractors)), [len(hashes) for hashes in distractors])
    nearest = np.empty(len(flat), dtype=np.int64)
    queries = pack_pdq(flat)
    for start in range(0, len(queries), 4096):
        block = queries[start : start + 4096, np.newaxis, :] ^ bases[np.newaxis, :, :]
        nearest[start : start + 4096] = np.bitwise_count(block).sum(axis=2).min(axis=1)
    per_distractor = np.full(len(distractors), 256, dtype=np.int64)
    np.minimum.at(per_distractor, whose, nearest)
    return per_distractor


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield DISTRACTOR_SEED0 + start, min(size, total - start)


def parse_size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bases", type=int, default=200)
    parser.add_argument("--distractors", type=int, default=20_000)
    parser.add_argument("--distractor-size", type=parse_size, default=(256, 192))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threshold", type=int, default=PdqSignal.default_threshold)
    parser.add_argument("--columns", default=",".join(COLUMNS), help="comma-separated")
    args = parser.parse_args()
    columns = tuple(args.columns.split(","))
    unknown = set(columns) - set(COLUMNS)
    if unknown:
        parser.error(f"unknown column(s) {', '.join(sorted(unknown))}; known: {', '.join(COLUMNS)}")

    print(
        describe(f"Pillow {PIL.__version__}, numpy {np.__version__}, pdqhash {pdqhash.__version__}")
    )
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {' '.join(sys.argv)}")
    started = time.perf_counter()
    with multiprocessing.Pool(args.workers) as pool:
        bases = pool.map(hash_base, [(seed, columns) for seed in range(args.bases)], chunksize=4)
        base_wall = time.perf_counter() - started
        print(f"{args.bases} bases x {len(TRANSFORMS)} transformations in {base_wall:.1f} s")

        start = time.perf_counter()
        distractors: dict[str, list[list[str]]] = {name: [] for name in columns}
        distractor_hash_seconds = 0.0
        jobs = [(*chunk, args.distractor_size, columns) for chunk in _chunks(args.distractors, 500)]
        for done, (part, seconds) in enumerate(pool.imap(hash_distractors, jobs), 1):
            for name in columns:
                distractors[name].extend(part[name])
            distractor_hash_seconds += seconds
            if done % 20 == 0 or done == len(jobs):
                count = len(distractors[columns[0]])
                rate = count / (time.perf_counter() - start)
                print(f"  distractors {count:,}: {rate:,.0f}/s generated and hashed", flush=True)
        distractor_wall = time.perf_counter() - start

    size = "x".join(map(str, args.distractor_size))
    print()
    print(f"Recall at threshold {args.threshold} ({args.bases} bases, 1024x768):")
    print()
    print(
        "| transformation | "
        + " | ".join(f"{c} recall | {c} mean / median" for c in columns)
        + " |"
    )
    print("|---|" + "---:|---:|" * len(columns))
    for transform in TRANSFORMS:
        cells = []
        for name in columns:
            compare = COLUMNS[name].compare
            distances = [compare(b.copies[transform][name], b.hashes[name]) for b in bases]
            recall = 100 * sum(d <= args.threshold for d in distances) / len(distances)
            mean, median = statistics.fmean(distances), statistics.median(distances)
            cells.append(f"{recall:.1f}% | {mean:.1f} / {median:g}")
        print(f"| {transform} | " + " | ".join(cells) + " |")

    print()
    for name in columns:
        base_hashes = [b.hashes[name] for b in bases]
        found = false_matches(base_hashes, distractors[name], args.threshold)
        nearest = nearest_distances(base_hashes, distractors[name])
        brute = int((nearest <= args.threshold).sum())
        assert brute == len(found), f"index found {len(found)}, brute force {brute}"
        print(
            f"{name}: false matches {len(found)} of {len(distractors[name]):,} distractors "
            f"({size}) against {args.bases} bases; closest distractor {nearest.min()} bits, "
            f"1st percentile {np.percentile(nearest, 1):.0f}, median {np.median(nearest):.0f}"
        )
        # Median: each worker's first call also pays for lazy imports and cold caches.
        base_ms = 1000 * statistics.median(b.hash_seconds[name] for b in bases)
        print(f"{name}: hashing cost {base_ms:.2f} ms per 1024x768 photo (median over bases)")
    total = len(distractors[columns[0]])
    print(
        f"distractors: {total / distractor_wall:,.0f}/s generated and hashed with "
        f"{args.workers} worker(s), {distractor_wall:.0f} s; hashing alone "
        f"{1000 * distractor_hash_seconds / max(total, 1):.2f} ms per {size} photo "
        f"(all columns)"
    )


if __name__ == "__main__":
    main()
