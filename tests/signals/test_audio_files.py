"""Audio files as content: every format gives the same fingerprint of the same music; videos
without a picture are audio; short, unfingerprintable and broken audio behave as documented."""

from __future__ import annotations

import functools
import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from bastion.errors import BastionError, CorruptMedia, VideoNoStream
from bastion.signals import audio_file
from bastion.signals.audio import ChromaprintSignal
from bastion.signals.base import ContentKind, HashLimits
from bastion.signals.extract import Extraction, extract_signals, extract_signals_from_path
from tests.conftest import needs_chromaprint
from tests.signals.test_audio import RATE, encode_audio, synth_music

pytestmark = needs_chromaprint

SECONDS = 15.0
# (codec, PyAV container format, bit rate) -> (file name, format in media.extra).
FORMATS = {
    ("libmp3lame", "mp3", 128_000): ("song.mp3", "mp3"),
    ("pcm_s16le", "wav", None): ("song.wav", "wav"),
    ("flac", "flac", None): ("song.flac", "flac"),
    ("libopus", "ogg", 48_000): ("song.opus", "ogg-audio"),
    ("flac", "ogg", None): ("song.oga", "ogg-audio"),
    ("aac", "ipod", 96_000): ("song.m4a", "m4a"),
    ("aac", "adts", 96_000): ("song.aac", "aac"),
    ("pcm_s16be", "aiff", None): ("song.aiff", "aiff"),
    # Video containers holding only audio: sniffed as videos, hashed as audio.
    ("aac", "mp4", 96_000): ("song.mp4", "mp4"),
    ("libopus", "webm", 48_000): ("song.webm", "matroska"),
}


@functools.cache
def music() -> np.ndarray:
    return synth_music(11, SECONDS)


@functools.cache
def encoded(codec: str, container_format: str, bit_rate: int | None) -> bytes:
    return encode_audio(music(), codec, container_format, bit_rate=bit_rate)


def _types(extraction: Extraction) -> list[str]:
    return [signal.type for signal in extraction.signals]


def _chromaprint(extraction: Extraction) -> str:
    return next(s.value for s in extraction.signals if s.type == "chromaprint")


@pytest.fixture(scope="module")
def reference() -> str:
    return _chromaprint(extract_signals(encoded("pcm_s16le", "wav", None)))


@pytest.mark.parametrize(("codec", "container_format", "bit_rate"), list(FORMATS))
def test_each_format_gives_exact_hashes_and_the_same_fingerprint(
    codec: str, container_format: str, bit_rate: int | None, reference: str
) -> None:
    name, fmt = FORMATS[codec, container_format, bit_rate]
    data = encoded(codec, container_format, bit_rate)
    extraction = extract_signals(data, filename=name)
    assert _types(extraction) == ["md5", "sha256", "chromaprint"]
    media = extraction.media
    assert media.kind == ContentKind.AUDIO
    assert media.extra["format"] == fmt
    assert media.duration_seconds == pytest.approx(SECONDS, abs=0.1)
    assert media.extra["audio_seconds"] == media.duration_seconds
    assert "audio_error" not in media.extra
    assert (media.width, media.height, media.frames_hashed) == (None, None, None)
    distance = ChromaprintSignal.distance(_chromaprint(extraction), reference)
    assert distance <= 12  # measured 0-2, raw AAC 7 (its priming samples); threshold 25
    # No name, no declared type: the bytes alone decide.
    assert extract_signals(data) == extract_signals(data, filename=name)


@pytest.mark.parametrize("key", [("libmp3lame", "mp3", 128_000), ("aac", "mp4", 96_000)])
def test_a_file_on_disk_hashes_like_its_bytes(key: tuple[str, str, int], tmp_path: Path) -> None:
    name, _ = FORMATS[key]
    data = encoded(*key)
    path = tmp_path / name
    path.write_bytes(data)
    assert extract_signals_from_path(path) == extract_signals(data, filename=name)


def test_banking_audio_gives_the_same_signals() -> None:
    data = encoded("libmp3lame", "mp3", 128_000)
    banked = extract_signals(data, for_bank=True)
    assert banked.signals == extract_signals(data).signals
    assert banked.variants == [] and banked.video_bank_variants is None


def test_a_video_with_its_soundtrack_is_still_a_video() -> None:
    video = encode_audio(music(), "aac", "mp4", bit_rate=96_000, video=True)
    extraction = extract_signals(video)
    assert extraction.media.kind == ContentKind.VIDEO
    assert _types(extraction) == ["md5", "sha256", "vpdq", "chromaprint"]


def _subtitles_only() -> bytes:
    """A Matroska file with a subtitle track and nothing else."""
    out = io.BytesIO()
    with av.open(out, "w", format="matroska") as container:
        stream = container.add_stream("ass")
        for index in range(3):
            packet = av.Packet(b"Dialogue: hello")
            packet.stream, packet.time_base = stream, Fraction(1, 1000)
            packet.pts = packet.dts = index * 1000
            packet.duration = 500
            container.mux(packet)
    return out.getvalue()


