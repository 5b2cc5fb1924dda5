"""From bytes (or a file) to signals: the entry point of the signals stage.

``extract_signals`` decides the kind of content (:func:`bastion.content.detect_kind`) and returns,
in this order:

* photo: ``md5``, ``sha256``, ``pdq``;
* video: ``md5``, ``sha256``, ``vpdq``, and ``chromaprint`` (its soundtrack) when it has one;
* audio: ``md5``, ``sha256`` and ``chromaprint`` (see :mod:`bastion.signals.audio_file` for
  when there is none);
* any other file: ``md5``, ``sha256``.

A container sniffed as a video (MP4, Matroska/WebM...) that has no video stream but an audio
stream (a song shared as ``.mp4``) is hashed as audio: its kind is ``audio``. With neither, it
stays ``video_no_video_stream``.

Every failure is a ``BastionError`` with a stable code (``media_empty``, ``media_unsupported``,
``media_corrupt``, ``image_too_large``, ``video_no_video_stream``, ``video_invalid_dimensions``,
``video_too_long``); bad media never raises anything else. Audio that cannot be decoded is
``media_corrupt`` (or ``media_unsupported``), like a video that cannot be.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from bastion.content.kinds import SNIFF_BYTES, detect_kind
from bastion.errors import BastionError, CorruptMedia, EmptyMedia, VideoNoStream
from bastion.signals.audio import AudioSource, audio_fingerprint
from bastion.signals.audio_file import hash_audio
from bastion.signals.base import ContentKind, HashLimits, MediaInfo, Signal
from bastion.signals.chromaprint_lib import chromaprint_available
from bastion.signals.exact import Md5Signal, Sha256Signal
from bastion.signals.pdq import hash_photo_family
from bastion.signals.pdq_family import PhotoProbe
from bastion.signals.video import DEFAULT_LIMITS, hash_video

_CHUNK = 1 << 20


@dataclass
class Extraction:
    """What hashing one piece of content produced.

    ``signals`` are the content's own hashes (recorded, banked, shared). ``probe`` (photos) and
    ``variants`` (videos: mirrored and picture-in-picture vPDQ) serve only to find edited copies
    of banked content; see :mod:`bastion.signals.pdq_family`.
    """

    media: MediaInfo
    signals: list[Signal]
    probe: PhotoProbe | None = field(default=None, compare=False, repr=False)
    variants: list[Signal] = field(default_factory=list)
    # Banking a video (``for_bank``): its dense frames, stored with its vPDQ entry.
    video_bank_variants: dict[str, str] | None = None


def _audio_signals(source: AudioSource, limits: HashLimits, media: MediaInfo) -> list[Signal]:
    """A video's soundtrack; a bad or missing soundtrack never loses the video's own signals."""
    if not chromaprint_available():
        media.extra["audio_error"] = "audio_fingerprinting_unavailable"
        return []
    try:
        audio = audio_fingerprint(source, limits)
    except BastionError as exc:
        media.extra["audio_error"] = exc.code
        return []
    if audio is None:
        return []
    media.extra.update(audio.extra)
    return [audio.signal()]


def _video_extraction(
    source: bytes | Path, exact: list[Signal], limits: HashLimits, for_bank: bool, fmt: str | None
) -> Extraction:
    """A video's signals: exact hashes, vPDQ, soundtrack; its query variants or, for banking,
    its dense frames. A video container holding only audio is hashed as audio."""
    try:
        video = hash_video(source, limits, variants=not for_bank, dense=for_bank)
    except VideoNoStream:
        audio_only = hash_audio(source, limits, fmt=fmt)
        if audio_only is None:
            raise
        return Extraction(audio_only[0], [*exact, *audio_only[1]])
    audio = _audio_signals(source, limits, video.media)
    return Extraction(
        video.media,
        [*exact, video.signal(), *audio],
        variants=video.variant_signals(),
        video_bank_variants=video.bank_variants(),
    )


def _audio_extraction(
    source: bytes | Path, exact: list[Signal], limits: HashLimits, fmt: str | None
) -> Extraction:
    """An audio file's signals: exact hashes and its fingerprint."""
    audio = hash_audio(source, limits, fmt=fmt)
    if audio is None:
        raise CorruptMedia(f"the {fmt or 'audio'} file holds no audio stream")
    return Extraction(audio[0], [*exact, *audio[1]])


def _exact(data: bytes) -> list[Signal]:
    return [
        Signal(Md5Signal.name, hashlib.md5(data, usedforsecurity=False).hexdigest()),
        Signal(Sha256Signal.name, hashlib.sha256(data).hexdigest()),
    ]


def extract_signals(
    data: bytes,
    *,
    filename: str | None = None,
    declared_type: str | None = None,
    limits: HashLimits = DEFAULT_LIMITS,
    for_bank: bool = False,
) -> Extraction:
    """Hash ``data``; ``filename`` and ``declared_type`` are hints (see :mod:`bastion.content`).

    ``for_bank``: the content is being banked, so videos also get their dense frames (see
    :func:`bastion.signals.video.hash_video`) and skip the query-side variants.
    """
    data = bytes(data)
    sniffed = detect_kind(data, filename=filename, declared_type=declared_type)
    signals = _exact(data)
    if sniffed.kind == ContentKind.PHOTO:
        pdq, media, probe = hash_photo_family(data, limits, sniffed.format)
        return Extraction(media, [*signals, pdq], probe)
    if sniffed.kind == ContentKind.VIDEO:
        return _video_extraction(data, signals, limits, for_bank, sniffed.format)
    if sniffed.kind == ContentKind.AUDIO:
        return _audio_extraction(data, signals, limits, sniffed.format)
    media = MediaInfo(kind=ContentKind.FILE)
    if sniffed.format:
        media.extra["format"] = sniffed.format
    return Extraction(media, signals)


def _exact_from_file(path: Path) -> list[Signal]:
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
    return [Signal(Md5Signal.name, md5.hexdigest()), Signal(Sha256Signal.name, sha256.hexdigest())]


def extract_signals_from_path(
    path: str | PathLike[str], *, limits: HashLimits = DEFAULT_LIMITS, for_bank: bool = False
) -> Extraction:
    """Hash a file; its name is the only hint. Videos and audio are decoded from the file, not
    from memory.

    ``OSError`` (missing, unreadable) is left to the caller, which knows what a file is to it.
    """
    path = Path(path)
    with path.open("rb") as file:
        head = file.read(SNIFF_BYTES)
    if not head:
        raise EmptyMedia(f"{path.name} is empty (0 bytes)")
    sniffed = detect_kind(head, filename=path.name)
    if sniffed.kind == ContentKind.PHOTO:
        return extract_signals(
            path.read_bytes(), filename=path.name, limits=limits, for_bank=for_bank
        )
    signals = _exact_from_file(path)
    if sniffed.kind == ContentKind.VIDEO:
        return _video_extraction(path, signals, limits, for_bank, sniffed.format)
    if sniffed.kind == ContentKind.AUDIO:
        return _audio_extraction(path, signals, limits, sniffed.format)
    media = MediaInfo(kind=ContentKind.FILE)
    if sniffed.format:
        media.extra["format"] = sniffed.format
    return Extraction(media, signals)
