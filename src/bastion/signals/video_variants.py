"""Variant vPDQ of a video: the frame hashes of the edits that plain vPDQ cannot see through.

The bag-of-frames matcher (:mod:`bastion.index.vpdq`) already ignores order, speed and trims,
but not edits to the frames themselves. Two common ones are undone here on the *query* side, so
banks keep storing plain vPDQ only:

* ``mirror``: every sampled frame's PDQ as if the frame were flipped left to right. It is a sign
  change on the DCT coefficients the plain hash is made from (:mod:`bastion.signals.pdq_dihedral`),
  so it costs a median and a bit pack per frame and no pixel work.
* ``region``: the picture inside the frame - picture-in-picture, a player inside a screen
  recording, a letterboxed or pillarboxed copy. Each sampled frame's work image
  (:func:`bastion.signals.photo_geometry.work_image`) is searched for bars (``trim_box``) and for
  a drawn rectangle (the best of ``embedded_regions``), and the region is hashed from the work
  image as photo variants are (``region_hash``).

One box per video, not one per frame. Detection jitters by a work pixel or two from frame to
frame and misses an inset now and then (a moment when the inset's edge and the background have
the same brightness); a region hash moves a few bits per pixel of jitter, and a missed frame is a
banked frame the query cannot find. The inset of a real copy stays put, so a box is voted for
over a window of :data:`VOTING_FRAMES` sampled frames (:func:`voted_box`), and from then on every
frame - the window's too, which is why its work images are kept - is hashed inside that box, and
detection stops. A window without a winner is dropped and the next one votes, so an inset that
starts later (a news programme showing a clip after its introduction) is still found, less the
frames of the windows before it. A video in which no window finds a box has no region variant.

Not found: an inset pasted straight onto another busy video, with no border. Its edges are a
step between two unrelated pictures, too weak on too much of each side for ``embedded_regions``
(``bench/robustness_video.py`` has the row); a player UI, bars or a border around it are found.

Cost per sampled frame, one core (numpy with one BLAS thread), 1280x720 demo frames: work image
1.3-1.5 ms, box candidates 0.9-1.0 ms (up to 2.5 ms on a busy UI with many straight edges), region
PDQ 0.1 ms, mirror 0.01 ms (the DCT is shared with the plain hash). So about 2.5-4 ms while the
box is being voted for and about 1.5 ms once it is fixed, against ~25 ms that ``hash_video``
already spends per sampled frame of 720p30 H.264, mostly decoding (39x real time in
``bench/RESULTS.md``): 6-15% more. At 640x360 the work image and detection cost about the same
(detection works on at most 384 pixels a side), against ~9 ms per sampled frame.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bastion.errors import InvalidSignal
from bastion.signals.pdq_dihedral import SYMMETRIES, Symmetry, undo_coefficients
from bastion.signals.pdq_numpy import hash_from_coefficients, pdq_from_luma
from bastion.signals.photo_geometry import (
    Box,
    WorkImage,
    box_overlap,
    embedded_regions,
    persistent_regions,
    trim_box,
    work_image,
)
from bastion.signals.vpdq_format import VpdqFrame, format_vpdq, parse_vpdq

MIRROR = "mirror"
REGION = "region"
VARIANT_NAMES = (MIRROR, REGION)

# Sampled frames (seconds, at the default rate) that vote for one box; their work images are
# kept until the vote (about 330 KB each at most).
VOTING_FRAMES = 10
# The winning box must be found in this share of the window's frames.
MIN_VOTE_SHARE = 0.3
# A box found in this share of frames of the most frequent one's still competes (see voted_box).
_NEARLY_AS_OFTEN = 0.8
# Two detections are the same box when they overlap this much (intersection over union).
SAME_BOX_OVERLAP = 0.8

_MIRROR: Symmetry = next(symmetry for symmetry in SYMMETRIES if symmetry.name == MIRROR)


def mirror_hash(coefficients: np.ndarray) -> str:
    """PDQ of the frame flipped left to right, from the frame's own DCT coefficients."""
    return hash_from_coefficients(undo_coefficients(coefficients, _MIRROR))


def candidate_boxes(work: WorkImage) -> list[Box]:
    """Where the picture may be inside the frame: inside flat bars, and the best drawn rectangle.

    Both are kept because either can be the picture: a letterboxed copy has bars and no drawn
    rectangle inside them, while a player UI has flat panels (the trim box, which still holds the
    UI) around a drawn video rectangle; the vote settles which (see :func:`voted_box`).
    """
    boxes = [box for box in (trim_box(work),) if box is not None]
    for region in embedded_regions(work, limit=1):
        if all(box_overlap(region, box) < SAME_BOX_OVERLAP for box in boxes):
            boxes.append(region)
    return boxes


