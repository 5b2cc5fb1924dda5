"""PDQ of mirrored and rotated copies, from the DCT coefficients of one picture.

Flipping a picture left to right negates its horizontal DCT coefficients of odd frequency;
flipping it top to bottom does the same to the vertical ones, and transposing it transposes the
coefficient matrix. The eight symmetries of a square (the dihedral group) are combinations of
those, so one DCT gives all eight hashes for free (the reference's "dihedral" hashes). The
median is taken again after each transform: a sign change moves it.

Each variant is named after the edit it undoes: ``mirror`` is the hash the *original* would have
if the picture at hand is its mirror image, so it is compared with banked originals. Rotations
are counter-clockwise, as ``PIL.Image.rotate`` and ``numpy.rot90`` turn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bastion.signals.pdq_numpy import hash_from_coefficients


@dataclass(frozen=True, slots=True)
class Symmetry:
    """An edit of the square, undone on the coefficients: transpose first, then sign changes."""

    name: str
    transpose: bool
    flip_rows: bool  # negate odd vertical frequencies (a top-to-bottom flip)
    flip_columns: bool  # negate odd horizontal frequencies (a left-to-right flip)


# Frequency 1 is column/row 0: odd frequencies sit at even positions.
_ODD = np.where(np.arange(16) % 2 == 0, -1.0, 1.0)

SYMMETRIES: tuple[Symmetry, ...] = (
    Symmetry("mirror", transpose=False, flip_rows=False, flip_columns=True),
    Symmetry("flip", transpose=False, flip_rows=True, flip_columns=False),
    Symmetry("rot180", transpose=False, flip_rows=True, flip_columns=True),
    Symmetry("transpose", transpose=True, flip_rows=False, flip_columns=False),
    # The picture was turned 90 degrees counter-clockwise: turning it back is a transpose and a
    # left-to-right flip (numpy.rot90(x, -1) == numpy.fliplr(x.T)).
    Symmetry("rot90", transpose=True, flip_rows=False, flip_columns=True),
    Symmetry("rot270", transpose=True, flip_rows=True, flip_columns=False),
    Symmetry("transverse", transpose=True, flip_rows=True, flip_columns=True),
)
SYMMETRY_NAMES = tuple(symmetry.name for symmetry in SYMMETRIES)


def undo_coefficients(coefficients: np.ndarray, symmetry: Symmetry) -> np.ndarray:
    """The coefficients of the original, for a picture that is ``symmetry`` of it."""
    result = coefficients.T if symmetry.transpose else coefficients
    if symmetry.flip_rows:
        result = result * _ODD[:, np.newaxis]
    if symmetry.flip_columns:
        result = result * _ODD[np.newaxis, :]
    return result


def undo_pixels(pixels: np.ndarray, symmetry: Symmetry) -> np.ndarray:
    """The same undo on a 2-D array of pixels (for checks that need the picture itself)."""
    result = pixels.T if symmetry.transpose else pixels
    if symmetry.flip_rows:
        result = result[::-1, :]
    if symmetry.flip_columns:
        result = result[:, ::-1]
    return result


def dihedral_hashes(coefficients: np.ndarray) -> dict[str, str]:
    """Hash of the original under each of the seven non-trivial symmetries, by name."""
    return {
        symmetry.name: hash_from_coefficients(undo_coefficients(coefficients, symmetry))
        for symmetry in SYMMETRIES
    }
