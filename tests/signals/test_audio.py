"""Audio fingerprints on generated music: stability, re-encoding, trims, damage and the format.

The "music" is synthesised here (chords of decaying harmonics, noise-burst drums and a
speech-like buzzing voice), different seeds being unrelated tracks, and encoded with PyAV into
real containers. The helpers are shared with ``tests/index/test_audio_index.py``.
"""

from __future__ import annotations

import functools
import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from bastion.demo.media import make_video
from bastion.errors import BastionError, CorruptMedia, InvalidSignal
from bastion.signals import chromaprint_lib
from bastion.signals.audio import AudioFingerprinter, ChromaprintSignal, audio_fingerprint
from bastion.signals.audio_items import (
    ITEM_SECONDS,
    MAX_ITEMS,
    format_items,
    items_for_seconds,
    parse_items,
    seconds_of_items,
)
from bastion.signals.base import HashLimits
from bastion.signals.chromaprint_lib import (
    ChromaprintContext,
    ChromaprintUnavailable,
    chromaprint_available,
)
from tests.conftest import needs_chromaprint

RATE = 22050
TRACK_SECONDS = 60.0
EXCERPT_START, EXCERPT_SECONDS = 17.3, 20.0

pytestmark = needs_chromaprint


# --- generated audio -----------------------------------------------------------------------------


@functools.cache
def synth_music(seed: int, seconds: float, rate: int = RATE) -> np.ndarray:
    """Mono float32 in [-0.8, 0.8]: chords, drums and a voice that change every fraction of a
    second, so that the fingerprint is distinctive everywhere (as real music's is).

    Cached for the whole session (both audio test modules use the same tracks), so read-only.
    """
    rng = np.random.default_rng(seed)
    count = round(seconds * rate)
    out = np.zeros(count)
    scale = 110.0 * 2 ** (np.array([0, 2, 3, 5, 7, 8, 10, 12, 14, 15, 17, 19]) / 12)
    scale *= 2.0 ** rng.integers(0, 3)
    at = 0.0
    while at < seconds:  # chords: three notes of three harmonics, struck and decaying
        length = rng.uniform(0.4, 1.2)
        first, stop = int(at * rate), min(count, int((at + length + 0.3) * rate))
        t = np.arange(stop - first) / rate
        envelope = np.exp(-t * rng.uniform(1, 4)) * np.minimum(1.0, t * 50)
        for note in rng.choice(scale, size=3, replace=False):
            for harmonic in (1, 2, 3):
                phase = rng.uniform(0, 2 * np.pi)
                out[first:stop] += (
                    envelope * np.sin(2 * np.pi * note * harmonic * t + phase) / (7 * harmonic)
                )
        at += length
    beat, at = float(rng.uniform(0.3, 0.6)), 0.0
    while at < seconds:  # drums: decaying noise bursts
        first = int(at * rate)
        size = min(count - first, int(0.15 * rate))
        decay = np.exp(-np.arange(size) / rate * 30)
        out[first : first + size] += rng.standard_normal(size) * decay * rng.uniform(0.1, 0.3)
        at += beat * float(rng.choice([0.5, 1.0, 1.0, 2.0]))
    t = np.arange(count) / rate  # voice: a buzz with a gliding pitch, in syllables and pauses
    pitch = 150 + 30 * np.sin(2 * np.pi * 0.3 * t + seed)
    voice_phase = 2 * np.pi * np.cumsum(pitch) / rate
    syllables = np.clip(np.sin(2 * np.pi * rng.uniform(2.5, 4.5) * t), 0, None)
    speaking = rng.uniform(size=int(seconds) + 1)[t.astype(int)] > 0.4
    for harmonic in range(1, 6):
        out += np.sin(harmonic * voice_phase) / harmonic * syllables * speaking * 0.1
    music: np.ndarray = (out / np.abs(out).max() * 0.8).astype(np.float32)
    music.flags.writeable = False
    return music


