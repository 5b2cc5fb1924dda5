"""vPDQ robustness: recall of edited video copies and false matches against unrelated videos.

    OMP_NUM_THREADS=1 .venv/bin/python bench/robustness_video.py [--bases 12] [--distractors 100]
        [--seconds 24] [--distractor-seconds 10] [--fps 25] [--workers 2]

Bases are synthetic 640x360 H.264 videos drawn here (:func:`render`): a new scene every 2-5 s,
each a demo picture (``bastion.demo.media.make_photo``, 960x540) that the camera pans over,
under solid shapes that move on their own paths, so frames change continuously and scenes change
abruptly. The demo pictures are built to hash robustly, but the camera shows a moving part of
one and shapes cover it, so frames are far more fragile than the pictures alone: a 10% logo or a
5% crop moves most frames 30-60 bits (half size 6-20). Every base is edited by each
transformation in :data:`TRANSFORMS`, re-encoded, and hashed once with ``hash_video`` (plain
vPDQ + variants). Two columns are measured on the very same files:

* reference: the plain vPDQ of the copy, searched in a ``VpdqIndex`` (default rule: 80% of the
  query's or of the banked video's frames found) of the bases' plain vPDQ, 31-bit frames;
* bastion: the plain vPDQ or any variant (``VideoHash.variant_signals``: mirror, region) of the
  copy finds its base in that same index, or in the index of the bases' dense frames (sampled
  eight times a second, as Bastion banks videos; only the query's share counts there), as
  ``Matcher`` searches them.

A copy is *recalled* when its own base is among the hits; a hit on another base is a cross
match. False matches are counted in both directions against distractors (other seeds, shorter):
each distractor, with its variants for the bastion column, searched in the bank of bases; and
each base and copy searched in a bank of the distractors' plain vPDQ (and dense frames).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from functools import lru_cache

import av
import numpy as np
from machine import describe
from PIL import Image

from bastion.demo.media import make_photo
from bastion.index.vpdq import VpdqIndex, VpdqMatchRule
from bastion.index.vpdq_dense import DenseVpdqIndex
from bastion.signals.video import hash_video

WIDTH, HEIGHT = 640, 360
FRAME_THRESHOLD = 31
BASE_CRF, LOW_QUALITY_CRF = 23, 38
# Seeds: distractors and the busy videos picture-in-picture copies are pasted on never repeat a
# base seed.
HOST_SEED0 = 500_000
DISTRACTOR_SEED0 = 1_000_000

Frame = np.ndarray


# ---- synthetic videos --------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    kind: int  # 0 disc, 1 rectangle
    colour: np.ndarray
    radius: tuple[int, int]
    start: tuple[float, float]  # fractions of the frame
    velocity: tuple[float, float]  # fractions of the frame per second


@dataclass(frozen=True)
class Scene:
    start: float  # seconds
    texture: np.ndarray  # (H', W', 3) float32, larger than the frame: the camera pans over it
    pan: tuple[float, float]  # pixels per second
    shapes: list[Shape] = field(default_factory=list)


def _texture(seed: int, width: int, height: int) -> np.ndarray:
    """A demo picture (``make_photo``: cosine patterns, washes, shapes and strokes) as float32."""
    with Image.open(io.BytesIO(make_photo(seed, size=(width, height)))) as picture:
        return np.asarray(picture.convert("RGB"), dtype=np.float32)


@lru_cache(maxsize=8)
def scenes(seed: int, seconds: float) -> tuple[Scene, ...]:
    rng = np.random.default_rng(seed)
    found: list[Scene] = []
    start = 0.0
    while start < seconds:
        texture = _texture(seed * 100 + len(found), WIDTH * 3 // 2, HEIGHT * 3 // 2)
        shapes = [
            Shape(
                int(rng.integers(0, 2)),
                rng.uniform(20, 235, size=3).astype(np.float32),
                (int(rng.integers(15, 70)), int(rng.integers(15, 70))),
                (float(rng.uniform(0, 1)), float(rng.uniform(0, 1))),
                (float(rng.uniform(-0.25, 0.25)), float(rng.uniform(-0.25, 0.25))),
            )
            for _ in range(int(rng.integers(3, 7)))
        ]
        pan = (float(rng.uniform(-40, 40)), float(rng.uniform(-20, 20)))
        found.append(Scene(start, texture, pan, shapes))
        start += float(rng.uniform(2.0, 5.0))
    return tuple(found)


def _bounce(value: float) -> float:
    """A position that travels back and forth over 0..1."""
    value %= 2.0
    return value if value <= 1.0 else 2.0 - value


def render(seed: int, seconds: float, time_s: float) -> Frame:
    """The RGB frame of video ``seed`` at ``time_s``: a pure function, so any frame, any order."""
    all_scenes = scenes(seed, seconds)
    scene = next(s for s in reversed(all_scenes) if s.start <= time_s)
    local = time_s - scene.start
    spare_x, spare_y = scene.texture.shape[1] - WIDTH, scene.texture.shape[0] - HEIGHT
    x = round(_bounce(0.5 + scene.pan[0] * local / spare_x) * spare_x)
    y = round(_bounce(0.5 + scene.pan[1] * local / spare_y) * spare_y)
    frame = scene.texture[y : y + HEIGHT, x : x + WIDTH].copy()
    for shape in scene.shapes:
        cx = round(_bounce(shape.start[0] + shape.velocity[0] * local) * WIDTH)
        cy = round(_bounce(shape.start[1] + shape.velocity[1] * local) * HEIGHT)
        rx, ry = shape.radius
        top, bottom, left, right = (
            max(0, cy - ry),
            min(HEIGHT, cy + ry),
            max(0, cx - rx),
            min(WIDTH, cx + rx),
        )
        if top >= bottom or left >= right:
            continue
        if shape.kind == 1:
            frame[top:bottom, left:right] = shape.colour
        else:
            ys = (np.arange(top, bottom)[:, np.newaxis] - cy) / ry
            xs = (np.arange(left, right)[np.newaxis, :] - cx) / rx
            inside = ys**2 + xs**2 <= 1.0
            frame[top:bottom, left:right][inside] = shape.colour
    return frame.astype(np.uint8)


# ---- transformations ----------------------------------------------------------------------------


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def _scaled(frame: Frame, width: int, height: int) -> Frame:
    return np.asarray(Image.fromarray(frame).resize((width, height), Image.Resampling.BILINEAR))


def picture_in_picture(frame: Frame, host: Frame) -> Frame:
    """The frame at half size over another busy video, towards the bottom right."""
    out = host.copy()
    width, height = _even(WIDTH * 0.5), _even(HEIGHT * 0.5)
    left, top = _even(WIDTH * 0.42), _even(HEIGHT * 0.38)
    out[top : top + height, left : left + width] = _scaled(frame, width, height)
    return out


def in_player(frame: Frame) -> Frame:
    """The frame at 60% inside a flat app UI: dark title bar, light side panel, grey page."""
    out = np.full((HEIGHT, WIDTH, 3), 236, dtype=np.uint8)
    out[: HEIGHT // 10] = (32, 33, 36)
    out[:, : WIDTH // 5] = (210, 214, 220)
    width, height = _even(WIDTH * 0.6), _even(HEIGHT * 0.6)
    left, top = _even(WIDTH * 0.28), _even(HEIGHT * 0.2)
    out[top : top + height, left : left + width] = _scaled(frame, width, height)
    return out


def letterbox_9x16(frame: Frame) -> Frame:
    """The frame across the width of a portrait 9:16 canvas, black above and below."""
    canvas_width, canvas_height = _even(HEIGHT), _even(HEIGHT * 16 / 9)
    height = _even(HEIGHT * canvas_width / WIDTH)
    out = np.zeros((canvas_height, canvas_width, 3), dtype=np.uint8)
    top = _even((canvas_height - height) / 2)
    out[top : top + height] = _scaled(frame, canvas_width, height)
    return out


def crop5(frame: Frame) -> Frame:
    """The centre 95% of each dimension (2.5% off every edge)."""
    dx, dy = round(WIDTH * 0.025), round(HEIGHT * 0.025)
    return frame[dy : dy + _even(HEIGHT - 2 * dy), dx : dx + _even(WIDTH - 2 * dx)]


@lru_cache(maxsize=1)
def _badge() -> Frame:
    width, height = _even(WIDTH * 0.1**0.5), _even(HEIGHT * 0.1**0.5)
    rng = np.random.default_rng(7)
    ramp = np.linspace(150, 230, width, dtype=np.float32)[np.newaxis, :, np.newaxis]
    badge = ramp + rng.normal(0, 12, size=(height, width, 1)).astype(np.float32)
    badge = np.repeat(badge, 3, axis=2)
    for row in range(4, height - 6, 10):  # lines of "writing"
        badge[row : row + 4, 6 : width - 6 - (row * 7) % 30] = 30
    return np.clip(badge, 0, 255).astype(np.uint8)


def logo(frame: Frame) -> Frame:
    """A textured badge with writing over 10% of the area, bottom right, in every frame."""
    out = frame.copy()
    badge = _badge()
    out[HEIGHT - badge.shape[0] :, WIDTH - badge.shape[1] :] = badge
    return out


def mirror(frame: Frame) -> Frame:
    return np.ascontiguousarray(frame[:, ::-1])


def half_size(frame: Frame) -> Frame:
    return _scaled(frame, WIDTH // 2, HEIGHT // 2)


@dataclass(frozen=True)
class Transform:
    """A copy: which source frames, in what order (``pick(count)``), edited by ``edit``."""

    edit: Callable[[Frame], Frame] | None = None
    pick: Callable[[int], list[int]] = lambda count: list(range(count))
    crf: int = BASE_CRF
    on_host: bool = False  # the edit also takes the frame of another video


def _identity(frame: Frame) -> Frame:
    return frame


TRANSFORMS: dict[str, Transform] = {
    "reencode_crf38": Transform(crf=LOW_QUALITY_CRF),
    "half_size": Transform(half_size),
    "speed_2x": Transform(pick=lambda n: list(range(0, n, 2))),
    "trim_middle_50": Transform(pick=lambda n: list(range(n // 4, 3 * n // 4))),
    "trim_first_30": Transform(pick=lambda n: list(range(0, 3 * n // 10))),
    # Cut 2.4 s in: the copy's once-a-second samples fall between the original's (0.4 s off
    # its 1-per-second frames, 0.1 s off the 4-per-second frames banked videos also keep).
    "trim_unaligned_2.4s": Transform(pick=lambda n: list(range(n * 24 // 240, n))),
    "halves_swapped": Transform(pick=lambda n: list(range(n // 2, n)) + list(range(n // 2))),
    "mirror": Transform(mirror),
    "pip_50_on_video": Transform(on_host=True),
    "pip_60_in_player_ui": Transform(in_player),
    "letterbox_9x16": Transform(letterbox_9x16),
    "crop_5": Transform(crop5),
    "logo_10pct": Transform(logo),
}


# ---- encoding and hashing -----------------------------------------------------------------------


def encode(frames: Iterator[Frame], fps: int, crf: int) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "crf": str(crf), "threads": "1"}
        for index, rgb in enumerate(frames):
            if index == 0:
                stream.height, stream.width = rgb.shape[:2]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


@dataclass
class Hashed:
    plain: str
    variants: dict[str, str]  # variant name -> vPDQ text
    sampled_frames: int
    dense: str = ""  # banked videos: frames eight times a second (hash_video(dense=True))


def hash_file(data: bytes) -> Hashed:
    video = hash_video(data)
    variants = {signal.variant: signal.value for signal in video.variant_signals()}
    return Hashed(video.signal().value, variants, len(video.frames))


@dataclass
class BaseResult:
    seed: int
    original: Hashed
    copies: dict[str, Hashed]
    plain_seconds: float  # hashing the original without variants
    variant_seconds: float  # and with them


def make_copy(seed: int, transform: Transform, seconds: float, fps: int) -> bytes:
    count = round(seconds * fps)
    edit = transform.edit or _identity

    def frames() -> Iterator[Frame]:
        for index in transform.pick(count):
            frame = render(seed, seconds, index / fps)
            if transform.on_host:
                yield picture_in_picture(frame, render(HOST_SEED0 + seed, seconds, index / fps))
            else:
                yield edit(frame)

    return encode(frames(), fps, transform.crf)


def hash_base(job: tuple[int, float, int]) -> BaseResult:
    seed, seconds, fps = job
    original = make_copy(seed, Transform(), seconds, fps)
    start = time.perf_counter()
    hash_video(original, variants=False)
    plain_seconds = time.perf_counter() - start
    start = time.perf_counter()
    hashed = hash_file(original)
    variant_seconds = time.perf_counter() - start
    # As Bastion banks it: plain vPDQ plus the dense frames.
    hashed.dense = (hash_video(original, dense=True).bank_variants() or {}).get("dense", "")
    copies = {
        name: hash_file(make_copy(seed, transform, seconds, fps))
        for name, transform in TRANSFORMS.items()
    }
    return BaseResult(seed, hashed, copies, plain_seconds, variant_seconds)


def hash_distractor(job: tuple[int, float, int]) -> Hashed:
    """A distractor is both a query (its variants) and, the other way round, a banked video."""
    seed, seconds, fps = job
    data = make_copy(seed, Transform(), seconds, fps)
    hashed = hash_file(data)
    hashed.dense = (hash_video(data, dense=True).bank_variants() or {}).get("dense", "")
    return hashed


# ---- measures -----------------------------------------------------------------------------------


def index_of(values: list[str]) -> VpdqIndex:
    index = VpdqIndex(VpdqMatchRule())
    index.add((number, value) for number, value in enumerate(values) if value)
    return index


def dense_index_of(values: list[str]) -> DenseVpdqIndex:
    """The banked dense frames, in the index the live indexes use for them."""
    index = DenseVpdqIndex(VpdqMatchRule())
    index.add((number, value) for number, value in enumerate(values) if value)
    return index


def hits(
    index: VpdqIndex, query: Hashed, with_variants: bool, dense: DenseVpdqIndex | None = None
) -> set[int]:
    """Bases found by the query's plain vPDQ (reference) or by it and its variants, in the plain
    and, for Bastion, the dense index (what ``Matcher`` searches)."""
    values = [query.plain, *(query.variants.values() if with_variants else ())]
    indexes: list[VpdqIndex | DenseVpdqIndex] = [index]
    if with_variants and dense is not None:
        indexes.append(dense)
    return {
        hit.entry_id
        for searched in indexes
        for value in values
        for hit in searched.search(value, FRAME_THRESHOLD)
    }


COLUMNS = {"reference": False, "bastion": True}  # column -> whether variants are searched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bases", type=int, default=12)
    parser.add_argument("--distractors", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=24.0, help="length of each base")
    parser.add_argument("--distractor-seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    libs = ".".join(str(part) for part in av.library_versions["libavcodec"])
    print(describe(f"PyAV {av.__version__} (libavcodec {libs}), numpy {np.__version__}"))
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; OMP_NUM_THREADS=1 .venv/bin/python "
        + " ".join(sys.argv)
    )
    started = time.perf_counter()
    with multiprocessing.Pool(args.workers) as pool:
        bases = pool.map(
            hash_base, [(seed, args.seconds, args.fps) for seed in range(args.bases)], chunksize=1
        )
        print(
            f"{args.bases} bases x {len(TRANSFORMS)} copies: {time.perf_counter() - started:.0f} s"
        )
        started = time.perf_counter()
        distractor_jobs = [
            (DISTRACTOR_SEED0 + n, args.distractor_seconds, args.fps)
            for n in range(args.distractors)
        ]
        distractors = pool.map(hash_distractor, distractor_jobs, chunksize=4)
        print(f"{args.distractors} distractors in {time.perf_counter() - started:.0f} s")

    bank = index_of([base.original.plain for base in bases])
    dense_bank = dense_index_of([base.original.dense for base in bases])
    print()
    print(
        f"Recall ({args.bases} bases, {WIDTH}x{HEIGHT}, {args.seconds:g} s at {args.fps} "
        f"frames/s, vPDQ at 1 frame/s; frames within {FRAME_THRESHOLD} bits, default rule); "
        "cross = copies that also matched another base:"
    )
    print()
    print("| transformation | reference recall | bastion recall | matched by (bastion) | cross |")
    print("|---|---:|---:|---|---:|")
    cross = dict.fromkeys(COLUMNS, 0)
    for name in TRANSFORMS:
        recalled = dict.fromkeys(COLUMNS, 0)
        through: dict[str, int] = {}
        for number, base in enumerate(bases):
            copy = base.copies[name]
            for column, with_variants in COLUMNS.items():
                found = hits(bank, copy, with_variants, dense_bank)
                recalled[column] += number in found
                cross[column] += bool(found - {number})
            for label, value in [("plain", copy.plain), *copy.variants.items()]:
                for searched, banked in ((bank, ""), (dense_bank, " / dense")):
                    found_by = {hit.entry_id for hit in searched.search(value, FRAME_THRESHOLD)}
                    if number in found_by:
                        through[label + banked] = through.get(label + banked, 0) + 1
                        break
        cells = [f"{100 * recalled[c] / len(bases):.0f}%" for c in COLUMNS]
        which = ", ".join(f"{label} {count}" for label, count in through.items()) or "-"
        print(f"| {name} | {' | '.join(cells)} | {which} | {cross['bastion']} |")
    print()
    distractor_bank = index_of([d.plain for d in distractors])
    distractor_dense = dense_index_of([d.dense for d in distractors])
    queries = [base.original for base in bases] + [
        copy for base in bases for copy in base.copies.values()
    ]
    for column, with_variants in COLUMNS.items():
        into_bases = sum(bool(hits(bank, d, with_variants, dense_bank)) for d in distractors)
        into_distractors = sum(
            bool(hits(distractor_bank, q, with_variants, distractor_dense)) for q in queries
        )
        print(
            f"{column}: false matches: {into_bases} of {len(distractors)} distractors "
            f"({args.distractor_seconds:g} s) matched a base; {into_distractors} of "
            f"{len(queries)} bases and copies matched a distractor; {cross[column]} copies "
            "matched another base"
        )
    with_region = sum(REGION_KEY in d.variants for d in distractors)
    print(
        f"distractors with a region variant (a box was voted): {with_region} of {len(distractors)}"
    )
    frames = statistics.median(base.original.sampled_frames for base in bases)
    plain_ms = 1000 * statistics.median(base.plain_seconds for base in bases) / frames
    variant_ms = 1000 * statistics.median(base.variant_seconds for base in bases) / frames
    print(
        f"hashing a base ({WIDTH}x{HEIGHT}, {args.fps} frames/s), per sampled frame (median): "
        f"{plain_ms:.1f} ms plain only, {variant_ms:.1f} ms with variants "
        f"(+{variant_ms - plain_ms:.1f} ms)"
    )


REGION_KEY = "region"


if __name__ == "__main__":
    main()
