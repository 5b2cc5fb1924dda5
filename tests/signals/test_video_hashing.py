"""Video hashing on generated clips: sampling, numbering, limits and damaged files."""

from __future__ import annotations

import io
from pathlib import Path

import av
import pytest

from bastion.demo.broken import make_audio_only, truncate, with_declared_dimensions
from bastion.demo.media import make_video
from bastion.errors import CorruptMedia, VideoInvalidDimensions, VideoNoStream, VideoTooLong
from bastion.signals.base import ContentKind, HashLimits
from bastion.signals.video import VpdqSignal, hash_video
from bastion.signals.vpdq_format import VpdqFrame, parse_vpdq

EVERY_FRAME = HashLimits(video_frames_per_second=0)


def _distance(a: VpdqFrame, b: VpdqFrame) -> int:
    return (int(a.pdq, 16) ^ int(b.pdq, 16)).bit_count()


def test_the_default_rate_hashes_one_frame_a_second(small_video: bytes) -> None:
    result = hash_video(small_video)
    assert [(f.frame_number, f.seconds) for f in result.frames] == [(0, 0.0), (30, 1.0), (60, 2.0)]
    assert all(f.quality >= 80 for f in result.frames)
    media = result.media
    assert (media.kind, media.width, media.height) == (ContentKind.VIDEO, 320, 180)
    assert media.frames_hashed == 3
    assert media.duration_seconds == pytest.approx(3.0, abs=0.05)
    assert media.extra["frames"] == 90
    assert "truncated" not in media.extra


def test_rate_zero_hashes_every_frame_with_pts_timestamps(small_video: bytes) -> None:
    frames = hash_video(small_video, EVERY_FRAME).frames
    assert [f.frame_number for f in frames] == list(range(90))
    assert [f.seconds for f in frames] == [round(n / 30, 3) for n in range(90)]


def test_sampled_frames_are_exactly_the_frames_hashed_at_rate_zero(small_video: bytes) -> None:
    """Skipped non-reference frames must not change any frame that is hashed."""
    every = {f.frame_number: f for f in hash_video(small_video, EVERY_FRAME).frames}
    for rate in (1.0, 2.5, 7.0):
        sampled = hash_video(small_video, HashLimits(video_frames_per_second=rate)).frames
        assert [every[f.frame_number] for f in sampled] == sampled
        slots = [int(f.seconds * rate + 1e-6) for f in sampled]
        assert slots == sorted(set(slots))  # one frame per slot, in order


def test_scenes_change_so_frames_differ(small_video: bytes) -> None:
    frames = hash_video(small_video, HashLimits(video_frames_per_second=2)).frames
    assert _distance(frames[0], frames[-1]) > 31  # a different scene after 2 s


def test_a_resized_reencode_matches_frame_by_frame() -> None:
    original = hash_video(make_video(12, seconds=2.0, size=(320, 180))).frames
    resized = hash_video(make_video(12, seconds=2.0, size=(480, 270))).frames
    assert len(original) == len(resized) == 2
    assert all(_distance(a, b) <= 31 for a, b in zip(original, resized, strict=True))


def test_hashing_a_file_equals_hashing_its_bytes(small_video: bytes, tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(small_video)
    assert hash_video(path) == hash_video(small_video)


def test_the_signal_is_the_frames_in_vpdq_text(small_video: bytes) -> None:
    result = hash_video(small_video)
    signal = result.signal()
    assert signal.type == "vpdq"
    assert parse_vpdq(signal.value) == result.frames
    assert VpdqSignal.normalize(signal.value) == signal.value
    assert signal.quality == round(sum(f.quality for f in result.frames) / len(result.frames))
    assert VpdqSignal.hash_bytes(small_video, HashLimits()) == [signal]


@pytest.mark.parametrize("codec", ["mpeg4", "libvpx-vp9"])
def test_other_codecs_hash_every_sampled_frame(codec: str) -> None:
    data = make_video(13, seconds=2.0, fps=15, size=(160, 96), codec=codec)
    result = hash_video(data)
    assert [f.frame_number for f in result.frames] == [0, 15]
    assert result.media.extra["codec"] != "h264"


def test_audio_is_ignored_and_audio_alone_is_no_video() -> None:
    with_audio = make_video(14, seconds=2.0, size=(160, 96), audio=True)
    assert len(hash_video(with_audio).frames) == 2
    with pytest.raises(VideoNoStream) as caught:
        hash_video(make_audio_only())
    assert caught.value.code == "video_no_video_stream"


def test_a_cut_off_upload_keeps_the_frames_before_the_cut() -> None:
    whole = make_video(15, seconds=4.0, size=(320, 180), faststart=True)
    result = hash_video(truncate(whole, 0.5))
    assert result.media.extra["truncated"] == 1
    assert 1 <= len(result.frames) < 4
    complete = hash_video(whole).frames
    assert result.frames == complete[: len(result.frames)]


@pytest.mark.parametrize("keep", [0.02, 0.5])
def test_a_cut_off_file_with_its_index_at_the_end_is_corrupt(keep: float) -> None:
    with pytest.raises(CorruptMedia) as caught:
        hash_video(truncate(make_video(16, seconds=2.0, size=(160, 96)), keep))
    assert caught.value.code == "media_corrupt"


def test_absurd_declared_dimensions_are_refused_before_decoding(small_video: bytes) -> None:
    data = with_declared_dimensions(small_video, 16_000, 16_000)
    probe = av.open(io.BytesIO(data), options={"max_pixels": "1000000"})  # no 768 MB frame
    assert probe.streams.video[0].codec_context.width == 16_000  # the file really declares it
    probe.close()
    with pytest.raises(VideoInvalidDimensions) as caught:
        hash_video(data)
    assert caught.value.context["max_pixels"] == HashLimits().max_video_pixels


def test_frames_larger_than_the_limit_are_refused(small_video: bytes) -> None:
    with pytest.raises(VideoInvalidDimensions):
        hash_video(small_video, HashLimits(max_video_pixels=320 * 180 - 1))
    assert hash_video(small_video, HashLimits(max_video_pixels=320 * 180)).frames


def test_videos_over_the_length_limit_are_refused(small_video: bytes) -> None:
    with pytest.raises(VideoTooLong) as caught:
        hash_video(small_video, HashLimits(max_video_seconds=2.0))
    assert caught.value.code == "video_too_long"
    assert hash_video(small_video, HashLimits(max_video_seconds=3.1)).frames


def test_damaged_packets_are_skipped_and_flagged(small_video: bytes) -> None:
    damaged = bytearray(small_video)
    start = damaged.find(b"mdat") + 2000
    for offset in range(start, start + 4000, 7):
        damaged[offset] ^= 0x5A  # flip bits in every 7th byte of a stretch of frames
    every = hash_video(bytes(damaged), EVERY_FRAME)
    assert len(every.frames) > 45  # frames on both sides of the damage are kept
    assert every.media.extra["truncated"] == 1
    assert every.media.extra["decode_errors"] >= 1