def encode_audio(
    samples: np.ndarray,
    codec: str,
    container_format: str,
    *,
    bit_rate: int | None = None,
    rate: int = RATE,
    video: bool = False,
) -> bytes:
    """Mono float samples encoded with ``codec`` into a ``container_format`` file in memory;
    ``video`` adds a small H.264 stream, as in a screen recording."""
    out = io.BytesIO()
    with av.open(out, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=48000 if codec == "libopus" else rate)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.layout = "mono"
        if bit_rate:
            stream.bit_rate = bit_rate
        if codec == "aac":
            stream.options = {"aac_coder": "fast"}  # twice as fast as the default, still AAC
        picture = None
        if video:
            picture = container.add_stream("libx264", rate=2)
            assert isinstance(picture, av.video.stream.VideoStream)
            picture.width, picture.height, picture.pix_fmt = 64, 64, "yuv420p"
        codec_context = stream.codec_context
        resampler = av.AudioResampler(
            format=codec_context.format.name, layout="mono", rate=codec_context.sample_rate
        )
        for first in range(0, len(samples), 4096):
            frame = av.AudioFrame.from_ndarray(
                samples[np.newaxis, first : first + 4096], format="flt", layout="mono"
            )
            frame.sample_rate, frame.pts, frame.time_base = rate, first, Fraction(1, rate)
            for converted in resampler.resample(frame):
                container.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            container.mux(stream.encode(converted))
        container.mux(stream.encode(None))
        if picture is not None:
            for index in range(int(len(samples) / rate * 2)):
                shade = np.full((64, 64, 3), (index * 37) % 200 + 20, dtype=np.uint8)
                image = av.VideoFrame.from_ndarray(shade, format="rgb24")
                image.pts, image.time_base = index, Fraction(1, 2)
                container.mux(picture.encode(image))
            container.mux(picture.encode(None))
    return out.getvalue()


def fingerprint_pcm(samples: np.ndarray, rate: int = RATE) -> np.ndarray:
    fingerprinter = AudioFingerprinter()
    first = fingerprinter.feed_pcm(samples, rate).items
    return np.concatenate([first, fingerprinter.finish().items])


def value_of(source: bytes | np.ndarray) -> str:
    if isinstance(source, np.ndarray):
        return format_items(fingerprint_pcm(source))
    result = audio_fingerprint(source)
    assert result is not None
    return result.signal().value


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def track() -> np.ndarray:
    return synth_music(1, TRACK_SECONDS)


@pytest.fixture(scope="module")
def wav(track: np.ndarray) -> bytes:
    return encode_audio(track, "pcm_s16le", "wav")


@pytest.fixture(scope="module")
def first_half(track: np.ndarray) -> np.ndarray:
    """Copies are made of the first 30 s only (encoding is what takes time in these tests):
    they are then also parts of the original."""
    return track[: round(TRACK_SECONDS / 2 * RATE)]


@pytest.fixture(scope="module")
def screen_recording(first_half: np.ndarray) -> bytes:
    """The first half of the track as AAC at 96 kbit/s in an MP4 with a video stream."""
    return encode_audio(first_half, "aac", "mp4", bit_rate=96_000, video=True)


@pytest.fixture(scope="module")
def original(wav: bytes) -> str:
    return value_of(wav)


# --- fingerprints --------------------------------------------------------------------------------


def test_fingerprints_are_stable_and_sized_as_documented(wav: bytes, original: str) -> None:
    result = audio_fingerprint(wav)
    assert result is not None
    assert result.signal().value == original == value_of(wav)
    assert len(result.items) == items_for_seconds(TRACK_SECONDS) == 463
    assert result.seconds == pytest.approx(TRACK_SECONDS, abs=0.01)
    assert result.extra["audio_codec"] == "pcm_s16le"
    assert result.extra["audio_sample_rate"] == RATE
    assert "audio_truncated" not in result.extra
    quality = result.signal().quality
    assert quality is not None and quality > 90
    assert ChromaprintSignal.normalize(original) == original
    assert ChromaprintSignal.distance(original, original) == 0


def test_item_counts_follow_the_documented_formula() -> None:
    for seconds in (3.0, 10.0, 20.0):
        items = fingerprint_pcm(synth_music(5, seconds))
        assert len(items) == items_for_seconds(seconds)
    assert items_for_seconds(2.7) == 0
    assert seconds_of_items(items_for_seconds(20.0)) == pytest.approx(20.0, abs=ITEM_SECONDS)


