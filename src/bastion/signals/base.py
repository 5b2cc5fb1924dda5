"""Signal types: the comparable fingerprints Bastion derives from content.

To add a signal type, subclass :class:`SignalType`, give it a stable lower_snake ``name`` (it is
stored in the database and used in the API, so never rename it), implement :meth:`normalize`, and
mix in the capabilities it has:

* :class:`BytesHasher` if it can be computed from a file's bytes (which content kinds it applies to
  is ``applies_to``);
* :class:`DistanceSignal` if two values have a distance (PDQ: Hamming bits) and a match threshold;
  otherwise matching is by equality of the normalised value.

Then register it in :mod:`bastion.signals.registry`. Start by reading ``signals/pdq.py``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar


class ContentKind(StrEnum):
    """What a piece of content is, as far as hashing is concerned."""

    PHOTO = "photo"
    VIDEO = "video"
    AUDIO = "audio"  # audio only (a song, a speech): its Chromaprint fingerprint
    TEXT = "text"  # a post, or a document read as text: plain text, HTML, PDF, DOCX
    FILE = "file"  # anything else: only exact hashes apply


@dataclass(frozen=True, slots=True)
class Signal:
    """One derived signal; ``frame_time`` (seconds) and ``frame_number`` belong to video frames.

    ``variant`` names an undone edit (``mirror``, ``region``...) when the signal is not the plain
    hash of the content but of a variant of it, matched only to find edited copies.
    """

    type: str
    value: str
    quality: int | None = None
    frame_time: float | None = None
    frame_number: int | None = None
    variant: str = ""


@dataclass(frozen=True, slots=True)
class HashLimits:
    """Resource limits for decoders, so hostile files cannot exhaust memory or time."""

    max_image_pixels: int = 64_000_000
    max_video_pixels: int = 8192 * 4320
    max_video_seconds: float = 4 * 3600.0
    video_frames_per_second: float = 1.0


@dataclass(slots=True)
class MediaInfo:
    """What decoding learned about the media (shown to users, stored as content metadata)."""

    kind: ContentKind
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    frames_hashed: int | None = None
    extra: dict[str, str | int | float] = field(default_factory=dict)


class SignalType(abc.ABC):
    """A kind of signal: its name, how values are normalised, and (through mixins) capabilities."""

    name: ClassVar[str]
    display_name: ClassVar[str]

    @classmethod
    @abc.abstractmethod
    def normalize(cls, value: str) -> str:
        """Return the canonical form of ``value`` or raise ``InvalidSignal``.

        Canonical forms are what banks store and indexes compare (e.g. lower-case hex).
        """


class BytesHasher(abc.ABC):
    """Capability: computed from the bytes of a file of one of the ``applies_to`` kinds."""

    applies_to: ClassVar[frozenset[ContentKind]]

    @classmethod
    @abc.abstractmethod
    def hash_bytes(cls, data: bytes, limits: HashLimits) -> list[Signal]:
        """Signals for ``data``. Raise a ``BastionError`` subclass for bad media, never crash."""


class DistanceSignal(abc.ABC):
    """Capability: values have a distance; a match is a distance at or under a threshold."""

    default_threshold: ClassVar[int]
    max_distance: ClassVar[int]

    @classmethod
    @abc.abstractmethod
    def distance(cls, a: str, b: str) -> int:
        """Distance between two normalised values."""
