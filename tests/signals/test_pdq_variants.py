"""The PDQ variant family: dihedral hashes, borders and drawn regions, crop search, stored form."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from bastion.demo import edits
from bastion.demo.media import make_photo
from bastion.errors import InvalidSignal
from bastion.signals.base import HashLimits
from bastion.signals.extract import extract_signals
from bastion.signals.pdq import PdqSignal
from bastion.signals.pdq_dihedral import SYMMETRIES, dihedral_hashes, undo_pixels
from bastion.signals.pdq_family import (
    BankVariants,
    bank_variants,
    parse_bank_variants,
)
from bastion.signals.pdq_numpy import hash_from_coefficients, luma_from_rgb, pdq_coefficients
from bastion.signals.pdq_uncrop import (
    AXIS_CUTS,
    cut_name,
    inner_hash,
    parse_cut,
    refined_distance,
    uncrop_hashes,
)
from bastion.signals.photo_geometry import embedded_regions, trim_box, work_image

distance = PdqSignal.distance


def _photo(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    with Image.open(io.BytesIO(make_photo(seed, size=size))) as opened:
        return opened.convert("RGB")


def _luma(image: Image.Image) -> np.ndarray:
    return luma_from_rgb(np.asarray(image.convert("RGB")))


def _coefficients(luma: np.ndarray) -> np.ndarray:
    found = pdq_coefficients(luma)
    assert found is not None
    return found[0]


@pytest.mark.parametrize("symmetry", SYMMETRIES, ids=lambda s: s.name)
def test_dihedral_hashes_equal_hashing_the_undone_picture_exactly(symmetry: object) -> None:
    """At 64x64 PDQ's reduction is the identity, so the DCT identities hold bit for bit."""
    rng = np.random.default_rng(3)
    luma = rng.uniform(0, 255, size=(64, 64)).astype(np.float32)
    edited = undo_pixels(luma, symmetry)  # type: ignore[arg-type]
    # The symmetry's own inverse: applying "undo" to the edited picture gives back the luma
    # for the involutions; for the rotations, hash the picture the edit would have produced.
    for candidate in SYMMETRIES:
        if np.array_equal(undo_pixels(np.ascontiguousarray(edited), candidate), luma):
            variants = dihedral_hashes(_coefficients(np.ascontiguousarray(edited)))
            assert variants[candidate.name] == hash_from_coefficients(_coefficients(luma))
            return
    pytest.fail("no symmetry undoes the edit")


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        ("mirror", ImageOps.mirror),
        ("flip", ImageOps.flip),
        ("rot90", lambda image: image.rotate(90, expand=True)),
        ("rot180", lambda image: image.rotate(180)),
        ("rot270", lambda image: image.rotate(270, expand=True)),
        ("transpose", lambda image: image.transpose(Image.Transpose.TRANSPOSE)),
        ("transverse", lambda image: image.transpose(Image.Transpose.TRANSVERSE)),
    ],
)
def test_each_dihedral_variant_recovers_the_original_hash(name: str, edit: object) -> None:
    original = _photo(21)
    plain = hash_from_coefficients(_coefficients(_luma(original)))
    edited = edit(original)  # type: ignore[operator]
    variants = dihedral_hashes(_coefficients(_luma(edited)))
    assert distance(variants[name], plain) <= 8
    assert distance(hash_from_coefficients(_coefficients(_luma(edited))), plain) > 60


def test_trim_finds_the_picture_inside_bars() -> None:
    photo = _photo(22)
    for edited in (edits.letterbox(photo), edits.pillarbox(photo)):
        box = trim_box(work_image(_luma(edited)))
        assert box is not None
        left, top, right, bottom = box
        assert abs((right - left) * edited.width - photo.width) < 0.03 * photo.width
        assert abs((bottom - top) * edited.height - photo.height) < 0.03 * photo.height
    assert trim_box(work_image(_luma(photo))) is None
    assert trim_box(work_image(np.full((300, 400), 128, dtype=np.float32))) is None


