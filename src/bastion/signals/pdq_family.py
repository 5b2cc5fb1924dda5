"""The PDQ family of a photo: the plain hash plus the variants that defeat common edits.

Query side (the photo being checked), so banks stay small: the seven mirror and 90-degree
rotation hashes (free, from the plain hash's DCT); the picture inside flat bars (``trim``); the
pictures drawn inside it (``region1``...: screenshots, memes, picture-in-picture); the banked
photo's inner part looked for under 225 crop hypotheses (``uncrop:l2.5r0t5b5``..., see
:mod:`bastion.signals.pdq_uncrop`); and small rotations turned back (``rot-3``...).

Bank side (a photo banked from media, stored as ``bank_entry.variants``): the hash of its inner
part (``inner``: 10% in from every edge, what a cut or slightly turned copy still shows), of its
own trimmed picture and drawn regions (so a banked screenshot finds the bare photo), and five
*check regions* that verification (:mod:`bastion.match.variant_search`) compares when a variant
match is weaker than a plain one.

The plain PDQ is the exchange format and is hashed exactly as before; variants are hashed from a
smaller work image (:mod:`bastion.signals.photo_geometry`), on both sides alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bastion.errors import InvalidSignal
from bastion.signals.pdq_dihedral import SYMMETRIES, Symmetry, dihedral_hashes, undo_pixels
from bastion.signals.pdq_numpy import pdq_from_luma
from bastion.signals.pdq_uncrop import INNER, inner_hash, uncrop_hashes
from bastion.signals.photo_geometry import (
    CHECK_REGIONS,
    ROTATIONS,
    WHOLE,
    Box,
    WorkImage,
    embedded_regions,
    rotated,
    trim_box,
    work_image,
)

_HEX = re.compile(r"[0-9a-f]{64}")
# The banked photo's inner part (10% in from each edge): what cut and rotated copies still show.
INNER_LABEL = "inner"
_SYMMETRY_BY_NAME = {symmetry.name: symmetry for symmetry in SYMMETRIES}


def region_hash(pixels: np.ndarray) -> str:
    """PDQ of a work-image region."""
    return pdq_from_luma(pixels)[0]


# Variants of a flatter picture than this are left out, as plain hashes below the floor are:
# their bits are noise. (The matcher's floor applies to the plain hash.)
VARIANT_MIN_QUALITY = 50


@dataclass(frozen=True, slots=True)
class BankVariants:
    """What a banked photo stores besides its plain hash (``bank_entry.variants``)."""

    hashes: dict[str, str]  # label -> PDQ: "crop:r5", "trim", "region:1" ...
    frames: dict[str, Box]  # label -> where that picture is in the banked photo
    checks: list[str]  # PDQ of each of CHECK_REGIONS

    def to_json(self) -> dict[str, Any]:
        return {
            "hashes": dict(self.hashes),
            "frames": {label: list(box) for label, box in self.frames.items()},
            "checks": list(self.checks),
        }

    @classmethod
    def from_json(cls, data: Any) -> BankVariants | None:
        """Parsed from stored JSON; None when absent or malformed (matching then skips them)."""
        if data is None:
            return None
        try:
            return parse_bank_variants(data)
        except InvalidSignal:
            return None

    def frame(self, label: str) -> Box:
        """Where the picture behind ``label`` is in the banked photo (all of it by default)."""
        return self.frames.get(label, WHOLE)


@dataclass(slots=True)
class QueryVariant:
    """One undone edit of the query: its hash and the picture it was computed from."""

    name: str
    value: str
    quality: int = 100
    # Where the picture behind it is in the query photo (trimmed and drawn regions).
    frame: Box = WHOLE


@dataclass(slots=True)
class PhotoProbe:
    """Everything the matcher needs from a query photo besides its plain hash."""

    work: WorkImage
    variants: list[QueryVariant]
    _pictures: dict[str, np.ndarray] = field(default_factory=dict)

    def picture(self, variant: str) -> np.ndarray:
        """The work-size picture behind a variant (for verification), made on demand."""
        found = self._pictures.get(variant)
        if found is not None:
            return found
        luma = self.work.luma
        if variant in _SYMMETRY_BY_NAME:
            found = np.ascontiguousarray(undo_pixels(luma, _SYMMETRY_BY_NAME[variant]))
        elif variant.startswith("rot"):
            found = rotated(self.work, -float(variant[3:])).luma
        elif variant in self._boxes:
            found = self.work.region(self._boxes[variant])
        else:
            found = luma
        self._pictures[variant] = found
        return found

    @property
    def _boxes(self) -> dict[str, Box]:
        return {v.name: v.frame for v in self.variants if v.name.startswith(("trim", "region"))}


_LABELS = frozenset({INNER_LABEL, "trim"} | {f"region:{n}" for n in range(1, 10)})
_MAX_LABELS = 16


def _pdq(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _HEX.fullmatch(value.strip().lower()):
        raise InvalidSignal(f"variants: {where} must be a PDQ hash (64 hex digits)")
    return value.strip().lower()


def _box(value: Any, where: str) -> Box:
    if (
        not isinstance(value, list)
        or len(value) != 4
        or not all(isinstance(v, int | float) and 0.0 <= v <= 1.0 for v in value)
        or not (value[0] < value[2] and value[1] < value[3])
    ):
        raise InvalidSignal(f"variants: {where} must be [left, top, right, bottom] in 0..1")
    return (float(value[0]), float(value[1]), float(value[2]), float(value[3]))


def parse_bank_variants(data: Any) -> BankVariants:
    """Strictly parsed variants (from an import or an export of another Bastion).

    Shape: ``{"hashes": {label: pdq}, "frames": {label: box}, "checks": [pdq x 5]}``; labels are
    ``inner``, ``trim`` or ``region:<n>``. Raises ``InvalidSignal``
    naming what is wrong.
    """
    if not isinstance(data, dict) or set(data) - {"hashes", "frames", "checks"}:
        raise InvalidSignal("variants must be an object with hashes, frames and checks")
    hashes, frames, checks = data.get("hashes", {}), data.get("frames", {}), data.get("checks")
    if not isinstance(hashes, dict) or not isinstance(frames, dict) or len(hashes) > _MAX_LABELS:
        raise InvalidSignal(f"variants: hashes and frames must be objects of at most {_MAX_LABELS}")
    for label in [*hashes, *frames]:
        if label not in _LABELS:
            raise InvalidSignal(f"variants: unknown variant label {label!r}")
    if set(frames) - set(hashes):
        raise InvalidSignal("variants: a frame is given for a label without a hash")
    if not isinstance(checks, list) or len(checks) != len(CHECK_REGIONS):
        raise InvalidSignal(f"variants: checks must be a list of {len(CHECK_REGIONS)} PDQ hashes")
    return BankVariants(
        {label: _pdq(value, f"hashes[{label}]") for label, value in hashes.items()},
        {label: _box(value, f"frames[{label}]") for label, value in frames.items()},
        [_pdq(value, f"checks[{n}]") for n, value in enumerate(checks)],
    )


def _check_hashes(work: WorkImage) -> list[str]:
    return [region_hash(work.region(box)) for box in CHECK_REGIONS]


def probe_from_luma(luma: np.ndarray, coefficients: np.ndarray | None) -> PhotoProbe:
    """Query-side variants of a photo whose full-size luma (and plain DCT) are given."""
    work = work_image(luma)
    variants: list[QueryVariant] = []
    if coefficients is not None:
        variants.extend(QueryVariant(n, v) for n, v in dihedral_hashes(coefficients).items())
    pictures: list[tuple[str, np.ndarray, Box]] = []
    trimmed = trim_box(work)
    if trimmed is not None:
        pictures.append(("trim", work.region(trimmed), trimmed))
    for number, box in enumerate(embedded_regions(work), start=1):
        pictures.append((f"region{number}", work.region(box), box))
    for name, picture, frame in pictures:
        value, quality = pdq_from_luma(picture)
        if quality >= VARIANT_MIN_QUALITY:
            variants.append(QueryVariant(name, value, quality, frame))
    # Cut copies: the banked inner part, looked for under every crop hypothesis.
    variants.extend(QueryVariant(n, v) for n, v in uncrop_hashes(work.luma).items())
    # Small rotations turned back: the inner part is clear of the corners a turn fills.
    for degrees in ROTATIONS:
        variants.append(QueryVariant(f"rot{degrees:+g}", inner_hash(rotated(work, -degrees).luma)))
    return PhotoProbe(work, variants)


def bank_variants(work: WorkImage) -> BankVariants:
    """Bank-side variants of a photo: its inner part, trimmed and drawn regions, check regions."""
    hashes: dict[str, str] = {}
    # A flat centre (a logo on a plain field) would bank a hash of noise: left out, as flat
    # plain hashes are. Its quality is measured the way PDQ measures it.
    if pdq_from_luma(work.region(INNER))[1] >= VARIANT_MIN_QUALITY:
        hashes[INNER_LABEL] = inner_hash(work.luma)
    frames: dict[str, Box] = {}
    pictures: dict[str, Box] = {}
    trimmed = trim_box(work)
    if trimmed is not None:
        pictures["trim"] = trimmed
    for number, box in enumerate(embedded_regions(work), start=1):
        pictures[f"region:{number}"] = box
    for label, box in pictures.items():
        value, quality = pdq_from_luma(work.region(box))
        if quality >= VARIANT_MIN_QUALITY:
            hashes[label], frames[label] = value, box
    return BankVariants(hashes, frames, _check_hashes(work))


def symmetry_named(name: str) -> Symmetry | None:
    return _SYMMETRY_BY_NAME.get(name)
