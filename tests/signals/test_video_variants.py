"""Video variants: mirrored and framed copies match through them, plain edits through plain vPDQ.

Copies are made from the decoded frames of a generated clip (``bastion.demo.media.make_video``)
and matched the way banks match: the original's plain vPDQ in a ``VpdqIndex`` with the default
rule, each signal of the copy searched at the 31-bit frame threshold.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from bastion.demo.media import make_video
from bastion.index.vpdq import VpdqIndex, VpdqMatchRule
from bastion.signals.base import Signal
from bastion.signals.pdq_dihedral import SYMMETRIES, undo_coefficients
from bastion.signals.pdq_numpy import hash_from_coefficients, luma_from_rgb, pdq_coefficients
from bastion.signals.photo_geometry import Box
from bastion.signals.video import VideoHash, hash_video
from bastion.signals.video_variants import (
    MIRROR,
    REGION,
    VOTING_FRAMES,
    VariantFrames,
    mirror_hash,
    voted_box,
)
from bastion.signals.vpdq_format import parse_vpdq

FPS = 15
WIDTH, HEIGHT = 480, 270
SECONDS = 12.0  # whole seconds: the trimmed half starts on a sampled second, as the original's do
FRAME_THRESHOLD = 31

Frames = list[np.ndarray]


def _decode(data: bytes) -> Frames:
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def _encode(frames: Frames) -> bytes:
    out = io.BytesIO()
    height, width, _ = frames[0].shape
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23", "threads": "1"}
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def _scaled(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR))


def _in_player(rgb: np.ndarray) -> np.ndarray:
    """The frame at 60% inside a flat UI: a dark title bar, a light side panel, a grey page."""
    canvas = np.full((HEIGHT, WIDTH, 3), 236, dtype=np.uint8)
    canvas[: HEIGHT // 10] = (32, 33, 36)
    canvas[:, : WIDTH // 5] = (210, 214, 220)
    width, height = int(WIDTH * 0.6) // 2 * 2, int(HEIGHT * 0.6) // 2 * 2
    left, top = int(WIDTH * 0.28), int(HEIGHT * 0.2)
    canvas[top : top + height, left : left + width] = _scaled(rgb, width, height)
    return canvas


def _letterboxed(rgb: np.ndarray) -> np.ndarray:
    """The frame across the width of a 9:16 (portrait) canvas, black above and below."""
    canvas_height = int(WIDTH * 16 / 9) // 2 * 2
    height = int(HEIGHT) // 2 * 2
    canvas = np.zeros((canvas_height, WIDTH, 3), dtype=np.uint8)
    top = (canvas_height - height) // 2
    canvas[top : top + height] = rgb
    return canvas


def _on_other_video(frames: Frames) -> Frames:
    """Each frame at half size pasted straight onto another moving video: no border, no UI."""
    host = _decode(make_video(33, seconds=SECONDS, fps=FPS, size=(WIDTH, HEIGHT)))
    width, height = WIDTH // 2 // 2 * 2, HEIGHT // 2 // 2 * 2
    left, top = int(WIDTH * 0.42) // 2 * 2, int(HEIGHT * 0.38) // 2 * 2
    out = []
    for rgb, background in zip(frames, host, strict=False):
        canvas = background.copy()
        canvas[top : top + height, left : left + width] = _scaled(rgb, width, height)
        out.append(canvas)
    return out


EDITS: dict[str, Callable[[Frames], Frames]] = {
    "inset_on_video": _on_other_video,
    "mirror": lambda frames: [rgb[:, ::-1] for rgb in frames],
    "player": lambda frames: [_in_player(rgb) for rgb in frames],
    "letterbox": lambda frames: [_letterboxed(rgb) for rgb in frames],
    "speed2x": lambda frames: frames[::2],
    "trim_middle": lambda frames: frames[len(frames) // 4 : 3 * len(frames) // 4],
    "halves_swapped": lambda frames: frames[len(frames) // 2 :] + frames[: len(frames) // 2],
}


@pytest.fixture(scope="module")
def original_frames() -> Frames:
    return _decode(make_video(31, seconds=SECONDS, fps=FPS, size=(WIDTH, HEIGHT)))


@pytest.fixture(scope="module")
def original(original_frames: Frames) -> VideoHash:
    return hash_video(_encode(original_frames))


@pytest.fixture(scope="module")
def index(original: VideoHash) -> VpdqIndex:
    banked = VpdqIndex(VpdqMatchRule())
    banked.add([(1, original.signal().value)])
    return banked


@pytest.fixture(scope="module")
def copies(original_frames: Frames) -> dict[str, VideoHash]:
    hashed = {name: hash_video(_encode(edit(original_frames))) for name, edit in EDITS.items()}
    unrelated = make_video(32, seconds=SECONDS, fps=FPS, size=(WIDTH, HEIGHT))
    hashed["unrelated"] = hash_video(unrelated)
    return hashed


def _matching(index: VpdqIndex, copy: VideoHash) -> set[str]:
    """Which of the copy's signals ("plain" or a variant name) find the banked original."""
    signals = [copy.signal(), *copy.variant_signals()]
    return {
        signal.variant or "plain"
        for signal in signals
        if index.search(signal.value, FRAME_THRESHOLD)
    }