def test_drawn_regions_find_a_photo_in_a_screenshot_and_a_meme() -> None:
    photo = _photo(23)
    for edited in (edits.screenshot(photo), edits.meme(photo)):
        regions = embedded_regions(work_image(_luma(edited)))
        assert regions
        left, top, right, bottom = regions[0]
        width, height = (right - left) * edited.width, (bottom - top) * edited.height
        assert abs(width - photo.width) < 0.03 * photo.width, regions
        assert abs(height - photo.height) < 0.03 * photo.height, regions
    assert embedded_regions(work_image(np.zeros((200, 300), dtype=np.float32))) == []


def test_crop_hypotheses_cover_a_ten_percent_grid() -> None:
    assert len(AXIS_CUTS) == 15 and len(AXIS_CUTS) ** 2 == 225
    assert all(first + second <= 0.10 + 1e-9 for first, second in AXIS_CUTS)
    for cut in [(0.0, 0.05, 0.025, 0.0), (0.1, 0.0, 0.0, 0.075)]:
        assert parse_cut(cut_name(cut)) == pytest.approx(cut)
    assert parse_cut("mirror") is None


@pytest.mark.parametrize("fraction", [0.05, 0.10])
def test_a_cut_copy_is_found_by_its_hypothesis_and_refined_closer(fraction: float) -> None:
    photo = _photo(24)
    banked = inner_hash(work_image(_luma(photo)).luma)
    rng = np.random.default_rng(int(fraction * 100))
    for _ in range(3):
        copy = edits.crop_random(fraction)(photo, rng)
        luma = work_image(_luma(copy)).luma
        name, nearest = min(
            ((n, distance(h, banked)) for n, h in uncrop_hashes(luma).items()),
            key=lambda item: item[1],
        )
        assert nearest <= 36
        refined, _ = refined_distance(luma, parse_cut(name) or (0, 0, 0, 0), banked)
        assert refined <= min(nearest, 20)
        # Plain PDQ is lost on the same copy.
        assert distance(hash_from_coefficients(_coefficients(_luma(copy))), banked) > 40


def test_an_unrelated_photo_refines_nowhere_near() -> None:
    banked = inner_hash(work_image(_luma(_photo(25))).luma)
    luma = work_image(_luma(_photo(26))).luma
    best = min(distance(h, banked) for h in uncrop_hashes(luma).values())
    refined, _ = refined_distance(luma, (0.05, 0.0, 0.0, 0.05), banked)
    assert best > 60 and refined > 60


def test_bank_variants_round_trip_and_reject_malformed_data() -> None:
    extraction = extract_signals(edits_jpeg(edits.screenshot(_photo(27))))
    assert extraction.probe is not None
    stored = bank_variants(extraction.probe.work)
    assert "inner" in stored.hashes and any(k.startswith("region:") for k in stored.hashes)
    assert parse_bank_variants(stored.to_json()) == stored
    assert BankVariants.from_json(None) is None
    assert BankVariants.from_json({"nonsense": 1}) is None
    good = stored.to_json()
    for bad in (
        [],
        {**good, "extra": 1},
        {**good, "hashes": {"crop:everything": "0" * 64}},
        {**good, "hashes": {"inner": "xyz"}},
        {**good, "checks": good["checks"][:2]},
        {**good, "frames": {"inner": [0.5, 0.5, 0.2, 0.9]}},
        {**good, "frames": {"region:7": [0, 0, 1, 1]}},
    ):
        with pytest.raises(InvalidSignal):
            parse_bank_variants(bad)


def edits_jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92)
    return out.getvalue()


def test_variants_never_change_the_plain_hash() -> None:
    """The plain PDQ is the exchange format: hashing with the probe gives the same value as the
    plain path, for big photos (numpy) and small ones (the reference binding)."""
    for size in ((640, 480), (48, 40)):
        data = make_photo(28, size=size)
        with_probe = next(s for s in extract_signals(data).signals if s.type == "pdq")
        assert with_probe == PdqSignal.hash_bytes(data, HashLimits())[0]
