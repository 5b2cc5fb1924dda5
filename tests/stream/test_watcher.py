"""The livestream watcher on files read as fast as they decode: banked footage inside a stream
fires once, unrelated footage never does, entries banked mid-stream are matched, bad sources
give stable error codes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bastion.banks.from_media import entries_from_extraction
from bastion.banks.records import EntryInfo, NewEntry
from bastion.demo.media import make_video
from bastion.errors import BastionError
from bastion.runtime import Bastion
from bastion.signals.extract import extract_signals
from bastion.stream.evidence import TemporalEvidence
from bastion.stream.sampler import Sampler
from bastion.stream.source import open_source
from bastion.stream.watcher import StreamAlert, StreamWatcher
from tests.signals.test_video_variants import FPS, Frames, _decode, _encode, _scaled

SIZE = (480, 270)
STREAM_SIZE = (424, 240)  # the rebroadcast is scaled: not the banked clip's pixels
CLIP_SECONDS = 8.0
BEFORE = 6.0  # seconds of unrelated footage before the clip in the stream


@pytest.fixture(scope="module")
def clip() -> bytes:
    return make_video(71, seconds=CLIP_SECONDS, fps=FPS, size=SIZE)


@pytest.fixture(scope="module")
def streams(clip: bytes) -> dict[str, bytes]:
    def unrelated(seed: int, seconds: float) -> Frames:
        return _decode(make_video(seed, seconds=seconds, fps=FPS, size=STREAM_SIZE))

    copy = [_scaled(rgb[:, ::-1], *STREAM_SIZE) for rgb in _decode(clip)]
    return {
        "with_clip": _encode(unrelated(72, BEFORE) + copy + unrelated(73, 6.0)),
        "unrelated": _encode(unrelated(74, 12.0)),
    }


def _bank(bastion: Bastion, data: bytes, filename: str) -> list[EntryInfo]:
    extraction = extract_signals(data, filename=filename, for_bank=True)
    with bastion.db.session() as session:
        if not any(bank.name == "tvec" for bank in bastion.banks.list(session)):
            bastion.banks.create(session, name="tvec", actor="test")
        entries, _ = entries_from_extraction(extraction, source=filename)
        return bastion.banks.add_entries(session, "tvec", entries, actor="test").added


def _bank_video(bastion: Bastion, clip: bytes) -> int:
    added = _bank(bastion, clip, "attack.mp4")
    video = next(e for e in added if e.signal_type == "vpdq")
    assert video.variants and "dense" in video.variants
    return video.id


def _still(clip: bytes, seconds: float) -> bytes:
    frame = _decode(clip)[round(seconds * FPS)]
    out = io.BytesIO()
    Image.fromarray(frame).save(out, format="PNG")
    return out.getvalue()


def _watch(
    bastion: Bastion, path: Path, data: bytes, refresh_seconds: float = 1.0
) -> tuple[StreamWatcher, list[StreamAlert]]:
    path.write_bytes(data)
    alerts: list[StreamAlert] = []
    source = open_source(path, live=False)
    watcher = StreamWatcher(
        bastion, source, on_alert=alerts.append, refresh_seconds=refresh_seconds
    )
    return watcher, alerts


def test_banked_clip_in_a_stream_fires_once(
    bastion: Bastion, clip: bytes, streams: dict[str, bytes], tmp_path: Path
) -> None:
    video_id = _bank_video(bastion, clip)
    watcher, alerts = _watch(bastion, tmp_path / "stream.mp4", streams["with_clip"])
    assert watcher.run() is True
    assert [(a.entry_id, a.signal_type) for a in alerts] == [(video_id, "vpdq")]
    alert = alerts[0]
    assert BEFORE <= alert.first_frame_seconds < BEFORE + CLIP_SECONDS
    assert alert.first_frame_seconds < alert.fired_seconds < BEFORE + CLIP_SECONDS
    assert alert.frames >= 3 and alert.best_distance <= 31
    assert alert.bank == "tvec" and not alert.review_only and alert.latency_seconds >= 0
    status = watcher.status()
    assert status.frames_sampled >= 18 and status.current_rate == status.target_rate == 1.0


def test_unrelated_footage_raises_no_alert(
    bastion: Bastion, clip: bytes, streams: dict[str, bytes], tmp_path: Path
) -> None:
    _bank_video(bastion, clip)
    _bank(bastion, _still(clip, 2.0), "poster.png")
    watcher, alerts = _watch(bastion, tmp_path / "stream.mp4", streams["unrelated"])
    watcher.run()
    assert alerts == []


def test_entries_banked_while_watching_are_matched(
    bastion: Bastion, clip: bytes, streams: dict[str, bytes], tmp_path: Path
) -> None:
    # Refreshing at every sampled frame (not once a wall second) keeps this deterministic: the
    # file decodes far faster than real time.
    watcher, alerts = _watch(bastion, tmp_path / "stream.mp4", streams["with_clip"], 0.0)
    # Nothing is banked yet: the stream runs to just before the clip.
    assert watcher.run(max_seconds=BEFORE - 0.5) is False
    assert alerts == [] and watcher.status().frames_sampled >= 5
    # The clip is banked mid-stream (a crisis hash) and matched at the next index refresh.
    video_id = _bank_video(bastion, clip)
    watcher.run()
    assert [(a.entry_id, a.signal_type) for a in alerts] == [(video_id, "vpdq")]


def test_one_noisy_frame_never_fires() -> None:
    evidence = TemporalEvidence(k=3, window_seconds=10.0)
    assert evidence.add(1.0, 0.0, {(5, "pdq"): 20.0}) == []
    assert evidence.add(12.0, 0.0, {(5, "pdq"): 20.0}) == []  # the first fell out of the window
    assert evidence.add(13.0, 0.0, {(5, "pdq"): 10.0}) == []
    fired = evidence.add(14.0, 0.0, {(5, "pdq"): 25.0, (6, "vpdq"): 1.0})
    assert [(e.entry_id, e.first_frame_seconds, e.frames, e.best_distance) for e in fired] == [
        (5, 12.0, 3, 10.0)
    ]
    assert evidence.add(15.0, 0.0, {(5, "pdq"): 1.0}) == []  # once per entry per stream


def test_the_governor_lowers_the_rate_when_behind_and_reports_it() -> None:
    sampler = Sampler(1.0, max_lag_seconds=2.0, recover_seconds=10.0)
    taken = []
    for tenth in range(400):
        seconds = tenth / 10
        lag = 3.0 if 5 <= seconds < 15 else 0.0
        sampler.observe(seconds, lag)
        if sampler.wanted(seconds):
            taken.append(seconds)
    lowered = sampler.status()
    assert lowered.target_rate == 1.0 and lowered.lag_seconds == 0.0
    assert sum(1 for s in taken if 5 <= s < 15) < 10  # fewer than once a second while behind
    assert sampler.rate == 1.0  # back to the target after calm stream time
    sampler.observe(40.0, 5.0)  # far behind: frames are dropped until it catches up
    assert sampler.wanted(44.0) is False and sampler.status().frames_skipped == 1


def test_bad_sources_give_stable_error_codes(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00not a video at all" * 100)
    audio_only = tmp_path / "tone.wav"
    samples = (np.sin(np.arange(8000) / 5) * 3000).astype("<i2").tobytes()
    header = (
        b"RIFF"
        + (36 + len(samples)).to_bytes(4, "little")
        + b"WAVEfmt "
        + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little")
        + (1).to_bytes(2, "little")
        + (8000).to_bytes(4, "little")
        + (16000).to_bytes(4, "little")
        + (2).to_bytes(2, "little")
        + (16).to_bytes(2, "little")
        + b"data"
        + len(samples).to_bytes(4, "little")
    )
    audio_only.write_bytes(header + samples)
    expected = {
        tmp_path / "missing.mp4": "invalid_input",
        garbage: "media_corrupt",
        audio_only: "video_no_video_stream",
    }
    for path, code in expected.items():
        with pytest.raises(BastionError) as caught:
            open_source(path, live=False)
        assert caught.value.code == code, path


def test_a_video_banked_from_its_hash_alone_fires(
    bastion: Bastion, clip: bytes, streams: dict[str, bytes], tmp_path: Path
) -> None:
    # Imported lists, partner hashes and stream ranges carry no dense frames: the video's own
    # frames (one a second) stand in for them in the live index.
    plain = next(
        s.value for s in extract_signals(clip, filename="a.mp4").signals if s.type == "vpdq"
    )
    with bastion.db.session() as session:
        bastion.banks.create(session, name="imported", actor="test")
        [entry] = bastion.banks.add_entries(
            session, "imported", [NewEntry("vpdq", plain)], actor="test"
        ).added
    assert not entry.variants
    watcher, alerts = _watch(bastion, tmp_path / "stream.mp4", streams["with_clip"])
    watcher.run()
    assert [(a.entry_id, a.bank) for a in alerts] == [(entry.id, "imported")]


def test_a_banked_photo_held_on_screen_fires_as_a_photo(
    bastion: Bastion, clip: bytes, tmp_path: Path
) -> None:
    poster = _decode(clip)[round(2.0 * FPS)]
    [photo] = [e for e in _bank(bastion, _still(clip, 2.0), "poster.png") if e.signal_type == "pdq"]
    unrelated = _decode(make_video(75, seconds=4.0, fps=FPS, size=STREAM_SIZE))
    held = [_scaled(poster, *STREAM_SIZE)] * int(5 * FPS)  # a propaganda poster shown for 5 s
    watcher, alerts = _watch(
        bastion, tmp_path / "stream.mp4", _encode(unrelated + held + unrelated)
    )
    watcher.run()
    assert [(a.entry_id, a.signal_type) for a in alerts] == [(photo.id, "pdq")]
    assert 4.0 <= alerts[0].first_frame_seconds < 9.0
