"""Decode-cost governance: the governor falls back to keyframes only when decoding itself cannot
keep up with live, reports it, and returns to full decoding once the lag has recovered; the
source decodes keyframes only on request, resumes full decoding at a keyframe, and hashes what
it decodes exactly as a full decode would."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from bastion.runtime import Bastion
from bastion.stream.evidence import TemporalEvidence
from bastion.stream.sampler import Sampler, hash_frame
from bastion.stream.source import open_source
from bastion.stream.watcher import StreamWatcher

FPS = 30
GOP = 15  # a keyframe every 0.5 s
SECONDS = 12.0


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """H.264 with B-frames and a fixed GOP; moving detail so every frame differs."""
    path = tmp_path_factory.mktemp("governor") / "clip.mp4"
    rng = np.random.default_rng(5)
    base = rng.integers(0, 256, size=(180, 640, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = {
            "threads": "1",
            "preset": "veryfast",
            "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0:bframes=3",
        }
        for index in range(round(SECONDS * FPS)):
            rgb = np.ascontiguousarray(base[:, index * 2 % 320 : index * 2 % 320 + 320])
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _every_frame(path: Path) -> dict[float, str]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return {
            round(float(frame.pts * stream.time_base), 3): hash_frame(frame, 0.0).pdq
            for frame in container.decode(stream)
        }


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


# --- the governor, driven by stream time and lag ------------------------------------------------


def _drive(
    sampler: Sampler, start: float, end: float, lag: float, step: float = 0.1
) -> list[tuple[float, str]]:
    modes = []
    seconds = start
    while seconds < end - 1e-9:
        sampler.observe(seconds, lag)
        sampler.wanted(seconds)
        modes.append((round(seconds, 3), sampler.decode_mode))
        seconds += step
    return modes


def test_behind_at_the_lowest_rate_falls_back_to_keyframes_and_recovers() -> None:
    sampler = Sampler(1.0, max_lag_seconds=2.0, min_rate=0.25, recover_seconds=10.0)
    assert sampler.status().decode_mode == "full"
    # 2.5 s behind: over the bound, never past twice it (so hashing goes on, rate halving).
    modes = _drive(sampler, 0.0, 30.0, lag=2.5)
    first = next(s for s, mode in modes if mode == "keyframes")
    # 1 -> 0.5 at 0 s, -> 0.25 at 4 s, then two intervals at 0.25/s (8 s) still behind.
    assert 11.9 <= first <= 12.1
    status = sampler.status()
    assert status.decode_mode == "keyframes" and status.keyframe_switches == 1
    assert status.current_rate == 1.0  # every keyframe is hashed, up to the target
    # Still behind on keyframes: nothing changes, no second switch.
    _drive(sampler, 30.0, 40.0, lag=2.5)
    assert sampler.status().keyframe_switches == 1
    # Calm for the hold (10 s): back to full decoding at the lowest rate, then climbing.
    modes = _drive(sampler, 40.0, 75.0, lag=0.1)
    back = next(s for s, mode in modes if mode == "full")
    assert 49.9 <= back <= 50.1
    assert sampler.status().decode_mode == "full"
    assert sampler.rate == 1.0  # 0.25 at 50 s, 0.5 at 60 s, 1.0 at 70 s


def test_hashing_nothing_and_still_behind_switches_at_once() -> None:
    sampler = Sampler(1.0, max_lag_seconds=2.0, min_rate=0.125, recover_seconds=30.0)
    _drive(sampler, 0.0, 10.0, lag=0.0)
    # The lag climbs 0.5 s per stream second: decoding alone is 1.5 times too slow.
    seconds, switched_at = 10.0, None
    while seconds < 30.0 and switched_at is None:
        lag = (seconds - 10.0) * 0.5
        sampler.observe(seconds, lag)
        sampler.wanted(seconds)
        if sampler.decode_mode == "keyframes":
            switched_at = lag
        seconds += 0.1
    # Past 4 s behind (hashing stopped) having been past 2 s for 4 s: no wait for 0.125/s.
    assert switched_at is not None and switched_at <= 4.1
    assert sampler.rate == 1.0 and sampler.status().frames_skipped > 0


def test_a_short_spike_changes_no_decode_mode() -> None:
    sampler = Sampler(1.0, max_lag_seconds=2.0)
    _drive(sampler, 0.0, 5.0, lag=0.0)
    _drive(sampler, 5.0, 6.0, lag=5.0)  # a stall: past twice the bound for one second
    _drive(sampler, 6.0, 20.0, lag=0.0)
    assert sampler.status().keyframe_switches == 0 and sampler.decode_mode == "full"


def test_a_failed_return_to_full_decoding_waits_longer_next_time() -> None:
    sampler = Sampler(1.0, max_lag_seconds=1.0, min_rate=1.0, recover_seconds=5.0)
    modes = _drive(sampler, 0.0, 3.0, lag=1.5)  # at the lowest rate: two intervals behind
    assert next(s for s, mode in modes if mode == "keyframes") == pytest.approx(2.0, abs=0.11)
    modes = _drive(sampler, 3.0, 20.0, lag=0.0)
    back = next(s for s, mode in modes if mode == "full")
    assert back == pytest.approx(8.0, abs=0.11)  # the hold: 5 s calm
    _drive(sampler, 20.0, 23.0, lag=1.5)  # behind again, 12 s after returning (keyframes at 22)
    # Full decoding held longer than recover_seconds: the hold stays 5 s.
    modes = _drive(sampler, 23.0, 40.0, lag=0.0)
    back = next(s for s, mode in modes if mode == "full")
    assert back == pytest.approx(28.0, abs=0.11)
    # Behind again 1 s after returning: the next hold is 10 s.
    _drive(sampler, 29.0, 32.0, lag=1.5)
    assert sampler.decode_mode == "keyframes" and sampler.status().keyframe_switches == 3
    modes = _drive(sampler, 32.0, 60.0, lag=0.0)
    back = next(s for s, mode in modes if mode == "full")
    assert back == pytest.approx(42.0, abs=0.11)


# --- the source on a real encoded file ----------------------------------------------------------


def test_full_decoding_skips_only_frames_nothing_depends_on(clip: Path) -> None:
    every = _every_frame(clip)
    with open_source(clip, live=False) as source:
        decoded = {
            round(item.seconds, 3): hash_frame(item.frame, 0.0).pdq for item in source.frames()
        }
        assert source.decode_mode == "full"
    # B-frames no other frame refers to are skipped; every decoded frame is pixel-exact.
    assert len(every) // 3 < len(decoded) < len(every)
    assert all(every[seconds] == pdq for seconds, pdq in decoded.items())
    # Sampling once a second still finds a frame within a few frames of each second.
    for second in range(int(SECONDS)):
        assert any(second <= s < second + 0.2 for s in decoded)


def test_keyframes_only_on_request_and_full_again_from_a_keyframe(clip: Path) -> None:
    every = _every_frame(clip)
    seen: list[tuple[float, bool, str]] = []
    with open_source(clip, live=False) as source:
        for item in source.frames():
            seen.append((round(item.seconds, 3), bool(item.frame.key_frame), source.decode_mode))
            assert every[round(item.seconds, 3)] == hash_frame(item.frame, 0.0).pdq
            if item.seconds >= 2.0 and source.decode_mode == "full" and item.seconds < 3.0:
                source.request_decode_mode("keyframes")
            if item.seconds >= 7.1:
                source.request_decode_mode("full")
    # Keyframes only from just after the request: the decoder may still hand out a frame or two
    # it held back for reordering.
    during = [(s, key) for s, key, _ in seen if 2.2 <= s < 7.0]
    assert during and all(key for _, key in during)
    assert [s for s, _ in during] == pytest.approx([2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5])
    # Asked for full decoding at 7.1 s: it starts at the 7.5 s keyframe, not mid-GOP.
    after = [(s, key, mode) for s, key, mode in seen if s > 7.0]
    assert after[0][0] == pytest.approx(7.5) and after[0][1]
    assert any(not key for _, key, _ in after)
    assert all(mode == "full" for s, _, mode in after if s > 7.5)


def test_a_watcher_too_slow_to_decode_never_drifts(clip: Path) -> None:
    """A file played as live on a fake clock, with decoding that costs 1.5 times real time:
    the governor goes to keyframes, reports it, and the lag stays bounded."""
    clock = FakeClock()
    sampler = Sampler(1.0, max_lag_seconds=0.5, min_rate=0.5, recover_seconds=3.0)
    lags, modes = [], set()
    with open_source(clip, live=True, clock=clock, sleep=clock.sleep) as source:
        for item in source.frames():
            lag = source.lag(item.seconds)
            lags.append(lag)
            sampler.observe(item.seconds, lag)
            source.request_decode_mode(sampler.decode_mode)
            modes.add(sampler.status().decode_mode)
            sampler.wanted(item.seconds)
            # Full decoding: about 22 decoded frames a second at 1/15 s each; keyframes: cheap.
            clock.now += 1 / 15 if source.decode_mode == "full" else 0.01
    status = sampler.status()
    assert modes == {"full", "keyframes"} and status.keyframe_switches >= 1
    # Never further behind than twice the bound plus one GOP.
    assert max(lags) < 2 * 0.5 + GOP / FPS + 0.2
    assert lags[-1] < 1.5


def test_the_watcher_passes_the_governors_decode_mode_to_its_source(
    bastion: Bastion, clip: Path
) -> None:
    clock = FakeClock()
    source = open_source(clip, live=True, clock=clock, sleep=clock.sleep)
    modes: list[str] = []

    class CostlyDecoding(Sampler):
        """Charges each frame's decoding to the fake clock: 1.5x real time unless keyframes."""

        def observe(self, seconds: float, lag_seconds: float) -> None:
            super().observe(seconds, lag_seconds)
            modes.append(source.decode_mode)
            clock.now += 1 / 15 if source.decode_mode == "full" else 0.01

    sampler = CostlyDecoding(1.0, max_lag_seconds=0.5, min_rate=0.5, recover_seconds=3.0)
    with source:
        watcher = StreamWatcher(bastion, source, on_alert=lambda alert: None, sampler=sampler)
        assert watcher.run() is True
    status = watcher.status()
    assert status.keyframe_switches >= 1 and "keyframes" in modes
    assert status.frames_sampled >= 6


