"""Edited copies of a banked video match through the scanner: mirrored, picture-in-picture, cut
between its sampled seconds (against the banked dense frames), sped up and re-ordered."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bastion.banks.from_media import entries_from_extraction
from bastion.demo.media import make_photo, make_video
from bastion.runtime import Bastion
from bastion.signals.extract import extract_signals
from bastion.signals.video import DENSE_FRAMES_PER_SECOND, hash_video
from tests.signals.test_video_variants import (
    FPS,
    HEIGHT,
    SECONDS,
    WIDTH,
    Frames,
    _decode,
    _encode,
    _on_other_video,
)


@pytest.fixture(scope="module")
def frames() -> Frames:
    return _decode(make_video(41, seconds=SECONDS, fps=FPS, size=(WIDTH, HEIGHT)))


def _panning(seed: int) -> Frames:
    """A camera panning across three scenes at a tenth of the frame width a second: frames half
    a second apart differ by more than the match threshold, a tenth of a second apart by less
    (the demo videos move far faster, unlike real footage)."""
    frames: Frames = []
    per_scene = round(SECONDS / 3 * FPS)
    for scene in range(3):
        with Image.open(io.BytesIO(make_photo(seed * 10 + scene, size=(WIDTH * 2, HEIGHT)))) as o:
            wide = np.asarray(o.convert("RGB"))
        for index in range(per_scene):
            left = round(index / FPS * WIDTH * 0.1)
            frames.append(np.ascontiguousarray(wide[:, left : left + WIDTH]))
    return frames


@pytest.fixture(scope="module")
def copies(frames: Frames) -> dict[str, bytes]:
    panning = _panning(43)
    cut = round(2.4 * FPS)  # 2.4 s in: between the banked once-a-second samples
    return {
        "panning": _encode(panning),
        "panning_cut_unaligned": _encode(panning[cut:]),
        "original": _encode(frames),
        "mirror": _encode([rgb[:, ::-1] for rgb in frames]),
        "inset_on_video": _encode(_on_other_video(frames)),
        "speed2x": _encode(frames[::2]),
        "halves_swapped": _encode(frames[len(frames) // 2 :] + frames[: len(frames) // 2]),
        "unrelated": make_video(42, seconds=SECONDS, fps=FPS, size=(WIDTH, HEIGHT)),
    }


def test_dense_frames_keep_the_plain_frames_identical(copies: dict[str, bytes]) -> None:
    plain = hash_video(copies["original"], variants=False)
    banked = hash_video(copies["original"], dense=True)
    assert banked.frames == plain.frames
    assert len(banked.dense) >= (DENSE_FRAMES_PER_SECOND - 1) * len(plain.frames)
    assert banked.variants == {}
    assert banked.bank_variants() is not None


@pytest.mark.parametrize(
    ("banked", "copy", "variant", "bank_variant"),
    [
        ("original", "original", "", ""),
        ("original", "mirror", "mirror", ""),
        ("original", "inset_on_video", "region", ""),
        ("original", "speed2x", "", ""),
        ("original", "halves_swapped", "", ""),
        ("panning", "panning_cut_unaligned", "", "dense"),
    ],
)
def test_a_video_copy_matches_and_says_how(
    bastion: Bastion,
    copies: dict[str, bytes],
    banked: str,
    copy: str,
    variant: str,
    bank_variant: str,
) -> None:
    bastion.db.upgrade()
    extraction = extract_signals(copies[banked], filename="attack.mp4", for_bank=True)
    with bastion.db.session() as session:
        bastion.banks.create(session, name="videos", actor="test")
        entries, _ = entries_from_extraction(extraction, source="attack.mp4")
        report = bastion.banks.add_entries(session, "videos", entries, actor="test", group=True)
    vpdq_entry = next(e for e in report.added if e.signal_type == "vpdq")
    assert vpdq_entry.variants and "dense" in vpdq_entry.variants

    result = bastion.scanner.scan_bytes(copies[copy], name=f"{copy}.mp4", source="test")
    videos = [m for m in result.matches if m.signal_type == "vpdq"]
    assert [m.entry_id for m in videos] == [vpdq_entry.id], [m.reason for m in result.matches]
    assert (videos[0].variant, videos[0].bank_variant) == (variant, bank_variant)

    unrelated = bastion.scanner.scan_bytes(copies["unrelated"], name="u.mp4", source="test")
    assert [m for m in unrelated.matches if m.signal_type == "vpdq"] == []


def test_without_dense_frames_the_unaligned_cut_is_missed(copies: dict[str, bytes]) -> None:
    """What the dense frames are for: the copy's plain frames are too far from the banked ones."""
    from bastion.index.vpdq import VpdqIndex, VpdqMatchRule

    index = VpdqIndex(VpdqMatchRule())
    index.add([(1, hash_video(copies["panning"], variants=False).signal().value)])
    copy = hash_video(copies["panning_cut_unaligned"], variants=False).signal().value
    assert index.search(copy, 31) == []
