"""Photo hashing speed and agreement: Bastion against python-threatexchange, in the same run.

    OMP_NUM_THREADS=1 .venv/bin/python bench/photo_hashing.py [--count 200] [--rounds 3]

One core: 200 synthetic 1024x768 JPEGs (bastion.demo.media) hashed by Bastion's PDQ signal and by
python-threatexchange's ``pdq_hasher.pdq_from_bytes``; best of ``--rounds`` timed passes each.
Then Bastion's distance from the published reference hashes in ../shared/testdata (if present),
and two faster alternatives that Bastion does *not* ship, measured for the record.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pdqhash
import PIL
from machine import describe
from PIL import Image
from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes

from bastion.demo.media import make_photo
from bastion.signals.base import HashLimits
from bastion.signals.pdq import PdqSignal, hash_photo, pdq_from_pixels

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = Path(os.environ.get("BASTION_TESTDATA_DIR", ROOT.parent / "shared" / "testdata"))
LIMITS = HashLimits()


def machine() -> str:
    return describe(
        f"Pillow {PIL.__version__}, pdqhash {pdqhash.__version__}, numpy {np.__version__}"
    )


def best_rates(
    hashers: dict[str, Callable[[bytes], object]], images: list[bytes], rounds: int
) -> dict[str, float]:
    """Images/s of each hasher: the best of ``rounds`` passes, passes interleaved so that load
    from other processes on the machine hits every hasher alike."""
    best = dict.fromkeys(hashers, float("inf"))
    for hasher in hashers.values():
        hasher(images[0])  # warm caches and lazy imports
    for _ in range(rounds):
        for label, hasher in hashers.items():
            start = time.perf_counter()
            for data in images:
                hasher(data)
            best[label] = min(best[label], time.perf_counter() - start)
    rates = {label: len(images) / seconds for label, seconds in best.items()}
    for label, rate in rates.items():
        print(f"  {label:<46} {rate:8.1f} images/s  ({1000 / rate:.2f} ms each)")
    return rates


def bastion(data: bytes) -> tuple[str, int | None]:
    signal, _ = hash_photo(data, LIMITS)
    return signal.value, signal.quality


def draft_half(data: bytes) -> tuple[str, int]:
    """Not shipped: JPEG decoded at half size by libjpeg's DCT scaling."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (image.width // 2, image.height // 2))
        return pdq_from_pixels(np.asarray(image.convert("RGB")))


def reference_hashes() -> dict[Path, str]:
    folder = TESTDATA / "pdq-reference"
    expected: dict[Path, str] = {}
    with (folder / "PDQMD5TestData.csv").open(newline="") as file:
        for row in csv.DictReader(file):
            path = folder / row["FilePath"].replace("../../../../data/", "")
            if len(row["Hash"]) == 64 and path.is_file():
                expected[path] = row["Hash"]
    readme = (folder / "README.md").read_text()
    for line in readme.splitlines():  # the dih/ and pytx tables: "| name | hash | ..."
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if (
            len(cells) >= 2
            and len(cells[1]) == 64
            and all(c in "0123456789abcdef" for c in cells[1])
        ):
            for sub in ("dih", "pytx-hashing-resources"):
                if (folder / sub / cells[0]).is_file():
                    expected[folder / sub / cells[0]] = cells[1]
    return expected


def agreement(images: list[bytes], other: Callable[[bytes], tuple[str, int]]) -> str:
    distances = [PdqSignal.distance(bastion(d)[0], other(d)[0]) for d in images]
    same = sum(d == 0 for d in distances)
    mean = statistics.mean(distances)
    return f"identical {same}/{len(distances)}, max {max(distances)}, mean {mean:.2f} bits"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--cpu", type=int, default=0, help="the one CPU to run on")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != "1":
        # BLAS reads it when numpy loads, so it cannot be set from here.
        sys.exit("run on one core: OMP_NUM_THREADS=1 .venv/bin/python bench/photo_hashing.py")
    # Pin to one CPU so that helper threads (FFmpeg's, vpdq's hashing thread) share it too.
    os.sched_setaffinity(0, {args.cpu})

    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(f"pinned to CPU {args.cpu} (os.sched_setaffinity), OMP_NUM_THREADS=1")
    images = [make_photo(seed) for seed in range(args.count)]
    kib = sum(map(len, images)) / len(images) / 1024
    print(f"images: {len(images)} synthetic 1024x768 JPEGs, {kib:.0f} KiB average")

    print(f"speed (best of {args.rounds} interleaved passes):")
    rates = best_rates(
        {
            "bastion PdqSignal.hash_bytes": lambda d: PdqSignal.hash_bytes(d, LIMITS),
            "python-threatexchange pdq_from_bytes": pdq_from_bytes,
            "not shipped: JPEG draft() at half size": draft_half,
        },
        images,
        args.rounds,
    )
    theirs = rates["python-threatexchange pdq_from_bytes"]
    ours = rates["bastion PdqSignal.hash_bytes"]
    print(f"  ratio bastion / python-threatexchange: {ours / theirs:.2f}x")
    print(f"  agreement with python-threatexchange: {agreement(images, pdq_from_bytes)}")
    draft = rates["not shipped: JPEG draft() at half size"]
    print(f"  draft(): {draft / theirs:.2f}x; vs full decode: {agreement(images, draft_half)}")

    if not (TESTDATA / "pdq-reference").is_dir():
        print(f"reference data not found at {TESTDATA}; distances skipped")
        return
    expected = reference_hashes()
    distances = []
    for path, value in sorted(expected.items()):
        ours_hash, _ = bastion(path.read_bytes())
        distances.append(PdqSignal.distance(ours_hash, value))
    print(
        f"reference hashes ({len(distances)} images, C++ tool and python-threatexchange): "
        f"max {max(distances)}, mean {statistics.mean(distances):.2f} bits"
    )
    real = sorted(p for p in (TESTDATA / "pdq-reference").glob("*/*.jp*g"))
    real_images = [p.read_bytes() for p in real]
    print(f"  draft() on the {len(real)} reference JPEGs: {agreement(real_images, draft_half)}")
    print(
        f"  bastion vs python-threatexchange on the {len(real)} reference JPEGs: "
        f"{agreement(real_images, pdq_from_bytes)}"
    )


if __name__ == "__main__":
    sys.exit(main())