def test_a_file_and_its_bytes_give_the_same_fingerprint(wav: bytes, tmp_path: Path) -> None:
    path = tmp_path / "track.wav"
    path.write_bytes(wav)
    from_path, from_bytes = audio_fingerprint(path), audio_fingerprint(wav)
    assert from_path is not None and from_bytes is not None
    assert np.array_equal(from_path.items, from_bytes.items)


@pytest.mark.parametrize(
    ("codec", "container_format", "bit_rate"),
    [("libmp3lame", "mp3", 64_000), ("libopus", "ogg", 32_000), ("aac", "adts", 48_000)],
)
def test_reencoded_copies_are_close(
    first_half: np.ndarray, original: str, codec: str, container_format: str, bit_rate: int
) -> None:
    copy = value_of(encode_audio(first_half, codec, container_format, bit_rate=bit_rate))
    # Measured 1 (MP3), 2 (Opus), 6 (raw AAC: its 1024 priming samples shift the audio).
    assert ChromaprintSignal.distance(copy, original) <= 10


def test_the_soundtrack_of_a_screen_recording_matches(
    screen_recording: bytes, original: str
) -> None:
    result = audio_fingerprint(screen_recording)
    assert result is not None
    assert result.extra["audio_codec"] == "aac"
    assert ChromaprintSignal.distance(result.signal().value, original) <= 3  # measured 1


def test_a_volume_change_matches(first_half: np.ndarray, original: str) -> None:
    quieter = value_of(encode_audio(first_half * 0.25, "libmp3lame", "mp3", bit_rate=128_000))
    assert ChromaprintSignal.distance(quieter, original) <= 3  # measured 1


def test_a_trimmed_excerpt_matches(track: np.ndarray, original: str) -> None:
    first = round(EXCERPT_START * RATE)
    excerpt = track[first : first + round(EXCERPT_SECONDS * RATE)]
    value = value_of(encode_audio(excerpt, "aac", "mp4", bit_rate=96_000))
    assert ChromaprintSignal.distance(value, original) <= 8  # measured 4: off the item grid
    assert ChromaprintSignal.distance(original, value) <= 8


def test_unrelated_tracks_are_far_apart(original: str) -> None:
    for seed in (2, 3):
        other = value_of(synth_music(seed, 30.0))
        assert ChromaprintSignal.distance(other, original) >= 35  # measured 50: no evidence


def test_silence_and_stationary_noise_match_nothing(original: str) -> None:
    rng = np.random.default_rng(0)
    silence = value_of(np.zeros(20 * RATE, dtype=np.float32))
    noise = [value_of(rng.standard_normal(20 * RATE).astype(np.float32) * 0.1) for _ in range(2)]
    hum = value_of((0.3 * np.sin(np.arange(20 * RATE) * 2 * np.pi * 50 / RATE)).astype(np.float32))
    for value in (silence, noise[0], hum):
        assert ChromaprintSignal.distance(value, original) >= 35
    for value in (silence, hum):
        assert ChromaprintSignal.distance(value, value) == 50  # identical, but no evidence
    # Two different noises are only ~18% apart bit for bit; nothing marks an alignment.
    assert ChromaprintSignal.distance(noise[0], noise[1]) == 50
    assert ChromaprintSignal.distance(silence, hum) == 50
    assert parse_items(silence).size and len(set(parse_items(silence).tolist())) == 1


# --- files without audio, short, limited, damaged ------------------------------------------------


def test_a_video_without_audio_has_no_fingerprint() -> None:
    assert audio_fingerprint(make_video(3, seconds=1.0, size=(64, 64))) is None


def test_audio_too_short_for_one_item_has_no_fingerprint() -> None:
    assert audio_fingerprint(encode_audio(synth_music(4, 2.0), "pcm_s16le", "wav")) is None