def test_a_video_container_without_video_or_audio_stays_no_video_stream(tmp_path: Path) -> None:
    data = _subtitles_only()
    with pytest.raises(VideoNoStream) as caught:
        extract_signals(data)
    assert caught.value.code == "video_no_video_stream"
    path = tmp_path / "subtitles.mkv"
    path.write_bytes(data)
    with pytest.raises(VideoNoStream):
        extract_signals_from_path(path)


def test_audio_too_short_to_fingerprint_keeps_its_exact_hashes() -> None:
    data = encode_audio(synth_music(12, 2.0), "libmp3lame", "mp3")
    extraction = extract_signals(data, filename="jingle.mp3")
    assert _types(extraction) == ["md5", "sha256"]
    assert extraction.media.kind == ContentKind.AUDIO
    assert extraction.media.extra["audio_error"] == "audio_too_short"
    assert extraction.media.duration_seconds == pytest.approx(2.0, abs=0.1)


def test_without_chromaprint_audio_keeps_its_exact_hashes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(audio_file, "chromaprint_available", lambda: False)
    data = encoded("libmp3lame", "mp3", 128_000)
    extraction = extract_signals(data)
    assert _types(extraction) == ["md5", "sha256"]
    assert extraction.media.kind == ContentKind.AUDIO
    assert extraction.media.extra["audio_error"] == "audio_fingerprinting_unavailable"
    assert extraction.media.duration_seconds == pytest.approx(SECONDS, abs=0.2)
    path = tmp_path / "song.mp3"
    path.write_bytes(data)
    assert extract_signals_from_path(path) == extraction
    # A container that turns out to hold audio only is still audio, not "no video stream".
    song_mp4 = extract_signals(encoded("aac", "mp4", 96_000))
    assert song_mp4.media.kind == ContentKind.AUDIO
    with pytest.raises(CorruptMedia):
        extract_signals(b"ID3\x04\x00\x00\x00\x00\x00\x10" + bytes(16) + b"junk" * 100)


def test_audio_past_the_limit_is_fingerprinted_up_to_it() -> None:
    data = encoded("flac", "flac", None)
    extraction = extract_signals(data, limits=HashLimits(max_video_seconds=8.0))
    assert extraction.media.extra["audio_limited"] == 1
    assert extraction.media.duration_seconds == pytest.approx(8.0)
    assert "chromaprint" in _types(extraction)


def _without_id3(data: bytes) -> bytes:
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return data[10 + size :]


@pytest.mark.parametrize("damage", ["tag_then_garbage", "tag_then_zeros", "first_300_bytes"])
def test_broken_mp3_is_media_corrupt(damage: str) -> None:
    mp3 = encoded("libmp3lame", "mp3", 128_000)
    rng = np.random.default_rng(3)
    garbage = rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    tag = mp3[: len(mp3) - len(_without_id3(mp3))]
    data = {
        "tag_then_garbage": tag + garbage,
        "tag_then_zeros": tag + bytes(20_000),
        "first_300_bytes": mp3[:300],
    }[damage]
    with pytest.raises(BastionError) as caught:
        extract_signals(data, filename="nasheed.mp3")
    assert caught.value.code == "media_corrupt"


def test_a_cut_off_mp3_keeps_what_decoded(reference: str) -> None:
    mp3 = encoded("libmp3lame", "mp3", 128_000)
    extraction = extract_signals(mp3[: len(mp3) * 2 // 3])
    assert extraction.media.kind == ContentKind.AUDIO
    assert 9.0 < (extraction.media.duration_seconds or 0) < 11.0
    assert ChromaprintSignal.distance(_chromaprint(extraction), reference) <= 10


def test_damaged_audio_files_raise_only_stable_codes() -> None:
    rng = np.random.default_rng(9)
    outcomes: set[str] = set()
    for key in [("libmp3lame", "mp3", 128_000), ("flac", "flac", None), ("aac", "ipod", 96_000)]:
        source = np.frombuffer(encoded(*key), dtype=np.uint8)
        for _ in range(4):
            damaged = source.copy()
            at = rng.integers(0, len(damaged), size=int(rng.integers(1, 300)))
            damaged[at] = rng.integers(0, 256, size=len(at), dtype=np.uint8)
            try:
                extraction = extract_signals(damaged.tobytes())
            except BastionError as exc:
                outcomes.add(exc.code)
            else:
                outcomes.add(extraction.media.kind.value)
    assert outcomes <= {"audio", "file", "media_corrupt", "media_unsupported"}


def test_random_bytes_starting_with_a_frame_sync_are_just_a_file() -> None:
    rng = np.random.default_rng(21)
    for _ in range(50):
        data = b"\xff\xfb" + rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()
        extraction = extract_signals(data)
        assert extraction.media.kind == ContentKind.FILE
        assert _types(extraction) == ["md5", "sha256"]


def test_raw_pcm_rate_is_kept_in_the_media_facts() -> None:
    extraction = extract_signals(encoded("pcm_s16le", "wav", None))
    assert extraction.media.extra["audio_codec"] == "pcm_s16le"
    assert extraction.media.extra["audio_sample_rate"] == RATE
