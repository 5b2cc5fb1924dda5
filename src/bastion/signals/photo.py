"""Decoding photos for hashing: Pillow, with the limits hostile files need.

The order of checks matters: Pillow's ``Image.open`` reads only the header, so the pixel count is
checked against ``limits.max_image_pixels`` *before* any pixel is decoded (a 100k x 100k PNG is a
few hundred bytes). Truncated files stay errors: ``ImageFile.LOAD_TRUNCATED_IMAGES`` is left at
its default (False), so a cut-off JPEG or PNG is ``media_corrupt`` instead of a hash of half a
picture padded with grey.

Pixels go to PDQ the way python-threatexchange (``pdq_hasher.py``) hands them over, so the same
file gives the same hash in both: RGB as decoded, greyscale as three equal channels, RGBA with
its alpha channel dropped (not composited), every other mode through Pillow's ``convert("RGB")``.
EXIF orientation is *not* applied, for the same reason: banks built with the reference tools
hash the stored pixels. (A rotated copy is a different PDQ hash either way; PDQ's dihedral
variants are the tool for that, in matching.) Animated GIF, WebP and multi-page TIFF files are
hashed by their first frame.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from bastion.errors import BastionError, CorruptMedia, ImageTooLarge, UnsupportedMedia
from bastion.signals.base import ContentKind, HashLimits, MediaInfo

# Sniffed format name -> Pillow plugin. Only these are ever opened: Pillow can identify far more
# (EPS would start Ghostscript), and nothing else reaches the photo path.
PILLOW_FORMATS = {
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
    "bmp": "BMP",
    "tiff": "TIFF",
}


def _open(data: bytes, fmt: str | None) -> Image.Image:
    formats = [PILLOW_FORMATS[fmt]] if fmt in PILLOW_FORMATS else list(PILLOW_FORMATS.values())
    try:
        return Image.open(io.BytesIO(data), formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard (its limit, or twice it) fired while reading the header.
        raise ImageTooLarge(f"the image is too large to decode: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise CorruptMedia("the image could not be read: not a valid image file") from exc
    except Exception as exc:  # any other failure of a parser fed hostile bytes
        raise CorruptMedia(f"the image header is broken: {exc}") from exc


def _check_size(image: Image.Image, limits: HashLimits) -> tuple[int, int]:
    width, height = image.size
    if width < 1 or height < 1:
        raise CorruptMedia(f"the image has no pixels ({width}x{height})")
    if width * height > limits.max_image_pixels:
        raise ImageTooLarge(
            f"the image is {width}x{height} pixels, more than the limit of "
            f"{limits.max_image_pixels} pixels",
            width=width,
            height=height,
            max_pixels=limits.max_image_pixels,
        )
    return width, height


def _pixels(image: Image.Image) -> np.ndarray:
    """An (H, W, 3) uint8 array, possibly a read-only view, in python-threatexchange's terms."""
    if image.mode == "RGB":
        return np.asarray(image)
    if image.mode == "L":
        grey = np.asarray(image)
        # Three equal channels without copying: PDQ's luma of (g, g, g) is g.
        return np.broadcast_to(grey[:, :, np.newaxis], (*grey.shape, 3))
    if image.mode == "RGBA":
        return np.asarray(image)[:, :, :3]
    try:
        return np.asarray(image.convert("RGB"))
    except ValueError as exc:  # a mode Pillow cannot convert (rare 16-bit variants)
        raise UnsupportedMedia(f"images in pixel mode {image.mode} cannot be hashed") from exc


def decode_photo(
    data: bytes, limits: HashLimits, fmt: str | None = None
) -> tuple[np.ndarray, MediaInfo]:
    """Decode the first frame of a photo to PDQ-ready pixels, or raise a ``BastionError``.

    ``fmt`` is the sniffed format (see :func:`bastion.content.sniff_format`); without it, any of
    :data:`PILLOW_FORMATS` is accepted.
    """
    image = _open(data, fmt)
    try:
        width, height = _check_size(image, limits)
        try:
            image.load()
            pixels = _pixels(image)
        except BastionError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLarge(f"the image is too large to decode: {exc}") from exc
        except Exception as exc:  # truncated data (OSError), broken chunks (ValueError, ...)
            raise CorruptMedia(f"the image data is broken: {exc}") from exc
        media = MediaInfo(kind=ContentKind.PHOTO, width=width, height=height)
        media.extra["format"] = (image.format or fmt or "unknown").lower()
        media.extra["mode"] = image.mode
        return pixels, media
    finally:
        image.close()
