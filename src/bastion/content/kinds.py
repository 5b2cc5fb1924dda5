"""What kind of content a blob of bytes is: photo, video, audio or any other file.

The bytes decide. A file name extension and a declared MIME type (from an upload or an HTTP
response) are hints only: they are what a client *says*, and re-uploads are routinely mislabelled
(a PNG called ``.jpg``, a GIF served as ``video/mp4``), so a recognised signature always wins and
a photo labelled as a video is still hashed as a photo.

A hint matters when the bytes are *not* recognised: content that claims to be a photo, a video or
audio but is not one is refused with a stable code instead of quietly falling back to exact hashes,
so callers notice "wrong content type" problems:

* the bytes are the start of a signature of the claimed kind, cut off inside the header:
  ``media_corrupt``;
* anything else: ``media_unsupported``.

Zero bytes are always ``media_empty``.

Audio is recognised by its container (ID3v2 tag, WAV, AIFF, FLAC, Ogg with an audio stream and no
video stream, M4A) or, for bare MPEG audio (MP3, MP2) and ADTS AAC, which have no file header at
all, by frame headers: three valid ones in a row at the start, each exactly where the previous
one's length puts it, with the same version, layer and sample rate. The sync patterns are only 11
(MPEG) and 12 (ADTS) bits, so random bytes would pass a single-header check about once in 5,000
files, and two chained headers about once in ten million; three make it negligible. Three frames
always fit in the sniffed head except for ADTS frames over ~2 KB (multichannel AAC at high bit
rates), which are then left to the hint: content *named* or *declared* as audio needs only the
first header (the hint is the second piece of evidence). A container that can hold both (MP4,
Matroska/WebM) is sniffed as a video; hashing treats one without a video stream as audio (see
:mod:`bastion.signals.extract`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from bastion.content.documents import sniff_document
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
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"F4A ", b"F4B "})
# iTunes' FairPlay-encrypted AAC: no decoder can fingerprint it, so exact hashes only.
_PROTECTED_AUDIO_BRANDS = frozenset({b"M4P "})
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
_AUDIO_EXTENSIONS = frozenset(
    [
        *[".mp3", ".mp2", ".mpga", ".wav", ".flac", ".ogg", ".oga", ".opus", ".spx"],
        *[".m4a", ".m4b", ".aac", ".aif", ".aiff", ".aifc", ".mka", ".weba"],
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
    """The kind of some content and, for photos, videos and audio, the container format found."""

    kind: ContentKind
    format: str | None = None


def _riff(data: bytes) -> str | None:
    if data[:4] not in (b"RIFF", b"RF64", b"BW64") or len(data) < 12:
        return None
    if data[8:12] == b"WAVE":
        return "wav"  # RF64 and BW64 are WAV past 4 GB
    if data[:4] != b"RIFF":
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
    if brand in _PROTECTED_AUDIO_BRANDS:
        return "m4p"
    return "mp4"


# Codec identification packets that begin an Ogg logical stream.
_OGG_VIDEO_CODECS = (b"\x80theora", b"\x01video")  # Theora, OGM video
_OGG_AUDIO_CODECS = (b"\x01vorbis", b"OpusHead", b"\x7fFLAC", b"Speex   ")


def _ogg(data: bytes) -> Sniffed | None:
    if data[:4] != b"OggS":
        return None
    # Every stream's first page comes before any other page (Ogg multiplexing rule), so the
    # codecs of all streams are in the first few hundred bytes; any video makes it a video.
    head = data[:512]
    if any(codec in head for codec in _OGG_VIDEO_CODECS):
        return Sniffed(ContentKind.VIDEO, "ogg")
    if any(codec in head for codec in _OGG_AUDIO_CODECS):
        return Sniffed(ContentKind.AUDIO, "ogg-audio")
    return Sniffed(ContentKind.FILE, "ogg-other")  # e.g. subtitles only: nothing to decode


# MPEG audio bit rates in kbit/s for bit-rate indexes 1-14, by layer: MPEG-1, then MPEG-2 and 2.5.
_MPEG1_BITRATES = {
    1: (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    2: (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    3: (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
}
_MPEG2_BITRATES = {
    1: (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    2: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    3: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Sample rates by version bits (0: MPEG-2.5, 2: MPEG-2, 3: MPEG-1; 1 is reserved).
_MPEG_RATES = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}
_ADTS_RATES = 13  # sampling frequency indexes 0-12 are defined
_ADTS_HEADER = 7
# A frame header: (frame length in bytes, what must stay the same from frame to frame, format).
_Frame = tuple[int, tuple[int, ...], str]


def _mpeg_audio_frame(data: bytes, at: int) -> _Frame | None:
    """The MPEG-1/2/2.5 layer I-III frame whose header is at ``at``, if it is one."""
    header = data[at : at + 4]
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
    if version == 1 or layer_bits == 0 or rate_index == 3 or header[3] & 3 == 2:
        return None  # reserved values
    if version == 0 and layer_bits != 1:
        return None  # MPEG-2.5 is an extension of layer III only
    if not 1 <= bitrate_index <= 14:
        return None  # free format (0) has no computable length; 15 is invalid
    layer = 4 - layer_bits
    table = _MPEG1_BITRATES if version == 3 else _MPEG2_BITRATES
    bitrate = table[layer][bitrate_index - 1] * 1000
    rate = _MPEG_RATES[version][rate_index]
    padding = (header[2] >> 1) & 1
    if layer == 1:
        length = (12 * bitrate // rate + padding) * 4
    else:
        per_frame = 72 if layer == 3 and version != 3 else 144
        length = per_frame * bitrate // rate + padding
    return length, (version, layer, rate_index), f"mp{layer}"


def _adts_frame(data: bytes, at: int) -> _Frame | None:
    """The ADTS (raw AAC) frame whose header is at ``at``, if it is one."""
    header = data[at : at + _ADTS_HEADER]
    if len(header) < _ADTS_HEADER or header[0] != 0xFF or header[1] & 0xF6 != 0xF0:
        return None  # 12 sync bits, then layer bits that are always 0
    rate_index = (header[2] >> 2) & 0xF
    channels = ((header[2] & 1) << 2) | (header[3] >> 6)
    length = ((header[3] & 3) << 11) | (header[4] << 3) | (header[5] >> 5)
    if rate_index >= _ADTS_RATES or length < _ADTS_HEADER:
        return None
    return length, (header[1] & 0x08, header[2] >> 6, rate_index, channels), "aac"


def _frame_chain(
    data: bytes, parse: Callable[[bytes, int], _Frame | None], frames: int
) -> str | None:
    """The format, when ``data`` starts with ``frames`` consecutive, consistent frame headers."""
    first = parse(data, 0)
    if first is None:
        return None
    at, fixed, name = first
    for _ in range(frames - 1):
        frame = parse(data, at)
        if frame is None or frame[1] != fixed:
            return None
        at += frame[0]
    return name


def _frames(data: bytes, frames: int) -> str | None:
    """Bare MPEG audio or ADTS AAC (formats without a file header) by their frame headers."""
    return _frame_chain(data, _adts_frame, frames) or _frame_chain(data, _mpeg_audio_frame, frames)


def _id3(data: bytes) -> str | None:
    """An ID3v2 tag (which precedes MP3, and sometimes AAC or FLAC): the audio after it."""
    if len(data) < 10 or data[:3] != b"ID3" or data[3] not in (2, 3, 4) or data[4] == 0xFF:
        return None
    if any(byte & 0x80 for byte in data[6:10]):
        return None  # the size is "synchsafe": 7 bits a byte
    end = 10 + _synchsafe(data[6:10])
    if data[5] & 0x10:
        end += 10  # a footer
    after = data[end:]
    if after.startswith(b"fLaC"):
        return "flac"
    return _frames(after, 1) or "mp3"  # usually past the sniffed head (cover art): MP3


def _synchsafe(size: bytes) -> int:
    return (size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3]


def _audio_container(data: bytes) -> str | None:
    """Audio formats with a file header of their own."""
    if data.startswith(b"fLaC") and (len(data) < 5 or data[4] & 0x7F == 0):
        return "flac"  # STREAMINFO is always the first metadata block
    if data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    return _id3(data)


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
        kinds = {"webp": ContentKind.PHOTO, "wav": ContentKind.AUDIO}
        return Sniffed(kinds.get(riff, ContentKind.VIDEO), riff)
    brand = _iso_brand(data)
    if brand is not None:
        kinds = {"mp4": ContentKind.VIDEO, "m4a": ContentKind.AUDIO}
        return Sniffed(kinds.get(brand, ContentKind.FILE), brand)  # HEIF stills: exact hashes
    ogg = _ogg(data)
    if ogg is not None:
        return ogg
    for signature, name in _VIDEO_SIGNATURES:
        if data.startswith(signature):
            return Sniffed(ContentKind.VIDEO, name)
    if _mpeg_ts(data):
        return Sniffed(ContentKind.VIDEO, "mpeg-ts")
    audio = _audio_container(data) or _frames(data, 3)
    if audio is not None:
        return Sniffed(ContentKind.AUDIO, audio)
    return Sniffed(ContentKind.FILE)


def hinted_kind(filename: str | None, declared_type: str | None) -> ContentKind | None:
    """The kind a file name or declared MIME type claims; None when they claim neither."""
    if declared_type:
        mime = declared_type.split(";", 1)[0].strip().lower()
        if mime in _PHOTO_TYPES:
            return ContentKind.PHOTO
        if mime.startswith("video/"):
            return ContentKind.VIDEO
        if mime.startswith("audio/"):
            return ContentKind.AUDIO
    if filename:
        # Only the last path segment; URLs may carry a query after the name.
        name = filename.split("?", 1)[0].split("#", 1)[0]
        suffix = PurePath(name.replace("\\", "/")).suffix.lower()
        if suffix in _PHOTO_EXTENSIONS:
            return ContentKind.PHOTO
        if suffix in _VIDEO_EXTENSIONS:
            return ContentKind.VIDEO
        if suffix in _AUDIO_EXTENSIONS:
            return ContentKind.AUDIO
    return None


_CUT_SHORT_PREFIXES: dict[ContentKind, tuple[bytes, ...]] = {
    ContentKind.PHOTO: (*(sig for sig, _ in _PHOTO_SIGNATURES), b"BM", b"RIFF"),
    ContentKind.VIDEO: (*(sig for sig, _ in _VIDEO_SIGNATURES), b"RIFF", b"OggS"),
    ContentKind.AUDIO: (b"ID3", b"RIFF", b"RF64", b"fLaC", b"FORM", b"OggS"),
}


def _cut_short(data: bytes, kind: ContentKind) -> bool:
    """Whether ``data`` is a proper prefix of a signature of ``kind`` (a header cut off)."""
    if kind != ContentKind.PHOTO and 4 < len(data) < 12 and data[4:8] == b"ftyp"[: len(data) - 4]:
        return True  # an ftyp box cut off before its brand
    if kind == ContentKind.AUDIO and len(data) < 4 and data[0] == 0xFF:
        return len(data) == 1 or data[1] & 0xE0 == 0xE0  # a frame header cut off
    prefixes = _CUT_SHORT_PREFIXES.get(kind, ())
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
        # Not media: a document or plain text is read as text; anything else is a file.
        document = sniff_document(data, filename, declared_type)
        if document is not None:
            return Sniffed(ContentKind.TEXT, document)
        return sniffed
    if hint == ContentKind.AUDIO and sniffed.format is None:
        frames = _frames(data[:SNIFF_BYTES], 1)
        if frames is not None:
            return Sniffed(ContentKind.AUDIO, frames)
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
