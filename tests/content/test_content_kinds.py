"""Sniffing the kind of content from its bytes, with names and declared types as hints."""

from __future__ import annotations

import pytest

from bastion.content import SNIFF_BYTES, detect_kind, hinted_kind, sniff_format
from bastion.errors import CorruptMedia, EmptyMedia, UnsupportedMedia
from bastion.signals.base import ContentKind

PHOTO, VIDEO, AUDIO, FILE = (
    ContentKind.PHOTO,
    ContentKind.VIDEO,
    ContentKind.AUDIO,
    ContentKind.FILE,
)
PAD = bytes(600)


def _ts() -> bytes:
    packet = b"\x47" + bytes(187)
    return packet * 4


@pytest.mark.parametrize(
    ("head", "kind", "fmt"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", PHOTO, "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", PHOTO, "png"),
        (b"GIF89a\x01\x00\x01\x00", PHOTO, "gif"),
        (b"GIF87a\x01\x00\x01\x00", PHOTO, "gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", PHOTO, "webp"),
        (b"BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", PHOTO, "bmp"),
        (b"II*\x00\x08\x00\x00\x00", PHOTO, "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", PHOTO, "tiff"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", VIDEO, "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", VIDEO, "mp4"),
        (b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00", VIDEO, "mp4"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", VIDEO, "matroska"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", VIDEO, "avi"),
        (b"FLV\x01\x05\x00\x00\x00\x09", VIDEO, "flv"),
        (b"\x00\x00\x01\xba\x44\x00\x04\x00", VIDEO, "mpeg-ps"),
        (b"OggS\x00\x02" + bytes(22) + b"\x80theora", VIDEO, "ogg"),
        (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9", VIDEO, "asf"),
        (b"OggS\x00\x02" + bytes(22) + b"\x01vorbis", AUDIO, "ogg-audio"),
        (b"OggS\x00\x02" + bytes(21) + b"\x01\x13OpusHead", AUDIO, "ogg-audio"),
        (b"OggS\x00\x02" + bytes(21) + b"\x01\x33\x7fFLAC\x01\x00", AUDIO, "ogg-audio"),
        (b"OggS\x00\x02" + bytes(22) + b"fishead\x00", FILE, "ogg-other"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00", AUDIO, "m4a"),
        (b"\x00\x00\x00\x20ftypM4B \x00\x00\x02\x00", AUDIO, "m4a"),
        (b"\x00\x00\x00\x20ftypF4A \x00\x00\x02\x00", AUDIO, "m4a"),
        (b"\x00\x00\x00\x20ftypM4P \x00\x00\x02\x00", FILE, "m4p"),  # DRM-protected
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", FILE, "heif"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", AUDIO, "wav"),
        (b"RF64\xff\xff\xff\xffWAVEds64", AUDIO, "wav"),
        (b"RIFF\x24\x00\x00\x00XYZ fmt ", FILE, None),
        (b"fLaC\x00\x00\x00\x22\x10\x00", AUDIO, "flac"),
        (b"fLaC\x05 not a STREAMINFO", FILE, None),
        (b"FORM\x00\x05bNAIFFCOMM", AUDIO, "aiff"),
        (b"FORM\x00\x05bNAIFCFVER", AUDIO, "aiff"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x23TSSE", AUDIO, "mp3"),
        (b"ID3\x03\x00\x00\x00\x00\x00\x04TIT2fLaC\x00", AUDIO, "flac"),  # tagged FLAC
        (b"ID3\x09\x00\x00\x00\x00\x00\x23", FILE, None),  # no such ID3 version
        (b"ID3\x04\x00\x00\x00\x00\x80\x23", FILE, None),  # size not synchsafe
        (b"BM not a bitmap at all", FILE, None),
        (b"\x47not a transport stream", FILE, None),
    ],
)
def test_signatures(head: bytes, kind: ContentKind, fmt: str | None) -> None:
    sniffed = sniff_format(head + PAD)
    assert (sniffed.kind, sniffed.format) == (kind, fmt)
    assert detect_kind(head + PAD) == sniffed


def test_documents_are_text_not_media() -> None:
    """No media signature: ``sniff_format`` says file, ``detect_kind`` reads it as text."""
    head = b"%PDF-1.7\n" + PAD
    assert sniff_format(head).kind == FILE
    assert (detect_kind(head).kind, detect_kind(head).format) == (ContentKind.TEXT, "pdf")
    plain = b"Join the brothers now.\n"
    assert detect_kind(plain, filename="post.txt").kind == ContentKind.TEXT


def test_mpeg_transport_stream_needs_repeated_sync_bytes() -> None:
    assert sniff_format(_ts()).format == "mpeg-ts"


@pytest.mark.parametrize(
    ("filename", "declared", "hint"),
    [
        ("photo.JPG", None, PHOTO),
        ("C:\\uploads\\clip.MOV", None, VIDEO),
        ("https://example.org/a/b.webm?token=1#t=3", None, VIDEO),
        (None, "image/jpeg; charset=binary", PHOTO),
        (None, "Video/MP4", VIDEO),
        ("clip.mp4", "image/png", PHOTO),  # the declared type is the stronger claim
        ("nasheed.MP3", None, AUDIO),
        ("https://example.org/a/speech.opus?x=1", None, AUDIO),
        (None, "audio/ogg; codecs=opus", AUDIO),
        ("song.mp3", "video/mp4", VIDEO),
        (None, "image/svg+xml", None),  # not a raster photo Bastion hashes
        ("notes.txt", "application/octet-stream", None),
        (None, None, None),
    ],
)
def test_hints(filename: str | None, declared: str | None, hint: ContentKind | None) -> None:
    assert hinted_kind(filename, declared) == hint


def test_zero_bytes_are_empty_whatever_the_hints() -> None:
    for hints in ({}, {"filename": "a.jpg"}, {"declared_type": "video/mp4"}):
        with pytest.raises(EmptyMedia) as caught:
            detect_kind(b"", **hints)
        assert caught.value.code == "media_empty"


def test_recognised_bytes_win_over_hints() -> None:
    png = b"\x89PNG\r\n\x1a\n" + PAD
    assert detect_kind(png, filename="x.mp4", declared_type="video/mp4").kind == PHOTO


@pytest.mark.parametrize(
    ("data", "hints"),
    [
        (b"hello, this is text", {"declared_type": "image/jpeg"}),
        (b"hello, this is text", {"filename": "clip.mp4"}),
        (b"%PDF-1.7" + PAD, {"filename": "scan.png"}),
        (b"\x00\x00\x00\x20ftypheic" + PAD, {"declared_type": "video/mp4"}),
        (b"hello, this is text", {"filename": "nasheed.mp3"}),
        (b"%PDF-1.7" + PAD, {"declared_type": "audio/mpeg"}),
        (b"\xff\xfb\x00\x00" + PAD, {"filename": "song.mp3"}),  # bit rate index 0: free format
    ],
)
def test_a_claimed_photo_video_or_audio_that_is_not_one_is_unsupported(
    data: bytes, hints: dict[str, str]
) -> None:
    with pytest.raises(UnsupportedMedia) as caught:
        detect_kind(data, **hints)
    assert caught.value.code == "media_unsupported"
    assert caught.value.context["declared_kind"] in {"photo", "video", "audio"}


@pytest.mark.parametrize(
    ("data", "hints"),
    [
        (b"\xff\xd8", {"declared_type": "image/jpeg"}),
        (b"\x89PNG\r", {"filename": "a.png"}),
        (b"\x00\x00\x00\x20ftyp", {"filename": "a.mp4"}),
        (b"\x1a\x45", {"declared_type": "video/webm"}),
        (b"ID", {"filename": "a.mp3"}),
        (b"fLa", {"declared_type": "audio/flac"}),
        (b"\xff\xfb", {"filename": "a.mp3"}),
        (b"\x00\x00\x00\x1cftypM4", {"filename": "a.m4a"}),
    ],
)
def test_a_header_cut_short_is_corrupt(data: bytes, hints: dict[str, str]) -> None:
    with pytest.raises(CorruptMedia):
        detect_kind(data, **hints)


def test_sniffing_reads_only_the_head() -> None:
    assert SNIFF_BYTES >= 512
    late_signature = bytes(SNIFF_BYTES) + b"\xff\xd8\xff"
    assert detect_kind(late_signature).kind == FILE
