"""QR codes (and other 2-D codes) in images: the texts they hold, for the extractors.

Images are opened with Pillow under a pixel limit (a decompression bomb is refused with
``ImageTooLarge`` before it is decoded; anything Pillow cannot read is ``CorruptMedia``), then
zxing-cpp reads every barcode in them. Only 2-D codes (QR, Micro QR, rMQR, Data Matrix, Aztec,
PDF417) are returned: payment QR codes are QR codes, and 1-D product barcodes hold nothing of use.
"""

from __future__ import annotations

import io
import warnings

import zxingcpp
from PIL import Image

from bastion.errors import CorruptMedia, EmptyMedia, ImageTooLarge

__all__ = ["read_qr_codes"]

_FORMATS = zxingcpp.BarcodeFormats(
    [
        zxingcpp.BarcodeFormat.QRCode,
        zxingcpp.BarcodeFormat.MicroQRCode,
        zxingcpp.BarcodeFormat.RMQRCode,
        zxingcpp.BarcodeFormat.DataMatrix,
        zxingcpp.BarcodeFormat.Aztec,
        zxingcpp.BarcodeFormat.PDF417,
    ]
)


def read_qr_codes(data: bytes, *, max_pixels: int = 64_000_000) -> list[str]:
    """The texts of the 2-D codes in the image ``data``, in zxing-cpp's order, duplicates once."""
    if not data:
        raise EmptyMedia("the image is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise ImageTooLarge(
                    f"image of {width}x{height} pixels is over the limit of {max_pixels}",
                    width=width,
                    height=height,
                    max_pixels=max_pixels,
                )
            image.load()
            if image.mode not in ("L", "RGB", "RGBA"):
                image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except ImageTooLarge:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageTooLarge(str(error), max_pixels=max_pixels) from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise CorruptMedia(f"cannot decode the image: {error}") from None
    try:
        barcodes = zxingcpp.read_barcodes(image, formats=_FORMATS)
    except (RuntimeError, ValueError) as error:
        raise CorruptMedia(f"cannot read codes in the image: {error}") from None
    return list(dict.fromkeys(barcode.text for barcode in barcodes if barcode.valid))
