"""Deterministic synthetic media for the demo, the tests and the benchmarks.

Nothing here is (or resembles) real extremist material: every picture is cosine patterns, colour
washes, shapes and pen-like strokes drawn from a seeded generator. The same seed gives the same
bytes on every run with the same Pillow/FFmpeg builds: no BLAS, no threads, and no swscale in the
generator, each of which was seen to change a byte now and then.

The pictures are built for perceptual hashing: their luminance is a sum of exactly the cosine
patterns PDQ measures, with random signs (see :func:`_cosine_field`), so

* different seeds hash far apart (over 300 seeds the closest pair is 96 bits apart; 31 is a match);
* the edits in :data:`EDITS` stay within a few bits of the original (crop_small at most ~10);
* quality is 100, and the hash hardly depends on the picture's size.

Colours stay inside 24..200, so "brighten" does not clip whole regions to white.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

Edit = Literal["resize", "reencode", "crop_small", "brighten", "grayscale"]
EDITS: tuple[Edit, ...] = ("resize", "reencode", "crop_small", "brighten", "grayscale")

_LOW, _HIGH = 24, 200  # colour range, see module docstring
_AMPLITUDE = 80.0
_SHAPE_ALPHA = 90


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in rng.integers(_LOW, _HIGH, size=3))
    return r, g, b


def _cosine_field(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Luminance built from the 16x16 cosine patterns PDQ's DCT measures, each with a random sign.

    PDQ's bits are, in effect, the signs of those 256 coefficients; giving every one of them the
    same large magnitude makes the bits of a seed both random (distinct seeds, distinct hashes)
    and far from flipping under small crops, rescaling and re-encoding. (Frequencies 1..16: PDQ
    leaves out the constant term.)
    """
    # Exactly half positive: PDQ compares each coefficient with their median, which then falls in
    # the gap between the two groups instead of among near-equal values.
    signs = rng.permutation(np.repeat([-1.0, 1.0], 128)).reshape(16, 16)
    freqs = np.arange(1, 17)[:, np.newaxis] * np.pi / 2
    cols = np.cos(freqs * (2 * np.arange(width) + 1) / width)
    rows = np.cos(freqs * (2 * np.arange(height) + 1) / height)
    # Sums in a fixed order, without BLAS: a matrix product's rounding depends on the BLAS build
    # and thread count, and a rounding flip can change a pixel, so the same seed would not always
    # give the same bytes.
    weighted = np.zeros((16, width))
    for k in range(16):
        weighted += signs[:, k : k + 1] * cols[k]
    field = np.zeros((height, width))
    for k in range(16):
        field += np.multiply.outer(rows[k], weighted[k])
    return field / max(1e-9, float(np.abs(field).max()))


