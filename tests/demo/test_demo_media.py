"""The synthetic media generator: deterministic, distinct, and edits that still match."""

from __future__ import annotations

import io
from itertools import combinations

import av
import numpy as np
import pytest
from PIL import Image

from bastion.demo.broken import make_audio_only, truncate, with_declared_dimensions
from bastion.demo.media import EDITS, Edit, edit_photo, make_photo, make_video
from bastion.signals.base import HashLimits
from bastion.signals.pdq import PdqSignal, hash_photo
from bastion.signals.video import hash_video

LIMITS = HashLimits()


def _pdq(data: bytes) -> tuple[int, int]:
    signal, _ = hash_photo(data, LIMITS)
    assert signal.quality is not None
    return int(signal.value, 16), signal.quality


def test_the_same_seed_gives_the_same_bytes() -> None:
    assert make_photo(5) == make_photo(5)
    assert make_photo(5) != make_photo(6)
    assert make_video(5, seconds=1.0, size=(160, 96)) == make_video(5, seconds=1.0, size=(160, 96))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"])
def test_photos_come_in_the_asked_format_and_size(fmt: str) -> None:
    with Image.open(io.BytesIO(make_photo(1, size=(200, 150), fmt=fmt))) as image:
        assert (image.format, image.size) == (fmt, (200, 150))


def test_two_hundred_seeds_are_far_apart_and_of_high_quality() -> None:
    # Smaller than the default size for speed; the pictures are built to scale, so their PDQ
    # hashes do not depend on size (test_photos_hash_alike_at_any_size).
    hashes = []
    for seed in range(200):
        value, quality = _pdq(make_photo(seed, size=(256, 192)))
        assert quality >= 90, seed
        hashes.append(value)
    closest = min((a ^ b).bit_count() for a, b in combinations(hashes, 2))
    assert closest > 70


def test_photos_hash_alike_at_any_size() -> None:
    for seed in (1, 2):
        small, _ = _pdq(make_photo(seed, size=(256, 192)))
        large, _ = _pdq(make_photo(seed, size=(1024, 768)))
        assert (small ^ large).bit_count() <= 10


@pytest.mark.parametrize("edit", EDITS)
def test_edits_stay_within_the_pdq_threshold(edit: Edit) -> None:
    for seed in range(12):
        original = make_photo(seed, size=(640, 480))
        a, _ = _pdq(original)
        b, _ = _pdq(edit_photo(original, edit))
        assert (a ^ b).bit_count() <= PdqSignal.default_threshold, (seed, edit)


def test_edits_change_the_bytes_as_described() -> None:
    original = make_photo(3, size=(640, 480), fmt="PNG")
    sizes = {}
    for edit in EDITS:
        with Image.open(io.BytesIO(edit_photo(original, edit))) as image:
            sizes[edit] = (image.format, image.size, image.mode)
    assert sizes["resize"] == ("JPEG", (320, 240), "RGB")
    assert sizes["crop_small"] == ("PNG", (620, 466), "RGB")
    assert sizes["grayscale"] == ("PNG", (640, 480), "L")
    with pytest.raises(ValueError, match="unknown edit"):
        edit_photo(original, "mirror")  # type: ignore[arg-type]


def test_videos_have_the_asked_shape_and_changing_scenes() -> None:
    data = make_video(8, seconds=4.0, fps=15, size=(192, 108))
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 192, 108)
        assert stream.frames == 60
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert not np.array_equal(frames[0], frames[1])  # motion within a scene
    hashed = hash_video(data).frames
    assert (int(hashed[0].pdq, 16) ^ int(hashed[2].pdq, 16)).bit_count() > 31  # a new scene


def test_broken_video_helpers() -> None:
    data = make_video(9, seconds=1.0, fps=10, size=(160, 96))
    assert truncate(data, 0.25) == data[: len(data) // 4]
    with av.open(io.BytesIO(make_audio_only(1.0))) as container:
        assert [s.type for s in container.streams] == ["audio"]
    declared = with_declared_dimensions(data, 4096, 2160)
    with av.open(io.BytesIO(declared), options={"max_pixels": "1000"}) as container:
        codec = container.streams.video[0].codec_context
        assert (codec.width, codec.height) == (4096, 2160)
    with pytest.raises(ValueError, match="moov"):
        with_declared_dimensions(make_video(9, seconds=1.0, size=(160, 96), faststart=True), 64, 64)
