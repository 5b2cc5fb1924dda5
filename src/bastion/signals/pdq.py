"""PDQ: Meta's 256-bit perceptual hash for photos (and, per frame, for videos).

Two photos that look alike have PDQ hashes a small Hamming distance apart; 31 bits is the
threshold Meta recommends and Bastion's default. Each hash comes with a quality from 0 to 100:
below 50 (flat or nearly blank pictures) the hash says little and the matcher ignores it, but it is
still computed and returned here - low quality is a property of the picture, not an error.

Hashing is the ``pdqhash`` binding of Meta's C++ reference code. Bastion's job is to hand it the
same pixels as the reference tools (see :mod:`bastion.signals.photo`), so that a hash computed
here equals the one a partner computed with python-threatexchange for the same file: the
conformance tests check identical hashes where the decoded pixels are identical, and the
documented <= 10 bits against the C++ tool (which decodes and pre-scales differently).

Speed (``bench/photo_hashing.py``, results in ``bench/RESULTS.md``): photos of at least 64 pixels
a side are hashed with :mod:`bastion.signals.pdq_numpy`, the same arithmetic with the Jarosz
filter as two BLAS matrix products, about 3x faster than the binding. Its sums run in another
order, so a bit could differ only where a DCT coefficient sits within ~1e-6 of the median; on
thousands of photos and every reference image and video frame the hashes and qualities are
identical (the conformance tests hold it to that). Smaller pictures, where such ties are common,
keep the ``pdqhash`` binding. Reduced-size JPEG decoding (``Image.draft``) was measured too and
left out: it moves hashes up to 50 bits on small pictures.
"""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np
import pdqhash

from bastion.errors import InvalidSignal
from bastion.signals.base import (
    BytesHasher,
    ContentKind,
    DistanceSignal,
    HashLimits,
    MediaInfo,
    Signal,
    SignalType,
)
from bastion.signals.pdq_family import PhotoProbe, probe_from_luma
from bastion.signals.pdq_numpy import (
    hash_from_coefficients,
    luma_from_rgb,
    pdq_coefficients,
    pdq_from_rgb,
)
from bastion.signals.photo import decode_photo

PDQ_HEX_LENGTH = 64
# Below this side the 64x64 reduction samples almost every pixel and flat regions make coefficient
# ties likely; the binding there is exact by construction, and such pictures are cheap anyway.
_NUMPY_MIN_SIDE = 64
_HEX = re.compile(r"[0-9a-f]{64}")


def pdq_from_pixels(pixels: np.ndarray) -> tuple[str, int]:
    """PDQ hash (64 lower-case hex digits) and quality of an (H, W, 3) uint8 RGB array."""
    bits, quality = pdqhash.compute(pixels)
    # The binding returns 256 ints, most significant bit first: pack them straight to hex.
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex(), int(quality)


def photo_pdq(pixels: np.ndarray) -> tuple[str, int]:
    """PDQ of a decoded photo: numpy for pictures big enough to have no near-median ties."""
    if min(pixels.shape[:2]) >= _NUMPY_MIN_SIDE:
        return pdq_from_rgb(pixels)
    return pdq_from_pixels(pixels)


def hash_photo(data: bytes, limits: HashLimits, fmt: str | None = None) -> tuple[Signal, MediaInfo]:
    """The PDQ signal of a photo and what decoding learned about it."""
    pixels, media = decode_photo(data, limits, fmt)
    value, quality = photo_pdq(pixels)
    return Signal(PdqSignal.name, value, quality=quality), media


def hash_photo_family(
    data: bytes, limits: HashLimits, fmt: str | None = None
) -> tuple[Signal, MediaInfo, PhotoProbe]:
    """The plain PDQ signal (as :func:`hash_photo`) and the probe of variants for matching.

    One DCT serves both where the numpy path applies: the plain hash and its seven mirror and
    rotation variants come from the same coefficients.
    """
    pixels, media = decode_photo(data, limits, fmt)
    luma = luma_from_rgb(pixels)
    found = pdq_coefficients(luma)
    if found is not None and min(pixels.shape[:2]) >= _NUMPY_MIN_SIDE:
        coefficients, quality = found
        value = hash_from_coefficients(coefficients)
    else:
        value, quality = photo_pdq(pixels)
    probe = probe_from_luma(luma, found[0] if found is not None else None)
    return Signal(PdqSignal.name, value, quality=quality), media, probe


class PdqSignal(SignalType, BytesHasher, DistanceSignal):
    name = "pdq"
    display_name = "PDQ"
    applies_to: ClassVar[frozenset[ContentKind]] = frozenset({ContentKind.PHOTO})
    default_threshold = 31
    max_distance = 256

    @classmethod
    def normalize(cls, value: str) -> str:
        if not isinstance(value, str):
            raise InvalidSignal("pdq value must be a string", signal_type=cls.name)
        text = value.strip().lower()
        if not _HEX.fullmatch(text):
            raise InvalidSignal(
                f"pdq value must be {PDQ_HEX_LENGTH} hex digits, got {len(text)} characters",
                signal_type=cls.name,
            )
        return text

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        """Hamming distance in bits."""
        return (int(cls.normalize(a), 16) ^ int(cls.normalize(b), 16)).bit_count()

    @classmethod
    def hash_bytes(cls, data: bytes, limits: HashLimits) -> list[Signal]:
        signal, _ = hash_photo(data, limits)
        return [signal]