def _draw_picture(seed: int, size: tuple[int, int]) -> Image.Image:
    width, height = size
    rng = np.random.default_rng(seed)
    luma = 112 + _AMPLITUDE * _cosine_field(rng, width, height)
    # Colour that leaves luminance alone: two directions orthogonal to the BT.601 luma weights.
    grid = rng.uniform(-1, 1, size=(3, 4, 2)).astype(np.float32)
    tint = np.stack(
        [
            np.asarray(Image.fromarray(grid[..., c]).resize(size, Image.Resampling.BICUBIC))
            for c in (0, 1)
        ],
        axis=-1,
    )
    first = np.array([0.587, -0.299, 0.0], dtype=np.float32) * 60
    second = np.array([0.0, 0.114, -0.587], dtype=np.float32) * 60
    chroma = tint[..., 0:1] * first + tint[..., 1:2] * second
    rgb = np.clip(luma[..., np.newaxis] + chroma, 0, 255).astype(np.uint8)
    base = Image.fromarray(rgb, "RGB")
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    scale = min(width, height)
    # Shapes, blended in lightly so they add edges without swamping the cosine field.
    for _ in range(int(rng.integers(5, 10))):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        rx, ry = (int(v) for v in rng.integers(scale // 20, scale // 6, size=2))
        box = (x - rx, y - ry, x + rx, y + ry)
        fill = (*_colour(rng), _SHAPE_ALPHA)
        kind = int(rng.integers(0, 3))
        if kind == 0:
            draw.ellipse(box, fill=fill)
        elif kind == 1:
            draw.rectangle(box, fill=fill)
        else:
            points = [
                (int(x + rx * np.cos(a)), int(y + ry * np.sin(a)))
                for a in np.sort(rng.uniform(0, 2 * np.pi, size=5))
            ]
            draw.polygon(points, fill=fill)
    # Text-like strokes: a block of short dark dashes in rows, like lines of writing.
    left, top = int(rng.integers(0, width * 2 // 3)), int(rng.integers(0, height * 2 // 3))
    line_gap = max(4, scale // 60)
    ink = (*(int(v) for v in rng.integers(_LOW, _LOW + 40, size=3)), 200)
    for row in range(int(rng.integers(3, 7))):
        x = left
        y = top + row * line_gap * 2
        for _ in range(int(rng.integers(3, 8))):
            word = int(rng.integers(line_gap, line_gap * 5))
            draw.line((x, y, x + word, y), fill=ink, width=max(2, line_gap // 2))
            x += word + line_gap
    return Image.alpha_composite(base.convert("RGBA"), overlay).convert("RGB")


def _encode(image: Image.Image, fmt: str, quality: int = 90) -> bytes:
    out = io.BytesIO()
    if fmt.upper() in ("JPEG", "JPG"):
        image.convert("RGB").save(out, "JPEG", quality=quality)
    else:
        image.save(out, fmt.upper())
    return out.getvalue()


def make_photo(seed: int, size: tuple[int, int] = (1024, 768), fmt: str = "JPEG") -> bytes:
    """A distinct, structured picture for ``seed`` encoded as ``fmt`` (any Pillow format name)."""
    return _encode(_draw_picture(seed, size), fmt)


def edit_photo(data: bytes, edit: Edit) -> bytes:
    """A typical re-upload edit of ``data`` that keeps the PDQ hash within the match threshold.

    The result is a JPEG, except ``grayscale`` and ``crop_small`` keep the input's format.
    """
    with Image.open(io.BytesIO(data)) as original:
        fmt = original.format or "JPEG"
        image = original.convert("RGB")
    width, height = image.size
    if edit == "resize":
        return _encode(image.resize((width // 2, height // 2), Image.Resampling.LANCZOS), "JPEG")
    if edit == "reencode":
        return _encode(image, "JPEG", quality=35)
    if edit == "crop_small":
        # 1.5% off every edge: 3% of each dimension in all. PDQ itself does not survive much
        # more: a 3% cut on every side moves even natural photos 60 bits away.
        dx, dy = round(width * 0.015), round(height * 0.015)
        return _encode(image.crop((dx, dy, width - dx, height - dy)), fmt)
    if edit == "brighten":
        return _encode(ImageEnhance.Brightness(image).enhance(1.25), "JPEG")
    if edit == "grayscale":
        return _encode(ImageOps.grayscale(image), fmt)
    raise ValueError(f"unknown edit {edit!r}; known: {', '.join(EDITS)}")


# --- video ---------------------------------------------------------------------------------------


def _video_frames(
    seed: int, seconds: float, fps: int, size: tuple[int, int]
) -> Iterator[np.ndarray]:
    """RGB frames: a new scene every two seconds, each a slow pan over a larger picture plus a
    moving block, so consecutive frames differ a little and scenes differ a lot."""
    width, height = size
    total = max(1, round(seconds * fps))
    scene_frames = 2 * fps
    scene: np.ndarray | None = None
    for index in range(total):
        scene_index, offset = divmod(index, scene_frames)
        if offset == 0 or scene is None:
            picture = _draw_picture(seed * 1000 + scene_index, (width * 5 // 4, height * 5 // 4))
            scene = np.asarray(picture)
        progress = offset / scene_frames
        x = int(progress * (scene.shape[1] - width))
        y = int(progress * (scene.shape[0] - height) / 2)
        frame = scene[y : y + height, x : x + width].copy()
        side = max(8, height // 6)
        bx = int((width - side) * (0.5 + 0.5 * np.sin(index / fps * 2.0)))
        by = int((height - side) * (0.5 + 0.5 * np.cos(index / fps * 1.3)))
        frame[by : by + side, bx : bx + side] = (230, 230, 60)
        yield frame


# BT.601 studio-range RGB -> Y'CbCr weights (rows: Y, Cb, Cr), scaled to 0..255 input.
_YCBCR = np.array(
    [[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]],
    dtype=np.float32,
) / np.float32(255)


def _yuv420p(rgb: np.ndarray) -> av.VideoFrame:
    """A 4:2:0 frame converted here rather than by swscale: swscale's RGB-to-YUV result was seen
    to vary with what the process had allocated before, so one seed gave different files."""
    height, width, _ = rgb.shape
    frame = av.VideoFrame(width, height, "yuv420p")
    r, g, b = (rgb[:, :, c].astype(np.float32) for c in range(3))
    for plane, (wr, wg, wb), offset in zip(frame.planes, _YCBCR, (16, 128, 128), strict=True):
        values = offset + r * wr + g * wg + b * wb
        if offset == 128:  # chroma: average each 2x2 block
            values = values.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
        rows = np.zeros((values.shape[0], plane.line_size), dtype=np.uint8)  # padding included
        rows[:, : values.shape[1]] = np.clip(np.rint(values), 0, 255)
        plane.update(rows.tobytes())
    return frame


def make_video(
    seed: int,
    seconds: float = 5.0,
    fps: int = 30,
    size: tuple[int, int] = (640, 360),
    codec: str = "libx264",
    *,
    audio: bool = False,
    faststart: bool = False,
) -> bytes:
    """An MP4 (H.264 by default) whose scenes change over time; widths/heights must be even.

    ``faststart`` puts the index (moov) before the data, as streaming sites do; a truncated copy
    of such a file still decodes up to the cut (:func:`bastion.demo.broken.truncate`).
    """
    if size[0] % 2 or size[1] % 2 or min(size) < 2:
        raise ValueError(f"4:2:0 video needs even, non-zero width and height, not {size}")
    if faststart:
        # The muxer rewrites the file to move the index forward, so it needs a real file.
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "video.mp4"
            _write_video(
                str(path), {"movflags": "faststart"}, seed, seconds, fps, size, codec, audio
            )
            return path.read_bytes()
    out = io.BytesIO()
    _write_video(out, {}, seed, seconds, fps, size, codec, audio)
    return out.getvalue()


def _write_video(
    target: str | io.BytesIO,
    options: dict[str, str],
    seed: int,
    seconds: float,
    fps: int,
    size: tuple[int, int],
    codec: str,
    audio: bool,
) -> None:
    with av.open(target, "w", format="mp4", options=options) as container:
        stream = container.add_stream(codec, rate=fps)
        if not isinstance(stream, av.video.stream.VideoStream):
            raise ValueError(f"{codec} is not a video codec")
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        # One encoder thread: with more, encoders split work by thread count and timing, so the
        # bytes would change from run to run.
        settings: dict[str, object] = {"threads": "1"}
        if codec in ("libx264", "h264"):
            # Fast to encode, still with B-frames like most real uploads. x264's macroblock tree
            # was seen to give slightly different bytes from run to run, so it is off.
            settings |= {"preset": "veryfast", "crf": "23", "x264-params": "mbtree=0"}
        stream.options = settings
        audio_stream = add_audio_stream(container) if audio else None
        for index, rgb in enumerate(_video_frames(seed, seconds, fps, size)):
            frame = _yuv420p(rgb)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if audio_stream is not None:
            write_tone(container, audio_stream, seconds)


def add_audio_stream(container: av.container.OutputContainer) -> av.audio.stream.AudioStream:
    stream = container.add_stream("aac", rate=44100)
    if not isinstance(stream, av.audio.stream.AudioStream):  # pragma: no cover
        raise TypeError("aac did not give an audio stream")
    stream.layout = "mono"
    return stream


def write_tone(
    container: av.container.OutputContainer, stream: av.audio.stream.AudioStream, seconds: float
) -> None:
    rate, chunk = 44100, 1024
    samples = np.sin(np.arange(round(seconds * rate)) * (2 * np.pi * 440 / rate)) * 0.2
    for start in range(0, len(samples), chunk):
        part = samples[start : start + chunk].astype(np.float32)[np.newaxis, :]
        frame = av.AudioFrame.from_ndarray(part, format="flt", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