@pytest.mark.parametrize(
    ("edit", "matched_by"),
    [
        ("mirror", {MIRROR}),
        ("player", {REGION}),
        ("inset_on_video", {REGION}),
        ("letterbox", {REGION}),
        ("speed2x", {"plain"}),
        ("trim_middle", {"plain"}),
        ("halves_swapped", {"plain"}),
        ("unrelated", set()),
    ],
)
def test_each_copy_matches_through_the_signal_that_undoes_its_edit(
    index: VpdqIndex, copies: dict[str, VideoHash], edit: str, matched_by: set[str]
) -> None:
    assert _matching(index, copies[edit]) == matched_by


def test_the_original_still_matches_itself_only_through_plain(
    index: VpdqIndex, original: VideoHash
) -> None:
    assert _matching(index, original) == {"plain"}
    assert set(original.variants) == {MIRROR}  # a full-frame picture: no region box


def test_variants_do_not_change_the_plain_hashes(original_frames: Frames) -> None:
    data = _encode(original_frames[: FPS * 3])
    with_variants, without = hash_video(data), hash_video(data, variants=False)
    assert with_variants.frames == without.frames
    assert with_variants.media == without.media
    assert without.variants == {} and without.variant_signals() == []


def test_mirror_frames_are_the_plain_frames_flipped(original: VideoHash) -> None:
    mirror = original.variants[MIRROR]
    assert [(f.frame_number, f.seconds, f.quality) for f in mirror] == [
        (f.frame_number, f.seconds, f.quality) for f in original.frames
    ]


def test_the_mirror_hash_is_near_the_hash_of_the_flipped_pixels(original_frames: Frames) -> None:
    """Near, not equal: PDQ's filter samples a picture slightly off-centre, so flipping the pixels
    moves the samples by a fraction of a pixel, which the coefficient sign change does not."""
    mirror = next(symmetry for symmetry in SYMMETRIES if symmetry.name == MIRROR)
    for rgb in original_frames[:: FPS * 3]:
        luma = luma_from_rgb(rgb)
        found, flipped_found = pdq_coefficients(luma), pdq_coefficients(luma[:, ::-1].copy())
        assert found is not None and flipped_found is not None
        ours = mirror_hash(found[0])
        assert ours == hash_from_coefficients(undo_coefficients(found[0], mirror))
        flipped = hash_from_coefficients(flipped_found[0])
        assert (int(ours, 16) ^ int(flipped, 16)).bit_count() <= 20  # 6-16 seen


def test_the_region_box_is_the_picture_inside_the_player(copies: dict[str, VideoHash]) -> None:
    region = copies["player"].variants[REGION]
    assert [f.frame_number for f in region] == [f.frame_number for f in copies["player"].frames]
    assert all(f.quality >= 50 for f in region)


def test_variant_signals_are_vpdq_named_by_variant(copies: dict[str, VideoHash]) -> None:
    copy = copies["letterbox"]
    signals = copy.variant_signals()
    assert [s.variant for s in signals] == [MIRROR, REGION]
    for signal in signals:
        assert isinstance(signal, Signal) and signal.type == "vpdq"
        frames = copy.variants[signal.variant]
        assert parse_vpdq(signal.value) == frames
        assert signal.quality == round(sum(f.quality for f in frames) / len(frames))
    assert copy.signal().variant == ""


# ---- the vote, on boxes alone -----------------------------------------------------------------

INSET: Box = (0.3, 0.2, 0.9, 0.8)
UI: Box = (0.2, 0.0, 1.0, 1.0)


def test_the_vote_needs_a_fair_share_of_the_frames() -> None:
    one_odd_frame: list[list[Box]] = [[INSET]] + [[] for _ in range(VOTING_FRAMES - 1)]
    assert voted_box(one_odd_frame) is None
    assert voted_box([[] for _ in range(VOTING_FRAMES)]) is None
    assert voted_box([[INSET]]) == INSET  # a one-second clip: its one frame decides


def test_the_vote_takes_the_median_of_jittering_boxes() -> None:
    jittered = [[(0.3 + d, 0.2, 0.9 + d, 0.8)] for d in (-0.01, 0.0, 0.01, 0.0, 0.02)]
    assert voted_box(jittered) == pytest.approx(INSET)


def test_of_a_ui_and_the_picture_inside_it_the_picture_wins() -> None:
    frames: list[list[Box]] = [[UI, INSET] for _ in range(8)] + [[UI], [UI]]
    assert voted_box(frames) == INSET
    assert voted_box([[UI] for _ in range(8)] + [[UI, INSET]] * 2) == UI  # inset seen rarely


def test_flat_frames_give_no_region_and_tiny_frames_no_mirror() -> None:
    collector = VariantFrames()
    for second in range(3):
        collector.add(second, float(second), np.full((90, 160), 100.0, np.float32), None, 0)
    assert collector.finish() == {}
