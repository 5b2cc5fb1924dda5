"""What kind of content a blob of bytes is: photo, video or any other file.

The bytes decide. A file name extension and a declared MIME type (from an upload or an HTTP
response) are hints only: they are what a client *says*, and re-uploads are routinely mislabelled
(a PNG called ``.jpg``, a GIF served as ``video/mp4``), so a recognised signature always wins and
a photo labelled as a video is still hashed as a photo.

A hint matters when the bytes are *not* recognised: content that claims to be a photo or a video
but is not one is refused with a stable code instead of quietly falling back to exact hashes, so
callers notice "wrong content type" problems:

* the bytes are the start of a signature of the claimed kind, cut off inside the header:
  ``media_corrupt``;
* anything else: ``media_unsupported``.

Zero bytes are always ``media_empty``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from bastion.errors import CorruptMedia, EmptyMedia, UnsupportedMedia
from bastion.signals.base import ContentKind

# How many leading bytes sniffing looks at; callers reading files need only this much.
SNIFF_BYTES = 4096

_PHOTO_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)
_VIDEO_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x1a\x45\xdf\xa3", "matroska"),  # also WebM
    (b"FLV\x01", "flv"),
    (b"\x00\x00\x01\xba", "mpeg-ps"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "asf"),  # WMV
)
# ISO base media (ftyp) brands that are still images or audio, not video.
_IMAGE_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"})
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "})
_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})
_TS_PACKET = 188

_PHOTO_EXTENSIONS = frozenset(
    [".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".webp", ".bmp", ".dib", ".tif", ".tiff"]
)
_VIDEO_EXTENSIONS = frozenset(
    [
        *[".mp4", ".m4v", ".mov", ".qt", ".3gp", ".3g2", ".mkv", ".webm", ".avi", ".flv"],
        *[".ts", ".mts", ".m2ts", ".ogv", ".mpg", ".mpeg", ".vob", ".wmv", ".asf"],
    ]
)
_PHOTO_TYPES = frozenset(
    [
        *["image/jpeg", "image/pjpeg", "image/png", "image/gif", "image/webp"],
        *["image/bmp", "image/x-ms-bmp", "image/tiff"],
    ]
)


@dataclass(frozen=True, slots=True)
class Sniffed:
    """The kind of some content and, for photos and videos, the container format found."""

    kind: ContentKind
    format: str | None = None


def _riff(data: bytes) -> str | None:
    if data[:4] != b"RIFF" or len(data) < 12:
        return None
    return {b"WEBP": "webp", b"AVI ": "avi"}.get(data[8:12])


def _iso_brand(data: bytes) -> str | None:
    if len(data) < 12 or data[4:8] != b"ftyp":
        return None
    brand = data[8:12]
    if brand in _IMAGE_BRANDS:
        return "heif"
    if brand in _AUDIO_BRANDS:
        return "m4a"
    return "mp4"


def _ogg(data: bytes) -> str | None:
    if data[:4] != b"OggS":
        return None
    # The first page names the first stream's codec; Theora (or OGM video) makes it a video.
    head = data[:512]
    if b"\x80theora" in head or b"\x01video" in head:
        return "ogg"
    return "ogg-audio"


def _bmp(data: bytes) -> bool:
    return (
        data[:2] == b"BM"
        and len(data) >= 18
        and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES
    )


def _mpeg_ts(data: bytes) -> bool:
    # Sync byte at the start of three consecutive packets; one 0x47 alone is too common.
    return len(data) >= 2 * _TS_PACKET + 1 and all(data[i * _TS_PACKET] == 0x47 for i in range(3))


def sniff_format(data: bytes) -> Sniffed:
    """The kind and container format from magic bytes alone (no hints, never raises)."""
    for signature, name in _PHOTO_SIGNATURES:
        if data.startswith(signature):
            return Sniffed(ContentKind.PHOTO, name)
    if _bmp(data):
        return Sniffed(ContentKind.PHOTO, "bmp")
    riff = _riff(data)
    if riff is not None:
        return Sniffed(ContentKind.PHOTO if riff == "webp" else ContentKind.VIDEO, riff)
    brand = _iso_brand(data)
    if brand == "mp4":
        return Sniffed(ContentKind.VIDEO, brand)
    if brand is not None:
        return Sniffed(ContentKind.FILE, brand)  # HEIF stills and M4A audio: exact hashes only
    ogg = _ogg(data)
    if ogg is not None:
        return Sniffed(ContentKind.VIDEO if ogg == "ogg" else ContentKind.FILE, ogg)
    for signature, name in _VIDEO_SIGNATURES:
        if data.startswith(signature):
            return Sniffed(ContentKind.VIDEO, name)
    if _mpeg_ts(data):
        return Sniffed(ContentKind.VIDEO, "mpeg-ts")
    return Sniffed(ContentKind.FILE)


def hinted_kind(filename: str | None, declared_type: str | None) -> ContentKind | None:
    """The kind a file name or declared MIME type claims; None when they claim neither."""
    if declared_type:
        mime = declared_type.split(";", 1)[0].strip().lower()
        if mime in _PHOTO_TYPES:
            return ContentKind.PHOTO
        if mime.startswith("video/"):
            return ContentKind.VIDEO
    if filename:
        # Only the last path segment; URLs may carry a query after the name.
        name = filename.split("?", 1)[0].split("#", 1)[0]
        suffix = PurePath(name.replace("\\", "/")).suffix.lower()
        if suffix in _PHOTO_EXTENSIONS:
            return ContentKind.PHOTO
        if suffix in _VIDEO_EXTENSIONS:
            return ContentKind.VIDEO
    return None


def _cut_short(data: bytes, kind: ContentKind) -> bool:
    """Whether ``data`` is a proper prefix of a signature of ``kind`` (a header cut off)."""
    signatures = _PHOTO_SIGNATURES if kind == ContentKind.PHOTO else _VIDEO_SIGNATURES
    prefixes = [sig for sig, _ in signatures]
    if kind == ContentKind.PHOTO:
        prefixes += [b"BM", b"RIFF"]
    else:
        prefixes += [b"RIFF", b"OggS"]
        if 4 < len(data) < 12 and data[4:8] == b"ftyp"[: len(data) - 4]:
            return True  # an ftyp box cut off before its brand
    return any(len(data) < len(sig) and sig.startswith(data) for sig in prefixes)


def detect_kind(
    data: bytes, *, filename: str | None = None, declared_type: str | None = None
) -> Sniffed:
    """The kind of ``data`` as Bastion will hash it; see the module docstring for the rules.

    Raises ``EmptyMedia``, ``CorruptMedia`` or ``UnsupportedMedia``.
    """
    if not data:
        raise EmptyMedia("the content is empty (0 bytes)")
    sniffed = sniff_format(data[:SNIFF_BYTES])
    if sniffed.kind != ContentKind.FILE:
        return sniffed
    hint = hinted_kind(filename, declared_type)
    if hint is None:
        return sniffed
    claimed = declared_type or filename
    if _cut_short(data, hint):
        raise CorruptMedia(
            f"the content is declared as a {hint.value} ({claimed}) but ends inside its header",
            declared_kind=hint.value,
        )
    found = sniffed.format or "unrecognised data"
    raise UnsupportedMedia(
        f"the content is declared as a {hint.value} ({claimed}) but is {found}",
        declared_kind=hint.value,
    )
