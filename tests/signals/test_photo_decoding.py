"""Photo decoding: pixel modes, animations, orientation, bombs and broken files."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageFile

from bastion.demo.broken import truncate
from bastion.demo.media import make_photo
from bastion.errors import BastionError, CorruptMedia, ImageTooLarge
from bastion.signals.base import HashLimits
from bastion.signals.pdq import PdqSignal, hash_photo, pdq_from_pixels

LIMITS = HashLimits()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG whose header claims ``width`` x ``height`` RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _picture(seed: int = 21) -> Image.Image:
    return Image.open(io.BytesIO(make_photo(seed, size=(240, 180), fmt="PNG"))).convert("RGB")


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _pdq_of(image: Image.Image) -> str:
    return pdq_from_pixels(np.asarray(image.convert("RGB")))[0]


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        ("L", "PNG"),
        ("LA", "PNG"),
        ("RGBA", "PNG"),
        ("P", "PNG"),
        ("P", "GIF"),
        ("1", "PNG"),
        ("I;16", "PNG"),
        ("CMYK", "TIFF"),
        ("CMYK", "JPEG"),
        ("F", "TIFF"),
    ],
)
def test_pixel_modes_hash_as_their_rgb_conversion(mode: str, fmt: str) -> None:
    data = _save(_picture().convert(mode), fmt)
    signal, media = hash_photo(data, LIMITS)
    with Image.open(io.BytesIO(data)) as reopened:
        assert media.extra["mode"] == reopened.mode
        assert signal.value == _pdq_of(reopened)


def test_greyscale_and_rgba_hash_like_python_threatexchange() -> None:
    """python-threatexchange stacks greyscale to 3 channels and drops alpha without compositing."""
    picture = _picture()
    grey = np.asarray(picture.convert("L"))
    stacked = np.concatenate([grey[:, :, np.newaxis]] * 3, axis=2)
    assert (
        hash_photo(_save(picture.convert("L"), "PNG"), LIMITS)[0].value
        == (pdq_from_pixels(stacked)[0])
    )
    rgba = picture.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(rgba.size))
    bits, quality = pdqhash.compute(np.asarray(rgba))
    expected = np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()
    signal, _ = hash_photo(_save(rgba, "PNG"), LIMITS)
    assert (signal.value, signal.quality) == (expected, quality)


def test_an_animated_gif_is_hashed_by_its_first_frame() -> None:
    first, second = _picture(31), _picture(32)
    data = _save(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    signal, media = hash_photo(data, LIMITS)
    assert media.extra["format"] == "gif"
    only_first = hash_photo(_save(first, "GIF"), LIMITS)[0]
    only_second = hash_photo(_save(second, "GIF"), LIMITS)[0]
    assert signal.value == only_first.value
    assert PdqSignal.distance(signal.value, only_second.value) > 70


def test_exif_orientation_is_not_applied() -> None:
    """Banks made with the reference tools hash the stored pixels, so Bastion does too."""
    picture = _picture()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    tagged = _save(picture, "JPEG", quality=95, exif=exif.tobytes())
    plain = _save(picture, "JPEG", quality=95)
    assert hash_photo(tagged, LIMITS)[0].value == hash_photo(plain, LIMITS)[0].value
    assert hash_photo(tagged, LIMITS)[1].width == picture.width


def test_pixel_count_is_checked_before_any_pixel_is_decoded() -> None:
    # The data behind this header is nonsense: decoding would fail as corrupt, so getting
    # image_too_large proves the limit applied first.
    with pytest.raises(ImageTooLarge) as caught:
        hash_photo(png_claiming(9_000, 9_000), LIMITS)
    assert caught.value.context == {"width": 9_000, "height": 9_000, "max_pixels": 64_000_000}
    with pytest.raises(ImageTooLarge):
        hash_photo(make_photo(1, size=(64, 64)), HashLimits(max_image_pixels=4095))


def test_pillow_bomb_guards_become_image_too_large() -> None:
    with pytest.raises(ImageTooLarge):
        hash_photo(png_claiming(100_000, 100_000), HashLimits(max_image_pixels=10**11))
    # Above Pillow's warning level, with warnings made errors (as strict deployments do).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageTooLarge):
            hash_photo(png_claiming(10_000, 9_000), HashLimits(max_image_pixels=10**9))


@pytest.mark.parametrize(("width", "height"), [(0, 10), (10, 0), (0, 0)])
def test_zero_dimensions_are_corrupt(width: int, height: int) -> None:
    with pytest.raises(CorruptMedia):
        hash_photo(png_claiming(width, height), LIMITS)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP"])
def test_truncated_photos_are_corrupt(fmt: str) -> None:
    data = make_photo(7, size=(320, 240), fmt=fmt)
    for keep in (0.3, 0.7):
        with pytest.raises(CorruptMedia):
            hash_photo(truncate(data, keep), LIMITS)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_a_jpeg_header_followed_by_garbage_is_corrupt() -> None:
    with pytest.raises(CorruptMedia):
        hash_photo(b"\xff\xd8\xff\xe0" + b"\x00garbage" * 200, LIMITS)


def test_formats_outside_the_photo_list_are_not_opened() -> None:
    # Pillow could read an ICO (and start Ghostscript for EPS); the photo path refuses both.
    ico = _save(_picture().resize((32, 32)), "ICO")
    with pytest.raises(BastionError) as caught:
        hash_photo(ico, LIMITS)
    assert caught.value.code == "media_corrupt"
