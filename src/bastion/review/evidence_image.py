"""Evidence images: a small, blurred, greyscale JPEG of what matched.

Moderators are people: media reaches them blurred and greyscale by default. For stream matches
Bastion goes further and keeps only this softened picture, never the frame itself (media bytes
are not kept), so the image is made once, here, and stored as it will be shown. The blur radius
scales with the picture so a 320-pixel thumbnail shows the layout of a scene (a figure, a flag, a
weapon's outline at most as a shape) but no faces or readable text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageFilter

THUMBNAIL_SIDE: Final = 320
# Gaussian radius as a share of the thumbnail's long side: 2.5% is 8 px at 320 px.
BLUR_SHARE: Final = 0.025
JPEG_QUALITY: Final = 70


@dataclass(frozen=True, slots=True)
class EvidenceImage:
    media_type: str
    width: int
    height: int
    data: bytes


def blurred_thumbnail(image: Image.Image, *, side: int = THUMBNAIL_SIDE) -> EvidenceImage:
    """The picture scaled to at most ``side`` pixels, greyscale, blurred, as JPEG."""
    grey = image.convert("L")
    grey.thumbnail((side, side), Image.Resampling.BILINEAR)
    radius = max(2.0, BLUR_SHARE * max(grey.size))
    soft = grey.filter(ImageFilter.GaussianBlur(radius))
    out = io.BytesIO()
    soft.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return EvidenceImage("image/jpeg", soft.width, soft.height, out.getvalue())
