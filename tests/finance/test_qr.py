"""QR codes in images: generated with zxing-cpp's own writer, read back by read_qr_codes."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from bastion.errors import CorruptMedia, EmptyMedia, ImageTooLarge
from bastion.finance.extract import extract_from_qr
from bastion.finance.qr import read_qr_codes

URI = "bitcoin:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa?amount=0.05&label=Fund"


def _qr_png(text: str, *, fmt: str = "PNG", mode: str = "L", border: int = 40) -> bytes:
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode)
    pixels = np.array(zxingcpp.write_barcode_to_image(barcode, scale=6))
    image = Image.fromarray(pixels)
    canvas = Image.new("L", (image.width + 2 * border, image.height + 2 * border), 255)
    canvas.paste(image, (border, border))
    buffer = io.BytesIO()
    canvas.convert(mode).save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mode"), [("PNG", "L"), ("PNG", "RGBA"), ("JPEG", "RGB"), ("GIF", "P")]
)
def test_reads_a_payment_qr_code(fmt: str, mode: str) -> None:
    assert read_qr_codes(_qr_png(URI, fmt=fmt, mode=mode)) == [URI]


def test_extract_from_qr_reports_the_source() -> None:
    [found] = extract_from_qr(read_qr_codes(_qr_png(URI)))
    assert (found.scheme, found.value) == ("btc", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    assert found.details["source"] == "qr"
    assert found.details["amount"] == "0.05"
    assert (found.start, found.end) == (0, len(URI))


def test_image_without_code() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(buffer, "PNG")
    assert read_qr_codes(buffer.getvalue()) == []


def test_corrupt_and_empty_images() -> None:
    with pytest.raises(CorruptMedia):
        read_qr_codes(b"not an image at all")
    with pytest.raises(CorruptMedia):
        read_qr_codes(_qr_png(URI)[:200])
    with pytest.raises(EmptyMedia):
        read_qr_codes(b"")


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming huge dimensions, with a tiny (invalid) body: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 10))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge):
        read_qr_codes(_png_header_only(100_000, 100_000))
    with pytest.raises(ImageTooLarge):
        read_qr_codes(_qr_png(URI), max_pixels=1000)


def test_a_code_in_a_large_photo_is_read_after_shrinking() -> None:
    """A 12-megapixel photo is read at 2048 pixels a side: a code of a sixth of its width is
    still found (in a JPEG, decoded at reduced scale)."""
    barcode = zxingcpp.create_barcode(URI, zxingcpp.BarcodeFormat.QRCode)
    code = Image.fromarray(np.array(zxingcpp.write_barcode_to_image(barcode, scale=12)))
    photo = Image.new("RGB", (4000, 3000), (90, 120, 80))
    photo.paste(code.convert("RGB"), (2500, 1200))
    assert code.width < 4000 / 5
    for fmt in ("JPEG", "PNG"):
        buffer = io.BytesIO()
        photo.save(buffer, fmt, quality=90)
        assert read_qr_codes(buffer.getvalue()) == [URI]


def test_a_code_on_a_transparent_background_is_read() -> None:
    barcode = zxingcpp.create_barcode(URI, zxingcpp.BarcodeFormat.QRCode)
    modules = np.array(zxingcpp.write_barcode_to_image(barcode, scale=6))
    rgba = np.zeros((*modules.shape, 4), dtype=np.uint8)
    rgba[..., 3] = np.where(modules < 128, 255, 0)  # dark modules opaque, the rest transparent
    canvas = Image.new("RGBA", (modules.shape[1] + 80, modules.shape[0] + 80), (0, 0, 0, 0))
    canvas.paste(Image.fromarray(rgba, "RGBA"), (40, 40))
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG")
    assert read_qr_codes(buffer.getvalue()) == [URI]
