"""QR codes (and other 2-D codes) in images: the texts they hold, for the extractors.

Images are opened with Pillow under a pixel limit (a decompression bomb is refused with
``ImageTooLarge`` before it is decoded; anything Pillow cannot read is ``CorruptMedia``), then
zxing-cpp reads every barcode in them. Only 2-D codes (QR, Micro QR, rMQR, Data Matrix, Aztec,
PDF417) are returned: payment QR codes are QR codes, and 1-D product barcodes hold nothing of use.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import numpy.typing as npt
import zxingcpp
from PIL import Image

from bastion.errors import CorruptMedia, EmptyMedia, ImageTooLarge

__all__ = ["read_codes_in_pixels", "read_qr_codes"]

# A payment QR code on a poster or screenshot spans a good part of the picture: at 2048 pixels a
# side its modules are still several pixels wide, and reading a 12-megapixel photo whole would
# cost more than hashing it.
_MAX_SIDE = 2048

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
            # Codes are read in grey at most _MAX_SIDE pixels a side: a JPEG is decoded at a
            # reduced scale outright (draft), others are shrunk after decoding.
            image.draft("L", (_MAX_SIDE, _MAX_SIDE))
            image.load()
            if image.mode != "L":
                image = _grey(image)
            if max(image.size) > _MAX_SIDE:
                image.thumbnail((_MAX_SIDE, _MAX_SIDE), Image.Resampling.BOX)
    except ImageTooLarge:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageTooLarge(str(error), max_pixels=max_pixels) from None
    except (OSError, ValueError, SyntaxError, EOFError) as error:
        raise CorruptMedia(f"cannot decode the image: {error}") from None
    return _read(image)


def read_codes_in_pixels(grey: npt.NDArray[np.uint8]) -> list[str]:
    """The texts of the 2-D codes in a decoded grey frame (height x width), as a stream
    watcher samples them."""
    if grey.ndim != 2 or grey.dtype != np.uint8:
        raise CorruptMedia("a frame to read codes in must be 8-bit grey pixels")
    return _read(grey)


def _read(image: Image.Image | npt.NDArray[np.uint8]) -> list[str]:
    try:
        barcodes = zxingcpp.read_barcodes(image, formats=_FORMATS)
    except (RuntimeError, ValueError) as error:
        raise CorruptMedia(f"cannot read codes in the image: {error}") from None
    return list(dict.fromkeys(barcode.text for barcode in barcodes if barcode.valid))


def _grey(image: Image.Image) -> Image.Image:
    """The image in grey; transparent pixels become white (a code drawn on a transparent
    background is dark modules on nothing)."""
    if "A" in image.getbands() or image.mode == "P":
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("L")
    return image.convert("L")
