"""OCR with Tesseract on images the tests draw with Pillow and Debian's fonts.

Without the ``tesseract`` program these tests skip outside CI and fail in CI (scripts/install.sh
installs it with the language packs and fonts for the ``test`` extra).
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, features

from bastion.errors import CorruptMedia, InvalidInput
from bastion.signals import ocr
from bastion.signals.ocr import DEFAULT_LANGUAGES, OcrFailed, OcrUnavailable, ocr_image

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
needs_tesseract = pytest.mark.skipif(
    not IN_CI and shutil.which("tesseract") is None,
    reason="tesseract is not installed (scripts/install.sh installs it)",
)

FONTS = {
    "latin": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "arabic": "/usr/share/fonts/truetype/noto/NotoNaskhArabic-Bold.ttf",
    "devanagari": "/usr/share/fonts/truetype/noto/NotoSansDevanagari-Bold.ttf",
}


def _font(script: str, size: int) -> ImageFont.FreeTypeFont:
    path = Path(FONTS[script])
    if not path.exists():
        if IN_CI:
            pytest.fail(f"font {path} missing (fonts-dejavu-core / fonts-noto-core)")
        pytest.skip(f"font {path} not installed")
    # Raqm lays out Arabic joining and Devanagari conjuncts; without it the text is garbage.
    engine = ImageFont.Layout.RAQM if script != "latin" else ImageFont.Layout.BASIC
    if script != "latin" and not features.check("raqm"):
        pytest.skip("Pillow was built without libraqm, so complex scripts cannot be drawn")
    return ImageFont.truetype(str(path), size, layout_engine=engine)


def draw(
    lines: list[str],
    script: str = "latin",
    *,
    size: tuple[int, int] = (1024, 768),
    background: str = "white",
    ink: str = "black",
    font_size: int = 56,
    top: int = 80,
) -> np.ndarray:
    image = Image.new("RGB", size, background)
    pen = ImageDraw.Draw(image)
    font = _font(script, font_size)
    for index, line in enumerate(lines):
        pen.text((top // 2 + 10, top + index * int(font_size * 1.8)), line, font=font, fill=ink)
    return np.asarray(image)


def _found(word: str, text: str) -> bool:
    return word.casefold() in text.casefold()


LANGUAGE_CASES = [
    ("eng", "latin", ["JOIN THE FIGHT", "Meeting tonight"], ["join", "fight", "tonight"]),
    ("fra", "latin", ["Rejoignez la lutte", "Réunion à l'école"], ["rejoignez", "lutte", "école"]),
    ("deu", "latin", ["Schließt euch an", "Größe und Stärke"], ["schließt", "größe", "stärke"]),
    ("rus", "latin", ["Присоединяйтесь к борьбе", "Сегодня вечером"], ["борьбе", "сегодня"]),
    ("ara", "arabic", ["انضموا إلى القتال", "الدولة الإسلامية"], ["انضموا", "الدولة"]),
    ("hin", "devanagari", ["लड़ाई में शामिल हों", "आज रात बैठक"], ["शामिल", "बैठक"]),
]


@needs_tesseract
@pytest.mark.parametrize(("language", "script", "lines", "words"), LANGUAGE_CASES)
def test_ocr_reads_each_language_with_the_default_set(
    language: str, script: str, lines: list[str], words: list[str]
) -> None:
    result = ocr_image(draw(lines, script))
    assert language in result.languages
    missing = [word for word in words if not _found(word, result.text)]
    assert not missing, f"{missing} not in {result.text!r}"
    assert result.mean_confidence is not None and result.mean_confidence > 50


@needs_tesseract
def test_light_text_on_dark_meme_is_read() -> None:
    pixels = draw(["WHEN THE WEEKEND", "FINALLY ARRIVES"], background="#28588c", ink="white")
    result = ocr_image(pixels, ["eng"])
    assert _found("weekend", result.text) and _found("arrives", result.text)
    assert any("inverted" in note for note in result.notes)


@needs_tesseract
def test_small_image_is_upscaled_and_read() -> None:
    pixels = draw(["small caption"], size=(200, 40), font_size=16, top=10)
    result = ocr_image(pixels, ["eng"])
    assert _found("caption", result.text)
    assert any("scaled" in note for note in result.notes)


@needs_tesseract
def test_encoded_image_bytes_and_greyscale_arrays() -> None:
    pixels = draw(["Encoded bytes work"])
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    assert _found("encoded", ocr_image(out.getvalue(), ["eng"]).text)
    grey = pixels[:, :, 0].copy()
    assert _found("bytes", ocr_image(grey, ["eng"]).text)


@needs_tesseract
@pytest.mark.parametrize(
    "pixels",
    [
        np.full((768, 1024, 3), 255, np.uint8),
        np.zeros((400, 400, 3), np.uint8),
        np.random.default_rng(0).integers(100, 140, (300, 300, 3), dtype=np.uint8),
        np.full((2, 2, 3), 200, np.uint8),
        np.full((1, 3000, 3), 200, np.uint8),
    ],
    ids=["white", "black", "flat-noise", "tiny", "one-row"],
)
def test_images_without_text_give_empty_text(pixels: np.ndarray) -> None:
    result = ocr_image(pixels, ["eng"])
    assert result.text == ""
    assert result.mean_confidence is None


@needs_tesseract
def test_uninstalled_languages_are_skipped_with_a_note() -> None:
    result = ocr_image(draw(["Hello there"]), ["eng", "xyz"])
    assert result.languages == ["eng"]
    assert any("xyz" in note for note in result.notes)
    with pytest.raises(OcrUnavailable):
        ocr_image(draw(["Hello"]), ["xyz"])


@needs_tesseract
def test_default_languages_are_all_installed_here() -> None:
    assert set(DEFAULT_LANGUAGES) <= ocr.installed_languages()


@needs_tesseract
def test_timeout_is_ocr_failed() -> None:
    with pytest.raises(OcrFailed) as caught:
        ocr_image(draw(["some text to read"]), timeout=0.001)
    assert caught.value.code == "ocr_failed"


def test_missing_binary_is_ocr_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "tesseract_binary", lambda: None)
    with pytest.raises(OcrUnavailable) as caught:
        ocr_image(np.zeros((10, 10, 3), np.uint8))
    assert caught.value.code == "ocr_unavailable"
    assert caught.value.status == 503


@needs_tesseract
@pytest.mark.parametrize(
    "pixels",
    [np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 5), np.uint8), np.zeros(10, np.uint8)],
)
def test_impossible_arrays_are_invalid_input(pixels: np.ndarray) -> None:
    with pytest.raises(InvalidInput):
        ocr_image(pixels, ["eng"])


@needs_tesseract
def test_bad_language_names_and_bad_bytes() -> None:
    with pytest.raises(InvalidInput):
        ocr_image(np.zeros((10, 10, 3), np.uint8), ["eng; rm -rf /"])
    with pytest.raises(CorruptMedia):
        ocr_image(b"\x89PNG\r\n\x1a\n" + bytes(40), ["eng"])
