"""The numpy PDQ used for video frames gives the pdqhash binding's hashes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bastion.demo.media import make_photo
from bastion.signals.pdq import pdq_from_pixels
from bastion.signals.pdq_numpy import luma_from_rgb, pdq_from_luma, pdq_from_rgb


def _pixels(seed: int, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(make_photo(seed, size=size))).convert("RGB"))


@pytest.mark.parametrize("size", [(64, 64), (97, 131), (320, 180), (1280, 720), (333, 1000)])
def test_same_hash_and_quality_as_pdqhash(size: tuple[int, int]) -> None:
    for seed in range(4):
        pixels = _pixels(seed, size)
        assert pdq_from_rgb(pixels) == pdq_from_pixels(pixels)


def test_flat_and_nearly_flat_frames() -> None:
    # On a perfectly flat frame every coefficient is rounding noise, in the reference as here:
    # the bits differ, the quality (0, so the matcher ignores the frame) does not.
    grey = np.full((90, 160, 3), 128, dtype=np.uint8)
    assert pdq_from_rgb(grey)[1] == pdq_from_pixels(grey)[1] == 0
    rng = np.random.default_rng(3)
    noisy = np.clip(grey + rng.integers(-2, 3, grey.shape), 0, 255).astype(np.uint8)
    assert pdq_from_rgb(noisy) == pdq_from_pixels(noisy)


@pytest.mark.parametrize("shape", [(1, 1), (4, 300), (300, 4)])
def test_pictures_under_five_pixels_a_side_give_the_empty_hash(shape: tuple[int, int]) -> None:
    pixels = np.full((*shape, 3), 200, dtype=np.uint8)
    assert pdq_from_rgb(pixels) == pdq_from_pixels(pixels) == ("0" * 64, 0)


def test_luma_uses_the_bt601_weights_in_float32() -> None:
    pixels = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]], dtype=np.uint8)
    luma = luma_from_rgb(pixels)
    assert luma.dtype == np.float32
    expected = np.float32(10) * np.float32(0.299) + np.float32(20) * np.float32(0.587)
    expected += np.float32(30) * np.float32(0.114)
    assert luma[0, 3] == expected
    assert pdq_from_luma(luma_from_rgb(_pixels(9, (200, 150))))[1] > 80