def test_audio_past_the_limit_is_ignored(wav: bytes, original: str) -> None:
    result = audio_fingerprint(wav, HashLimits(max_video_seconds=20.0))
    assert result is not None
    assert result.extra["audio_limited"] == 1
    assert result.seconds == pytest.approx(20.0)
    assert len(result.items) == items_for_seconds(20.0)
    assert np.array_equal(result.items, parse_items(original)[: len(result.items)])


def test_garbage_and_cut_off_containers_are_corrupt_media(screen_recording: bytes) -> None:
    # An MP4 cut before its index (written at the end) cannot even be opened.
    for data in (b"\x00garbage" * 100, screen_recording[: len(screen_recording) // 2]):
        with pytest.raises(CorruptMedia) as caught:
            audio_fingerprint(data)
        assert caught.value.code == "media_corrupt"


def test_a_cut_off_stream_keeps_what_decoded(first_half: np.ndarray, original: str) -> None:
    mp3 = encode_audio(first_half, "libmp3lame", "mp3", bit_rate=128_000)
    result = audio_fingerprint(mp3[: len(mp3) // 2])
    assert result is not None
    assert 12 < result.seconds < 18
    assert ChromaprintSignal.distance(result.signal().value, original) <= 5


def test_damaged_audio_never_raises_anything_but_bastion_errors(track: np.ndarray) -> None:
    rng = np.random.default_rng(7)
    sources = [
        encode_audio(track[: 8 * RATE], "libmp3lame", "mp3", bit_rate=64_000),
        encode_audio(track[: 8 * RATE], "aac", "mp4", bit_rate=64_000),
        encode_audio(track[: 8 * RATE], "libopus", "ogg", bit_rate=24_000),
    ]
    outcomes = set()
    for source in sources:
        for _ in range(5):
            damaged = np.frombuffer(source, dtype=np.uint8).copy()
            at = rng.integers(0, len(damaged), size=int(rng.integers(1, 200)))
            damaged[at] = rng.integers(0, 256, size=len(at), dtype=np.uint8)
            try:
                result = audio_fingerprint(damaged.tobytes())
            except BastionError as exc:
                outcomes.add(exc.code)
            else:
                outcomes.add("none" if result is None else "fingerprint")
    assert outcomes <= {"fingerprint", "none", "media_corrupt", "media_unsupported"}
    assert "fingerprint" in outcomes


# --- incremental fingerprinting ------------------------------------------------------------------


def test_feeding_chunks_gives_the_items_of_the_whole(track: np.ndarray) -> None:
    whole = fingerprint_pcm(track)
    fingerprinter = AudioFingerprinter()
    rng = np.random.default_rng(3)
    pieces, at = [], 0
    while at < len(track):
        size = int(rng.integers(100, 30_000))
        pieces.append(fingerprinter.feed_pcm(track[at : at + size], RATE))
        at += size
    pieces.append(fingerprinter.finish())
    assert sum(len(piece.items) for piece in pieces) == len(whole)
    assert np.array_equal(np.concatenate([piece.items for piece in pieces]), whole)
    # Each batch continues where the last stopped, at one item per 1365 samples at 11025 Hz.
    produced = [piece for piece in pieces if len(piece.items)]
    assert [p.first_index for p in produced] == list(
        np.cumsum([0] + [len(p.items) for p in produced[:-1]])
    )
    assert produced[-1].seconds[-1] == pytest.approx((len(whole) - 1) * 1365 / 11025)
    assert fingerprinter.seconds == pytest.approx(TRACK_SECONDS, abs=0.01)


def test_stereo_int16_at_another_rate_gives_nearly_the_same_items(track: np.ndarray) -> None:
    part = track[: 20 * RATE]
    mono = fingerprint_pcm(part)
    resampled = np.interp(np.arange(0, len(part), 22050 / 44100), np.arange(len(part)), part)
    stereo = np.stack([resampled, resampled * 0.9], axis=1)
    items = fingerprint_pcm((stereo * 32767).astype(np.int16), 44100)
    assert abs(len(items) - len(mono)) <= 1
    count = min(len(items), len(mono))
    errors = np.bitwise_count(items[:count] ^ mono[:count]).sum() / (32 * count)
    assert errors < 0.05


def test_decoded_frames_can_be_fed_and_formats_may_change(screen_recording: bytes) -> None:
    fingerprinter = AudioFingerprinter()
    pieces = []
    with av.container.open(io.BytesIO(screen_recording), "r") as container:
        for frame in container.decode(audio=0):
            pieces.append(fingerprinter.feed_frame(frame).items)
    pieces.append(fingerprinter.feed_pcm(np.zeros((RATE, 2), dtype=np.int16), RATE).items)
    pieces.append(fingerprinter.finish().items)
    result = audio_fingerprint(screen_recording)
    assert result is not None
    items = np.concatenate(pieces)
    assert np.array_equal(items[: len(result.items)], result.items)
    assert len(items) == items_for_seconds(TRACK_SECONDS / 2 + 1.0)
    with pytest.raises(ValueError, match="finished"):
        fingerprinter.finish()


# --- the value format ----------------------------------------------------------------------------


def test_values_round_trip_and_are_normalised(original: str) -> None:
    items = parse_items(original)
    assert items.dtype == np.uint32
    assert format_items(items) == original
    assert ChromaprintSignal.normalize(f"  {original}\n") == original
    assert format_items(np.array([0x256DF977], dtype=np.uint32)) == "cp1:d/ltJQ=="
    longest = format_items(np.arange(MAX_ITEMS, dtype=np.uint32))
    assert len(parse_items(longest)) == MAX_ITEMS
    assert abs(MAX_ITEMS * ITEM_SECONDS - 4 * 3600) < 1


@pytest.mark.parametrize(
    "value",
    [
        "",
        "cp1:",
        "d/ltJQ==",  # no prefix
        "cp2:d/ltJQ==",  # unknown version
        "CP1:d/ltJQ==",
        "cp1:d/ltJQ",  # missing padding
        "cp1:d/ltJR==",  # padding bits set: not canonical
        "cp1:d/lt",  # 3 bytes: not a whole item
        "cp1:d/ltJQ==d/ltJQ==",
        "cp1:d/l tJQ==",
        "cp1:d_ltJQ==",  # URL-safe alphabet
        "cp1:d/ltJQ==\x00",
    ],
)
def test_malformed_values_are_invalid_signals(value: str) -> None:
    with pytest.raises(InvalidSignal) as caught:
        ChromaprintSignal.normalize(value)
    assert caught.value.code == "invalid_signal"


def test_overlong_and_non_string_values_are_invalid_signals() -> None:
    with pytest.raises(InvalidSignal, match="longer than"):
        ChromaprintSignal.normalize(format_items(np.zeros(MAX_ITEMS + 1, dtype=np.uint32)))
    with pytest.raises(InvalidSignal, match="string"):
        ChromaprintSignal.normalize(b"cp1:d/ltJQ==")  # type: ignore[arg-type]
    with pytest.raises(InvalidSignal):
        ChromaprintSignal.distance("cp1:", "cp1:d/ltJQ==")


# --- the library binding -------------------------------------------------------------------------


def test_a_missing_library_is_a_clear_stable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        chromaprint_lib, "_LOADER", chromaprint_lib._Loader(("libchromaprint-missing.so.0",))
    )
    assert not chromaprint_available()
    with pytest.raises(ChromaprintUnavailable) as caught:
        audio_fingerprint(b"RIFF....WAVE")
    assert caught.value.code == "audio_fingerprinting_unavailable"
    assert caught.value.status == 503
    assert "install libchromaprint1" in caught.value.detail


def test_the_context_checks_its_use() -> None:
    assert chromaprint_lib.chromaprint_version().count(".") >= 1
    with ChromaprintContext() as context:
        with pytest.raises(ValueError, match="start"):
            context.feed(np.zeros(10, dtype=np.int16))
        context.start(11025, 2)
        with pytest.raises(ValueError, match="whole"):
            context.feed(np.zeros(11, dtype=np.int16))
        context.feed(np.zeros(11025 * 2 * 4, dtype=np.int16))
        assert len(context.finish()) == items_for_seconds(4.0)
    with pytest.raises(ValueError, match="closed"):
        context.start(11025, 1)