def _area(box: Box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def voted_box(detections: list[list[Box]]) -> Box | None:
    """The box the window's frames agree on, or None without a clear one.

    ``detections`` holds each frame's candidate boxes. Boxes overlapping the first of a group by
    :data:`SAME_BOX_OVERLAP` join it. Groups found in at least :data:`MIN_VOTE_SHARE` of the
    frames and nearly (80%) as often as the most frequent one are eligible, and the smallest of
    them wins: when a picture sits inside a UI, both are there in every frame, and the picture
    is the inner one. The box is the coordinate-wise median of the group.
    """
    groups: list[list[Box]] = []
    for boxes in detections:
        for box in boxes:
            for group in groups:
                if box_overlap(box, group[0]) >= SAME_BOX_OVERLAP:
                    group.append(box)
                    break
            else:
                groups.append([box])
    if not groups:
        return None
    most = max(len(group) for group in groups)
    needed = max(1, math.ceil(MIN_VOTE_SHARE * len(detections)), math.ceil(_NEARLY_AS_OFTEN * most))
    eligible = [group for group in groups if len(group) >= needed]
    if not eligible:
        return None
    winner = min(eligible, key=lambda group: _area(group[0]))
    left, top, right, bottom = (statistics.median(side) for side in zip(*winner, strict=True))
    return (left, top, right, bottom)


@dataclass(slots=True)
class _WaitingFrame:
    number: int
    seconds: float
    work: WorkImage
    boxes: list[Box]


@dataclass(slots=True)
class VariantFrames:
    """Collects the variant frames of one video, fed sampled frames in order by the decoder."""

    mirror: list[VpdqFrame] = field(default_factory=list)
    region: list[VpdqFrame] = field(default_factory=list)
    box: Box | None = None  # the region box once voted, in fractions of the frame
    _window: list[_WaitingFrame] = field(default_factory=list)

    def add(
        self,
        number: int,
        seconds: float,
        luma: np.ndarray,
        coefficients: np.ndarray | None,
        quality: int,
    ) -> None:
        """One sampled frame: its full-size luma and, unless it is tiny, its plain PDQ's DCT."""
        if coefficients is not None:
            self.mirror.append(VpdqFrame(number, quality, mirror_hash(coefficients), seconds))
        work = work_image(luma)
        if self.box is not None:
            self._emit_region(number, seconds, work, self.box)
            return
        self._window.append(_WaitingFrame(number, seconds, work, candidate_boxes(work)))
        if len(self._window) >= VOTING_FRAMES:
            self._vote()

    def _vote(self) -> None:
        self.box = voted_box([waiting.boxes for waiting in self._window])
        if self.box is None:
            # No frame shows the inset on its own: look for sides that hold across the window.
            found = persistent_regions([waiting.work for waiting in self._window], limit=1)
            self.box = found[0] if found else None
        if self.box is not None:
            for waiting in self._window:
                self._emit_region(waiting.number, waiting.seconds, waiting.work, self.box)
        self._window.clear()

    def _emit_region(self, number: int, seconds: float, work: WorkImage, box: Box) -> None:
        # The hash region_hash (bastion.signals.pdq_family) gives, plus the quality, which the
        # matcher needs to ignore flat regions.
        value, quality = pdq_from_luma(work.region(box))
        self.region.append(VpdqFrame(number, quality, value, seconds))

    def finish(self) -> dict[str, list[VpdqFrame]]:
        """The variants by name; one without frames (no box found, tiny frames) is left out."""
        if self._window:
            self._vote()
        found = {MIRROR: self.mirror, REGION: self.region}
        return {name: frames for name, frames in found.items() if frames}


def parse_video_bank_variants(data: Any) -> dict[str, str]:
    """A banked video's stored variants, strictly: ``{"dense": <vPDQ text>}`` (the frames sampled
    eight times a second, see ``hash_video(dense=True)``). Raises ``InvalidSignal``."""
    if not isinstance(data, dict) or set(data) != {"dense"} or not isinstance(data["dense"], str):
        raise InvalidSignal('video variants must be {"dense": "<vPDQ frames>"}')
    return {"dense": format_vpdq(parse_vpdq(data["dense"]))}
