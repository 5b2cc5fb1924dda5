"""extract_signals: the right signals, in a stable order, for each kind of content."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from bastion.demo.media import make_photo, make_video
from bastion.errors import CorruptMedia, EmptyMedia, ImageTooLarge, UnsupportedMedia, VideoTooLong
from bastion.signals.base import ContentKind, HashLimits
from bastion.signals.extract import Extraction, extract_signals, extract_signals_from_path

PHOTO = make_photo(41, size=(320, 240))
PNG = make_photo(42, size=(320, 240), fmt="PNG")
SMALL_VIDEO = make_video(43, seconds=1.0, fps=10, size=(96, 64))
FILE = b"\x00BIN not a picture nor a document\n" + bytes(range(256))
BROKEN_PDF = b"%PDF-1.7 not a picture\n" + bytes(range(256))


def _types(extraction: Extraction) -> list[str]:
    return [signal.type for signal in extraction.signals]


def test_a_photo_gives_md5_sha256_and_pdq() -> None:
    extraction = extract_signals(PHOTO, filename="upload.jpg", declared_type="image/jpeg")
    assert _types(extraction) == ["md5", "sha256", "pdq"]
    assert extraction.signals[1].value == hashlib.sha256(PHOTO).hexdigest()
    media = extraction.media
    assert (media.kind, media.width, media.height) == (ContentKind.PHOTO, 320, 240)
    assert media.extra["format"] == "jpeg"


def test_a_video_gives_md5_sha256_and_vpdq(small_video: bytes) -> None:
    extraction = extract_signals(small_video, filename="clip.mp4")
    assert _types(extraction) == ["md5", "sha256", "vpdq"]
    assert extraction.media.kind == ContentKind.VIDEO
    assert extraction.media.frames_hashed == 3


def test_any_other_file_gives_exact_hashes_only() -> None:
    extraction = extract_signals(FILE, filename="report.bin")
    assert _types(extraction) == ["md5", "sha256"]
    assert extraction.media.kind == ContentKind.FILE


def test_an_unreadable_document_keeps_its_exact_hashes_and_says_why() -> None:
    extraction = extract_signals(BROKEN_PDF, filename="report.pdf")
    assert _types(extraction) == ["md5", "sha256"]
    assert extraction.media.kind == ContentKind.TEXT
    assert extraction.media.extra["text_error"] == "media_corrupt"


def test_the_bytes_decide_over_a_wrong_name() -> None:
    extraction = extract_signals(PNG, filename="really-a-png.jpg", declared_type="image/jpeg")
    assert extraction.media.extra["format"] == "png"
    assert _types(extraction)[-1] == "pdq"


def test_content_that_is_not_what_it_claims_is_refused() -> None:
    with pytest.raises(UnsupportedMedia) as caught:
        extract_signals(FILE, declared_type="image/jpeg")
    assert caught.value.code == "media_unsupported"
    with pytest.raises(UnsupportedMedia):
        extract_signals(FILE, filename="clip.mp4")
    with pytest.raises(CorruptMedia):
        extract_signals(PHOTO[:2], declared_type="image/jpeg")


def test_empty_content_is_media_empty(tmp_path: Path) -> None:
    with pytest.raises(EmptyMedia) as caught:
        extract_signals(b"")
    assert caught.value.code == "media_empty"
    empty = tmp_path / "empty.jpg"
    empty.touch()
    with pytest.raises(EmptyMedia):
        extract_signals_from_path(empty)


def test_limits_are_passed_through() -> None:
    with pytest.raises(ImageTooLarge):
        extract_signals(PHOTO, limits=HashLimits(max_image_pixels=1000))
    with pytest.raises(VideoTooLong):
        extract_signals(SMALL_VIDEO, limits=HashLimits(max_video_seconds=0.5))


@pytest.mark.parametrize("kind", ["photo", "video", "file"])
def test_a_file_on_disk_hashes_like_its_bytes(
    kind: str, small_video: bytes, tmp_path: Path
) -> None:
    data, name = {
        "photo": (PHOTO, "a.jpg"),
        "video": (small_video, "a.mp4"),
        "file": (FILE, "a.bin"),
    }[kind]
    path = tmp_path / name
    path.write_bytes(data)
    from_bytes = extract_signals(data, filename=name)
    assert extract_signals_from_path(path) == from_bytes
    assert extract_signals_from_path(str(path)) == from_bytes


def test_a_missing_file_is_left_to_the_caller(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        extract_signals_from_path(tmp_path / "missing.jpg")


def test_random_bytes_are_just_a_file() -> None:
    data = os.urandom(5000)
    assert _types(extract_signals(data)) == ["md5", "sha256"]
    assert _types(extract_signals(bytearray(data))) == ["md5", "sha256"]
