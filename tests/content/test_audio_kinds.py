"""Sniffing audio: real files of every supported format, and bare frames that must be strict."""

from __future__ import annotations

import functools
import random

import pytest

from bastion.content import SNIFF_BYTES, detect_kind, sniff_format
from bastion.errors import UnsupportedMedia
from bastion.signals.base import ContentKind
from tests.signals.test_audio import encode_audio, synth_music

AUDIO, VIDEO, FILE = ContentKind.AUDIO, ContentKind.VIDEO, ContentKind.FILE

# (codec, PyAV container format) -> (kind, format) as sniffed.
ENCODINGS = {
    ("libmp3lame", "mp3"): (AUDIO, "mp3"),
    ("mp2", "mp2"): (AUDIO, "mp2"),
    ("pcm_s16le", "wav"): (AUDIO, "wav"),
    ("flac", "flac"): (AUDIO, "flac"),
    ("libopus", "ogg"): (AUDIO, "ogg-audio"),
    ("flac", "ogg"): (AUDIO, "ogg-audio"),
    ("aac", "ipod"): (AUDIO, "m4a"),
    ("aac", "adts"): (AUDIO, "aac"),
    ("pcm_s16be", "aiff"): (AUDIO, "aiff"),
    # Containers that may hold video are sniffed as videos; hashing finds there is none.
    ("aac", "mp4"): (VIDEO, "mp4"),
    ("libopus", "webm"): (VIDEO, "matroska"),
}


@functools.cache
def encoded(codec: str, container_format: str) -> bytes:
    return encode_audio(synth_music(5, 2.0), codec, container_format)


def without_id3(data: bytes) -> bytes:
    """MP3 as some encoders write it: frames from the first byte, no tag."""
    assert data[:3] == b"ID3"
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return data[10 + size :]


@pytest.mark.parametrize(("codec", "container_format"), list(ENCODINGS))
def test_real_audio_files_are_recognised(codec: str, container_format: str) -> None:
    data = encoded(codec, container_format)
    sniffed = detect_kind(data)
    assert (sniffed.kind, sniffed.format) == ENCODINGS[codec, container_format]


def test_bare_mp3_frames_are_recognised_by_a_chain_of_headers() -> None:
    frames = without_id3(encoded("libmp3lame", "mp3"))
    assert frames[0] == 0xFF
    assert sniff_format(frames[:SNIFF_BYTES]) == sniff_format(frames)
    assert (sniff_format(frames).kind, sniff_format(frames).format) == (AUDIO, "mp3")


def test_one_frame_header_is_not_enough_without_a_hint() -> None:
    # A valid MPEG-1 layer III header (128 kbit/s, 44.1 kHz: 417 bytes), then no second frame.
    lone = b"\xff\xfb\x90\x64" + bytes(413) + b"not a frame header" + bytes(600)
    assert sniff_format(lone).kind == FILE
    assert detect_kind(lone).kind == FILE
    # Named or declared as audio, the first header suffices: the hint is the second clue.
    named = detect_kind(lone, filename="nasheed.mp3")
    assert (named.kind, named.format) == (AUDIO, "mp3")
    declared = detect_kind(lone, declared_type="audio/mpeg")
    assert (declared.kind, declared.format) == (AUDIO, "mp3")


def test_bare_adts_needs_consistent_frames() -> None:
    adts = encoded("aac", "adts")
    assert sniff_format(adts).format == "aac"
    # The second frame's header claims another sample rate: not one stream.
    first_length = ((adts[3] & 3) << 11) | (adts[4] << 3) | (adts[5] >> 5)
    changed = bytearray(adts)
    changed[first_length + 2] ^= 0b0000_0100
    assert sniff_format(bytes(changed)).kind == FILE


def test_random_bytes_with_a_frame_sync_are_not_audio() -> None:
    """Every blob starts with an 11-bit MPEG sync (the first 0xFFE bits), the hard case."""
    rng = random.Random(20240611)
    found = []
    for _ in range(20_000):
        blob = bytes([0xFF, rng.randrange(0xE0, 0x100)]) + rng.randbytes(SNIFF_BYTES - 2)
        sniffed = sniff_format(blob)
        if sniffed.kind == AUDIO:
            found.append(blob[:8].hex())
    assert found == []


def test_random_bytes_named_mp3_without_a_frame_header_are_refused() -> None:
    rng = random.Random(5)
    for _ in range(200):
        blob = b"\xff\x00" + rng.randbytes(1000)  # 0xFF, but no sync after it
        with pytest.raises(UnsupportedMedia) as caught:
            detect_kind(blob, filename="a.mp3")
        assert caught.value.context["declared_kind"] == "audio"
