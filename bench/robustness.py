"""Robustness: recall of edited copies, and false matches, for plain PDQ and for Bastion.

    OMP_NUM_THREADS=1 .venv/bin/python bench/robustness.py [--bases 200] [--distractors 20000]
        [--distractor-size 256x192] [--workers 2] [--threshold 31]

Bases are synthetic 1024x768 photos (``bastion.demo.media.make_photo``, seeds 0..bases-1). Each
base is hashed both ways and banked in a real Bastion bank (SQLite, with the variants Bastion
stores for photos banked from media). Each base is then edited by every transformation in
:data:`TRANSFORMS` and re-encoded, and the copy is measured in the same run:

* **pdq** (the reference: what other open tools do): recalled when the copy's plain PDQ is within
  ``--threshold`` bits of its base's;
* **Bastion**: recalled when ``Scanner.scan_bytes`` - hashing, the live indexes, the variant
  rules, verification, exactly as in production - matches the copy to its own base's entry.

Distractors are other seeds (from 1,000,000 up), drawn small by default (generating a 1024x768
picture costs ~80 ms; the hash hardly depends on size), and to make them hard each is edited by
one of the same transformations (a third are left alone): unrelated pictures in the same
screenshot chrome, caption bars, letterbox, rotations and crops exercise every variant path.
A distractor matching any base is a false match, for either column.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pdqhash
import PIL
from machine import describe
from PIL import Image, ImageEnhance, ImageOps

from bastion.banks.from_media import entries_from_extraction
from bastion.banks.records import NewEntry
from bastion.demo.edits import (
    Edit,
    crop_centre,
    crop_random,
    crop_side,
    letterbox,
    logo,
    logo_random,
    meme,
    picture_in_picture,
    pillarbox,
    rotate,
    rotate_random,
    screenshot,
    seeded,
)
from bastion.demo.media import make_photo
from bastion.index.pdq import PdqIndex, pack_pdq
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.signals.base import HashLimits
from bastion.signals.extract import extract_signals
from bastion.signals.pdq import PdqSignal

LIMITS = HashLimits()
BASE_SIZE = (1024, 768)
# Far above any base seed, so no distractor is a base drawn again.
DISTRACTOR_SEED0 = 1_000_000
# Edited copies are stored at a high quality so that each row measures its own edit, not an
# extra lossy re-encode (which has a row of its own: jpeg_q50).
COPY_QUALITY = 95


def plain_pdq(data: bytes) -> list[str]:
    return [PdqSignal.hash_bytes(data, LIMITS)[0].value]


# ---- transformations ------------------------------------------------------------------------


# name -> (edit, JPEG quality of the stored copy); every edit takes a random generator, seeded
# per base and edit, so random edits repeat exactly.
TRANSFORMS: dict[str, tuple[Edit, int]] = {
    "jpeg_q50": (seeded(lambda image: image), 50),
    "half_size": (
        seeded(lambda image: image.resize((image.width // 2, image.height // 2))),
        COPY_QUALITY,
    ),
    "crop5_side": (seeded(crop_side(0.05)), COPY_QUALITY),
    "crop5_centre": (seeded(crop_centre(0.05)), COPY_QUALITY),
    "crop10_side": (seeded(crop_side(0.10)), COPY_QUALITY),
    "crop10_centre": (seeded(crop_centre(0.10)), COPY_QUALITY),
    "logo_10pct": (seeded(logo), COPY_QUALITY),
    "brightness+30": (seeded(lambda i: ImageEnhance.Brightness(i).enhance(1.3)), COPY_QUALITY),
    "contrast+30": (seeded(lambda i: ImageEnhance.Contrast(i).enhance(1.3)), COPY_QUALITY),
    "greyscale": (seeded(ImageOps.grayscale), COPY_QUALITY),
    "letterbox": (seeded(letterbox), COPY_QUALITY),
    "pillarbox": (seeded(pillarbox), COPY_QUALITY),
    "mirror": (seeded(ImageOps.mirror), COPY_QUALITY),
    "rotate+3": (seeded(rotate(3)), COPY_QUALITY),
    "rotate-3": (seeded(rotate(-3)), COPY_QUALITY),
    "screenshot": (seeded(screenshot), COPY_QUALITY),
    "meme (caption bars)": (seeded(meme), COPY_QUALITY),
    "crop5_random (5% of w and h, random sides)": (crop_random(0.05), COPY_QUALITY),
    "crop10_random": (crop_random(0.10), COPY_QUALITY),
    "logo_10pct_random_corner": (logo_random, COPY_QUALITY),
    "rotate_random (-3..3 degrees)": (rotate_random, COPY_QUALITY),
    "picture_in_picture (half size on another photo)": (picture_in_picture, COPY_QUALITY),
}


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


# ---- work done in the pool ------------------------------------------------------------------

# Each worker process opens the bank database once (see _open_bastion) and scans through it.
_BASTION: Bastion | None = None


def _open_bastion(database_url: str) -> None:
    global _BASTION
    _BASTION = Bastion.from_settings(Settings(database_url=database_url))


@dataclass
class BankedBase:
    seed: int
    plain: str
    entries: list[NewEntry]  # what Bastion banks for the base photo (with its variants)
    plain_seconds: float  # plain PDQ of the base (decode + hash)
    family_seconds: float  # Bastion's query-side hashing of the base (plain + probe)
    bank_seconds: float  # Bastion's bank-side extras (crops, regions, check regions)


def bank_base(seed: int) -> BankedBase:
    data = make_photo(seed, size=BASE_SIZE)
    start = time.perf_counter()
    plain = plain_pdq(data)[0]
    plain_seconds = time.perf_counter() - start
    start = time.perf_counter()
    extraction = extract_signals(data)
    family_seconds = time.perf_counter() - start
    start = time.perf_counter()
    entries, _ = entries_from_extraction(extraction, source=f"base-{seed}")
    bank_seconds = time.perf_counter() - start
    return BankedBase(seed, plain, entries, plain_seconds, family_seconds, bank_seconds)


@dataclass
class Scanned:
    plain: str  # the copy's plain PDQ (the reference column)
    matched: list[tuple[int, str, str]]  # Bastion: (seed of matched base, variant, bank variant)
    scan_seconds: float


def _scan(data: bytes) -> Scanned:
    assert _BASTION is not None
    start = time.perf_counter()
    result = _BASTION.scanner.scan_bytes(data, name="copy.jpg", source="bench")
    seconds = time.perf_counter() - start
    plain = next(s.value for s in result.signals if s.type == "pdq")
    matched = [
        (int(m.note), m.variant or "plain", m.bank_variant or "pdq")
        for m in result.matches
        if m.signal_type == "pdq" and not m.suppressed
    ]
    return Scanned(plain, matched, seconds)


def _edited(image: Image.Image, transform: str, seed: int) -> bytes:
    edit, quality = TRANSFORMS[transform]
    rng = np.random.default_rng([seed, list(TRANSFORMS).index(transform)])
    return _jpeg(edit(image, rng), quality)


def scan_copies(seed: int) -> dict[str, Scanned]:
    with Image.open(io.BytesIO(make_photo(seed, size=BASE_SIZE))) as opened:
        image = opened.convert("RGB")
    return {name: _scan(_edited(image, name, seed)) for name in TRANSFORMS}


def scan_distractors(job: tuple[int, int, tuple[int, int]]) -> list[tuple[str, Scanned]]:
    """Distractor seeds [first, first + count): each drawn, edited by a random transformation
    (or none, a third of the time), scanned."""
    first, count, size = job
    names = list(TRANSFORMS)
    out = []
    for seed in range(first, first + count):
        with Image.open(io.BytesIO(make_photo(seed, size=size))) as opened:
            image = opened.convert("RGB")
        rng = np.random.default_rng(seed)
        pick = int(rng.integers(len(names) + len(names) // 2))
        if pick < len(names):
            out.append((names[pick], _scan(_edited(image, names[pick], seed))))
        else:
            out.append(("none", _scan(_jpeg(image, COPY_QUALITY))))
    return out


# ---- measures -------------------------------------------------------------------------------


def plain_false_matches(bases: list[str], distractors: list[str], threshold: int) -> int:
    """Distractors within ``threshold`` of any base, found with PdqIndex and checked by brute
    force."""
    index = PdqIndex()
    index.add(enumerate(bases))
    found = sum(1 for hits in index.search_many(distractors, threshold) if hits)
    brute = int((nearest_distances(bases, distractors) <= threshold).sum())
    assert brute == found, f"index found {found}, brute force {brute}"
    return found


def nearest_distances(bases: list[str], distractors: list[str]) -> np.ndarray:
    """Each distractor's distance to its closest base (brute force)."""
    packed = pack_pdq(bases)
    queries = pack_pdq(distractors)
    nearest = np.empty(len(queries), dtype=np.int64)
    for start in range(0, len(queries), 4096):
        block = queries[start : start + 4096, np.newaxis, :] ^ packed[np.newaxis, :, :]
        nearest[start : start + 4096] = np.bitwise_count(block).sum(axis=2).min(axis=1)
    return nearest


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield DISTRACTOR_SEED0 + start, min(size, total - start)


