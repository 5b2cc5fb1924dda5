"""Synthetic demo media: pictures and videos made from a seed, never real extremist material.

:mod:`~bastion.demo.media` makes photos, their typical re-upload edits and videos;
:mod:`~bastion.demo.broken` makes damaged and hostile variants for tests.
"""

from __future__ import annotations

from bastion.demo.media import EDITS, Edit, edit_photo, make_photo, make_video

__all__ = ["EDITS", "Edit", "edit_photo", "make_photo", "make_video"]