def _taken(sampler: Sampler, start: float, end: float, fps: float = 30.0) -> list[float]:
    taken = []
    for n in range(round(start * fps), round(end * fps)):
        seconds = n / fps
        sampler.observe(seconds, 0.0)
        if sampler.wanted(seconds):
            taken.append(round(seconds, 3))
    return taken


def test_a_first_match_is_confirmed_at_two_frames_a_second() -> None:
    sampler = Sampler(1.0)
    assert _taken(sampler, 0.0, 3.0) == [0.0, 1.0, 2.0]
    sampler.confirm(2.0)  # the frame at 2.0 s matched
    # Every half second until the burst ends 3 s later, then once a second again.
    assert _taken(sampler, 2.0 + 1 / 30, 7.0) == [2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0]


def test_no_confirmation_burst_while_behind_live() -> None:
    sampler = Sampler(1.0, max_lag_seconds=2.0)
    assert _taken(sampler, 0.0, 1.0) == [0.0]
    sampler.confirm(0.0)
    taken = []
    for n in range(1, 60):
        seconds = n / 30
        sampler.observe(seconds, 3.0)  # behind the bound
        if sampler.wanted(seconds):
            taken.append(seconds)
    assert all(seconds >= 1.0 for seconds in taken)  # only the regular slot, no burst


def test_evidence_needs_its_frames_to_span_a_second() -> None:
    evidence = TemporalEvidence(k=3, window_seconds=10.0, min_span_seconds=1.0)
    key = (9, "vpdq")
    assert evidence.add(5.0, 0.0, {key: 10.0}) == []
    assert evidence.add(5.1, 0.0, {key: 10.0}) == []
    assert evidence.add(5.2, 0.0, {key: 10.0}) == []  # three frames, one moment
    [fired] = evidence.add(6.0, 0.0, {key: 12.0})
    assert (fired.first_frame_seconds, fired.frames) == (5.0, 4)