def parse_size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def build_bank(database_url: str, bases: list[BankedBase]) -> None:
    """A real Bastion bank of the bases (SQLite), each entry's note naming its seed."""
    bastion = Bastion.from_settings(Settings(database_url=database_url))
    bastion.db.upgrade()
    with bastion.db.session() as session:
        bastion.banks.create(session, name="bases", actor="bench:robustness")
        for base in bases:
            entries = [replace(entry, note=str(base.seed)) for entry in base.entries]
            bastion.banks.add_entries(
                session, "bases", entries, actor="bench:robustness", group=True
            )
    bastion.close()


def _recall_table(bases: list[BankedBase], copies: list[dict[str, Scanned]], threshold: int):
    print(
        "| transformation | pdq recall | pdq mean / median distance | Bastion recall | "
        "Bastion matched through (most common) |"
    )
    print("|---|---:|---:|---:|---|")
    wrong = 0
    for transform in TRANSFORMS:
        distances, found, ways = [], 0, Counter()
        for base, scanned in zip(bases, copies, strict=True):
            copy = scanned[transform]
            distances.append(PdqSignal.distance(copy.plain, base.plain))
            mine = [m for m in copy.matched if m[0] == base.seed]
            wrong += sum(1 for m in copy.matched if m[0] != base.seed)
            if mine:
                found += 1
                ways[f"{mine[0][1]} / {mine[0][2]}"] += 1
        recall = 100 * sum(d <= threshold for d in distances) / len(distances)
        mean, median = statistics.fmean(distances), statistics.median(distances)
        top = ", ".join(f"{way} ({count})" for way, count in ways.most_common(2))
        print(
            f"| {transform} | {recall:.1f}% | {mean:.1f} / {median:g} | "
            f"{100 * found / len(bases):.1f}% | {top} |"
        )
    print(f"\nCopies matched to a *different* base: {wrong}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bases", type=int, default=200)
    parser.add_argument("--distractors", type=int, default=20_000)
    parser.add_argument("--distractor-size", type=parse_size, default=(256, 192))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threshold", type=int, default=PdqSignal.default_threshold)
    args = parser.parse_args()

    print(
        describe(f"Pillow {PIL.__version__}, numpy {np.__version__}, pdqhash {pdqhash.__version__}")
    )
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {' '.join(sys.argv)}")
    workdir = Path(tempfile.mkdtemp(prefix="bastion-robustness-"))
    database_url = f"sqlite:///{workdir / 'bank.db'}"
    started = time.perf_counter()
    with multiprocessing.Pool(args.workers) as pool:
        bases = pool.map(bank_base, range(args.bases), chunksize=4)
    build_bank(database_url, bases)
    print(f"{args.bases} bases hashed and banked in {time.perf_counter() - started:.1f} s")

    with multiprocessing.Pool(args.workers, _open_bastion, (database_url,)) as pool:
        start = time.perf_counter()
        copies = pool.map(scan_copies, range(args.bases), chunksize=2)
        print(
            f"{args.bases} x {len(TRANSFORMS)} copies scanned in "
            f"{time.perf_counter() - start:.1f} s"
        )
        start = time.perf_counter()
        distractors: list[tuple[str, Scanned]] = []
        jobs = [(*chunk, args.distractor_size) for chunk in _chunks(args.distractors, 250)]
        for done, part in enumerate(pool.imap(scan_distractors, jobs), 1):
            distractors.extend(part)
            if done % 40 == 0 or done == len(jobs):
                rate = len(distractors) / (time.perf_counter() - start)
                print(
                    f"  distractors {len(distractors):,}: {rate:,.0f}/s drawn, edited, scanned",
                    flush=True,
                )
        distractor_wall = time.perf_counter() - start

    size = "x".join(map(str, args.distractor_size))
    print(f"\nRecall at threshold {args.threshold} ({args.bases} bases, 1024x768):\n")
    _recall_table(bases, copies, args.threshold)

    base_plains = [b.plain for b in bases]
    plain_found = plain_false_matches(
        base_plains, [s.plain for _, s in distractors], args.threshold
    )
    nearest = nearest_distances(base_plains, [s.plain for _, s in distractors])
    bastion_found = [(t, s.matched) for t, s in distractors if s.matched]
    edits = Counter(t for t, _ in distractors)
    print(
        f"\nDistractors: {len(distractors):,} ({size}), each edited by one of the "
        f"{len(TRANSFORMS)} transformations or left alone ({edits['none']:,})."
    )
    print(
        f"pdq: false matches {plain_found}; closest {nearest.min()} bits, 1st percentile "
        f"{np.percentile(nearest, 1):.0f}, median {np.median(nearest):.0f}"
    )
    print(
        f"Bastion: false matches {len(bastion_found)}"
        + (f": {bastion_found[:10]}" if bastion_found else "")
    )

    def ms(values: Iterable[float]) -> float:
        return 1000 * statistics.median(values)

    plain_ms = ms(b.plain_seconds for b in bases)
    family_ms = ms(b.family_seconds for b in bases)
    print(
        f"\nHashing per 1024x768 photo (median over bases, inside the pool): plain PDQ "
        f"{plain_ms:.2f} ms; Bastion (md5, sha256, PDQ and its query variants) {family_ms:.2f} ms "
        f"= {family_ms / plain_ms:.2f}x; banking extras (crops, regions, checks) "
        f"{ms(b.bank_seconds for b in bases):.2f} ms"
    )
    scans = [s.scan_seconds for c in copies for s in c.values()]
    print(
        f"Scan of a copy (hash + match, SQLite): median {ms(scans):.1f} ms; distractors "
        f"{len(distractors) / distractor_wall:,.0f}/s with {args.workers} worker(s)"
    )


if __name__ == "__main__":
    main()
