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
from dataclasses import dataclass, field, replace
from os import PathLike
from pathlib import Path

from bastion.content.documents import DEFAULT_LIMITS as DEFAULT_TEXT_LIMITS
from bastion.content.documents import extract_text
from bastion.content.kinds import SNIFF_BYTES, detect_kind
from bastion.errors import BastionError, CorruptMedia, EmptyMedia, VideoNoStream
from bastion.finance.findings import Instrument
from bastion.signals.audio import AudioSource, audio_fingerprint
from bastion.signals.audio_file import hash_audio
from bastion.signals.base import ContentKind, HashLimits, MediaInfo, Signal
from bastion.signals.chromaprint_lib import chromaprint_available
from bastion.signals.exact import Md5Signal, Sha256Signal
from bastion.signals.pdq import hash_photo_family
from bastion.signals.pdq_family import PhotoProbe
from bastion.signals.text_body import TextBody, body_signals
from bastion.signals.url_extract import FoundUrl
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
    # Text to analyse (a post, a document's text, a caption, OCR) and the links found in it.
    text: TextBody | None = None
    urls: list[FoundUrl] = field(default_factory=list)
    # Payment instruments in the text (bastion.finance): their signals are in ``signals``.
    instruments: list[Instrument] = field(default_factory=list)

    def with_text(self, body: TextBody) -> Extraction:
        """This extraction with ``body``'s text signals added (a caption, OCR of a photo)."""
        found = body_signals(body)
        return replace(
            self,
            signals=[*self.signals, *found.recorded],
            variants=[*self.variants, *found.match_only],
            text=body,
            urls=found.urls,
            instruments=found.instruments,
        )


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
    if sniffed.kind == ContentKind.TEXT and sniffed.format is not None:
        return _text_extraction(data, sniffed.format, signals, declared_type)
    media = MediaInfo(kind=ContentKind.FILE)
    if sniffed.format:
        media.extra["format"] = sniffed.format
    return Extraction(media, signals)


def _text_extraction(
    data: bytes, fmt: str, exact: list[Signal], declared_type: str | None
) -> Extraction:
    """A document's or post's text, its text and link signals (see ``signals/text_body.py``).

    A document that cannot be read (encrypted, damaged, a bomb) still gets its exact hashes, so a
    banked copy of the very file matches; why its text is missing is in ``text_error``.
    """
    media = MediaInfo(kind=ContentKind.TEXT)
    media.extra["format"] = fmt
    try:
        extracted = extract_text(data, fmt, charset=_charset(declared_type))
    except BastionError as exc:
        media.extra["text_error"] = exc.code
        return Extraction(media, exact, text=TextBody("", [fmt], notes=[exc.detail]))
    media.extra["characters"] = len(extracted.text)
    if extracted.truncated:
        media.extra["truncated"] = 1
    pages = sum(1 for part in extracted.parts if part.where.startswith("page "))
    if pages:
        media.extra["pages"] = pages
    body = TextBody(
        extracted.text, [fmt], list(extracted.links), extracted.truncated, list(extracted.notes)
    )
    return Extraction(media, exact).with_text(body)


def text_extraction(text: str, *, source: str = "post") -> Extraction:
    """A post given as text (not a file): exact hashes of its UTF-8 bytes plus its text signals."""
    encoded = text.encode("utf-8", errors="replace")
    media = MediaInfo(kind=ContentKind.TEXT)
    media.extra["format"] = source
    media.extra["characters"] = len(text)
    return Extraction(media, _exact(encoded)).with_text(TextBody(text, [source]))


def _charset(declared_type: str | None) -> str | None:
    """The ``charset=`` of a declared content type, if any."""
    for parameter in (declared_type or "").split(";")[1:]:
        key, _, value = parameter.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"').strip()
    return None


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
    if path.stat().st_size <= DEFAULT_TEXT_LIMITS.max_input_bytes:
        # A document is read whole: a DOCX is only told from other ZIPs by its end.
        return extract_signals(path.read_bytes(), filename=path.name, limits=limits)
    media = MediaInfo(kind=ContentKind.FILE)
    if sniffed.format:
        media.extra["format"] = sniffed.format
    return Extraction(media, signals)
