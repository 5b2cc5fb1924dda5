"""Edits that evaders make to photos, for tests and ``bench/robustness.py``: crops, logos, bars,
screenshots, memes, rotations. Each is a plain function of a Pillow image (random ones also take a
``numpy`` generator), so tests and the benchmark make exactly the same copies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

Edit = Callable[[Image.Image, np.random.Generator], Image.Image]


def _scribble(
    draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], ink: int, seed: int
) -> None:
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


def logo(image: Image.Image, corner: int = 3) -> Image.Image:
    """A textured badge with writing over 10% of the area, in a corner (3: bottom right; bit 0
    right, bit 1 bottom)."""
    w, h = image.size
    side = 0.1**0.5  # both sides scaled alike: sqrt(0.1) of each, 10% of the area
    bw, bh = round(w * side), round(h * side)
    ramp = np.linspace(150, 230, bw, dtype=np.float32)[np.newaxis, :]
    noise = np.random.default_rng(1).normal(0, 12, size=(bh, bw)).astype(np.float32)
    badge = Image.fromarray(np.clip(ramp + noise, 0, 255).astype(np.uint8)).convert("RGB")
    _scribble(ImageDraw.Draw(badge), (0, 0, bw, bh), 30, seed=2)
    out = image.copy()
    out.paste(badge, (w - bw if corner & 1 else 0, h - bh if corner & 2 else 0))
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


def crop_random(fraction: float) -> Callable[[Image.Image, np.random.Generator], Image.Image]:
    """``fraction`` of the width and of the height go, split at random between opposite sides."""

    def edit(image: Image.Image, rng: np.random.Generator) -> Image.Image:
        w, h = image.size
        left, top = rng.uniform(0, fraction, size=2)
        return image.crop(
            (
                round(w * left),
                round(h * top),
                w - round(w * (fraction - left)),
                h - round(h * (fraction - top)),
            )
        )

    return edit


def rotate_random(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Turned by an angle drawn from -3..3 degrees, corners filled black."""
    return rotate(float(rng.uniform(-3, 3)))(image)


def logo_random(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The 10% badge in a random corner."""
    return logo(image, corner=int(rng.integers(4)))


def meme(image: Image.Image) -> Image.Image:
    """Caption bars above and below (white, with black writing), the photo at full width."""
    w, h = image.size
    bar = round(h * 0.18)
    canvas = Image.new("RGB", (w, h + 2 * bar), "white")
    canvas.paste(image, (0, bar))
    draw = ImageDraw.Draw(canvas)
    _scribble(draw, (0, 0, w, bar), 10, seed=6)
    _scribble(draw, (0, bar + h, w, h + 2 * bar), 10, seed=7)
    return canvas


def seeded(
    edit: Callable[[Image.Image], Image.Image],
) -> Callable[[Image.Image, np.random.Generator], Image.Image]:
    return lambda image, rng: edit(image)


def picture_in_picture(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The photo at half size inside another busy picture (a random unrelated one), with a thin
    light frame, as in a video call or a reaction post."""
    import io

    from bastion.demo.media import make_photo

    w, h = image.size
    with Image.open(io.BytesIO(make_photo(int(rng.integers(10**8, 10**9)), size=(w, h)))) as bg:
        canvas = bg.convert("RGB")
    inset = image.resize((w // 2, h // 2))
    x, y = (
        int(rng.integers(w // 20, w // 2 - w // 20)),
        int(rng.integers(h // 20, h // 2 - h // 20)),
    )
    ImageDraw.Draw(canvas).rectangle((x - 3, y - 3, x + w // 2 + 2, y + h // 2 + 2), fill="#eeeeee")
    canvas.paste(inset, (x, y))
    return canvas
