"""Text in images (memes, screenshots, banners) with the Tesseract OCR command-line program.

Tesseract runs as a child process: the image goes in on stdin as a PGM, TSV comes back on
stdout, so no temporary file exists to be left behind, a crash cannot take Bastion down with it,
and a timeout kills it. Debian's ``tesseract-ocr`` plus one ``tesseract-ocr-LANG`` package per
language provide it (``scripts/install.sh``); without the binary, :func:`ocr_image` raises
``ocr_unavailable``, which callers turn into a note.

Languages. All of :data:`DEFAULT_LANGUAGES` that are installed go into one pass
(``-l ara+eng+...``). Measured on a 1024x768 meme with two lines of caption, on one core: about
0.35 s with ``eng`` alone and about 1.0 s with all eight. A script-detection first pass was
tried and rejected: Tesseract's OSD (``--psm 0``) needs more text than a meme caption has
("Too few characters") and called two lines of English Cyrillic; a wrong guess loses the text
entirely, a slower pass only costs time. Callers that know the language pass a shorter list.

Preprocessing, for speed and accuracy: greyscale; light-on-dark images (a median below mid-grey,
the classic white meme caption on a photo) are inverted, because Tesseract reads dark text on a
light ground far better; small images are upscaled so text reaches a height Tesseract's models
expect; huge ones are shrunk so time stays bounded.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from bastion.errors import BastionError, InvalidInput
from bastion.signals.base import HashLimits

DEFAULT_LANGUAGES: tuple[str, ...] = ("ara", "eng", "fra", "deu", "rus", "urd", "hin", "ind")
DEFAULT_TIMEOUT_SECONDS = 60.0
# The long side is capped here (time grows with pixels) and small images are brought up to
# MIN_LONG_SIDE, by at most MAX_UPSCALE times (more only magnifies blur).
MAX_LONG_SIDE = 4000
MIN_LONG_SIDE = 1200
MAX_UPSCALE = 4.0
# Tesseract cannot lay out anything smaller.
MIN_SIDE = 8
# Words Tesseract itself is this unsure of are mostly texture read as letters.
MIN_WORD_CONFIDENCE = 20.0
_LANGUAGE_NAME = re.compile(r"[A-Za-z0-9_]{2,32}")


class OcrUnavailable(BastionError):
    """The Tesseract program (or every requested language for it) is not installed."""

    code = "ocr_unavailable"
    status = 503


class OcrFailed(BastionError):
    """Tesseract ran but failed on this image, or took longer than the timeout."""

    code = "ocr_failed"
    status = 422


@dataclass(slots=True)
class OcrResult:
    text: str
    mean_confidence: float | None
    languages: list[str]
    notes: list[str] = field(default_factory=list)


def tesseract_binary() -> str | None:
    return shutil.which("tesseract")


@functools.lru_cache(maxsize=4)
def _installed_languages(binary: str) -> frozenset[str]:
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            [binary, "--list-langs"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OcrUnavailable(f"the tesseract program could not be run: {exc}") from exc
    lines = done.stdout.decode("utf-8", errors="replace").splitlines()
    # The first line is 'List of available languages in "...":'.
    return frozenset(line.strip() for line in lines[1:] if _LANGUAGE_NAME.fullmatch(line.strip()))


def installed_languages() -> frozenset[str]:
    """The Tesseract languages installed here; raises ``ocr_unavailable`` without Tesseract."""
    binary = tesseract_binary()
    if binary is None:
        raise OcrUnavailable(
            "OCR needs the tesseract program (Debian: tesseract-ocr and tesseract-ocr-LANG)"
        )
    return _installed_languages(binary)


def _grey(pixels: np.ndarray[Any, Any] | bytes) -> Image.Image:
    if isinstance(pixels, bytes | bytearray | memoryview):
        from bastion.signals.photo import decode_photo

        pixels, _ = decode_photo(bytes(pixels), HashLimits())
    array = np.asarray(pixels)
    if array.dtype != np.uint8:
        raise InvalidInput(f"OCR needs uint8 pixels, not {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        return Image.fromarray(np.ascontiguousarray(array), mode="L")
    if array.ndim == 3 and array.shape[2] in (3, 4):
        rgb = np.ascontiguousarray(array[:, :, :3])
        return Image.fromarray(rgb, mode="RGB").convert("L")
    raise InvalidInput(f"OCR needs an (H, W) or (H, W, 3) image, not shape {array.shape}")


def _prepare(image: Image.Image, notes: list[str]) -> Image.Image:
    width, height = image.size
    long_side = max(width, height)
    scale = 1.0
    if long_side > MAX_LONG_SIDE:
        scale = MAX_LONG_SIDE / long_side
    elif long_side < MIN_LONG_SIDE:
        scale = min(MAX_UPSCALE, MIN_LONG_SIDE / long_side)
    if scale != 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = image.resize(size, Image.Resampling.BICUBIC if scale > 1 else Image.Resampling.BOX)
        notes.append(f"scaled {width}x{height} to {size[0]}x{size[1]} for OCR")
    if float(np.median(np.asarray(image))) < 128:
        image = Image.fromarray(255 - np.asarray(image), mode="L")
        notes.append("inverted (light text on a dark ground)")
    return image


def _pgm(image: Image.Image) -> bytes:
    width, height = image.size
    return b"P5\n%d %d\n255\n" % (width, height) + image.tobytes()


def _parse_tsv(tsv: str) -> tuple[str, float | None]:
    """Text (lines in reading order, words joined by spaces) and mean word confidence."""
    lines: dict[tuple[str, str, str, str], list[str]] = {}
    confidences: list[float] = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) != 12 or cells[0] != "5":
            continue
        word = cells[11].strip()
        try:
            confidence = float(cells[10])
        except ValueError:
            continue
        if not word or confidence < MIN_WORD_CONFIDENCE:
            continue
        lines.setdefault((cells[1], cells[2], cells[3], cells[4]), []).append(word)
        confidences.append(confidence)
    text = "\n".join(" ".join(words) for words in lines.values())
    mean = sum(confidences) / len(confidences) if confidences else None
    return text, mean


def _choose_languages(languages: Sequence[str], notes: list[str]) -> list[str]:
    for name in languages:
        if not _LANGUAGE_NAME.fullmatch(name):
            raise InvalidInput(f"not a Tesseract language name: {name[:40]!r}")
    installed = installed_languages()
    chosen = [name for name in dict.fromkeys(languages) if name in installed]
    missing = [name for name in languages if name not in installed]
    if missing:
        notes.append(f"OCR languages not installed, skipped: {', '.join(missing)}")
    if not chosen:
        raise OcrUnavailable(
            f"none of the OCR languages {', '.join(languages)} is installed for tesseract",
            languages=list(languages),
        )
    return chosen


def ocr_image(
    pixels: np.ndarray[Any, Any] | bytes,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> OcrResult:
    """The text Tesseract reads in an image (pixels, or encoded image bytes).

    An image without text gives empty text. Raises ``ocr_unavailable`` (no Tesseract or no
    requested language), ``ocr_failed`` (Tesseract crashed or timed out), ``invalid_input``
    (impossible pixel arrays) or, for bytes, the photo decoder's errors.
    """
    notes: list[str] = []
    chosen = _choose_languages(languages, notes)
    binary = tesseract_binary()
    if binary is None:  # removed since the language check; unlikely but possible
        raise OcrUnavailable("OCR needs the tesseract program")
    image = _grey(pixels)
    if min(image.size) < 1 or max(image.size) * MAX_UPSCALE < MIN_SIDE:
        return OcrResult(text="", mean_confidence=None, languages=chosen, notes=["image too small"])
    image = _prepare(image, notes)
    if min(image.size) < MIN_SIDE:
        notes.append("image too thin for OCR")
        return OcrResult(text="", mean_confidence=None, languages=chosen, notes=notes)
    # One thread: Bastion runs several extractions at once, and Tesseract's OpenMP threads
    # only contend with them (and are slower than one thread on small images anyway).
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    command = [binary, "stdin", "stdout", "-l", "+".join(chosen), "--psm", "3", "tsv"]
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            command, input=_pgm(image), capture_output=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise OcrFailed(f"OCR took longer than {timeout:g} s", timeout_seconds=timeout) from exc
    except OSError as exc:
        raise OcrUnavailable(f"the tesseract program could not be run: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise OcrFailed(f"tesseract failed: {(message or ['no message'])[-1][:300]}")
    text, mean = _parse_tsv(done.stdout.decode("utf-8", errors="replace"))
    return OcrResult(text=text, mean_confidence=mean, languages=chosen, notes=notes)
