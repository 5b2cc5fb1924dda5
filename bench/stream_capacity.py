"""Livestream capacity: how many 720p30 streams one core watches at one frame a second, live.

    OMP_NUM_THREADS=1 .venv/bin/python bench/stream_capacity.py [--cpu 1] [--seconds 30]
        [--clip FILE] [--start N] [--overload N]

The clip: 60 s of ``ffmpeg`` lavfi ``testsrc2`` (moving colour bars, a counter, detail) with
temporal noise at 1280x720, 30 frames/s, x264 veryfast, 2.5 Mbit/s, a keyframe every 2 s,
B-frames: harder to decode than most broadcasts (noise defeats prediction).

Capacity, measured live: N ``StreamWatcher`` threads in this one process pinned to one CPU,
each playing the clip as a live stream (``live=True``: frames are released at their timestamps),
starts staggered over one second, against a real ``Bastion`` (temporary SQLite data dir; a bank
of 1,000 photo hashes and three banked videos with their dense frames). N passes when, over
``--seconds`` of stream time, every stream stayed under the governor's lag bound (2 s), never
lowered its rate or fell back to keyframes, and hashed at least one frame per stream second. The
search starts from an estimate (one core's CPU over one stream's cost) and steps to the largest N
that passes. ``--overload N`` then runs N streams past capacity to show the governor keeping
them near live (lower rates, keyframes only) instead of drifting.

The reference is Meta's ``vpdq.computeHash(path, seconds_per_hash=1, thread_count=1)`` (the
vPDQ reference: full decoding, every sampled frame hashed at native size), timed on the same CPU
over the whole clip; its streams per core are estimated as its multiple of real time (it reads
the file as fast as it decodes: no pacing, no threads sharing the core). The same estimate is
printed for the naive loop in Python (full decode, ``pdqhash`` on each sampled frame at native
size) and for the watcher itself.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import numpy as np
import pdqhash
import vpdq
from machine import describe

from bastion.banks.from_media import entries_from_extraction
from bastion.banks.records import NewEntry
from bastion.demo.media import make_video
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.signals.extract import extract_signals
from bastion.stream.sampler import FrameHash, Sampler
from bastion.stream.source import open_source
from bastion.stream.watcher import StreamAlert, StreamWatcher, _Hit

CLIP_SECONDS = 60
MAX_LAG = 2.0  # the governor's default bound
PHOTOS = 1000
VIDEOS = 3


def machine() -> str:
    libs = ".".join(str(part) for part in av.library_versions["libavcodec"])
    return describe(
        f"PyAV {av.__version__} (libavcodec {libs}), numpy {np.__version__}, "
        f"vpdq 0.2.5 wheel (system FFmpeg), pdqhash {pdqhash_version()}"
    )


def pdqhash_version() -> str:
    from importlib.metadata import version

    return version("pdqhash")


def make_clip(path: Path) -> None:
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"),
            *("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30"),
            *("-vf", "noise=alls=12:allf=t+u", "-t", str(CLIP_SECONDS)),
            *("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"),
            *("-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "5000k"),
            *("-g", "60", "-keyint_min", "60", "-sc_threshold", "0", str(path)),
        ],
        check=True,
    )


def make_bastion(folder: Path) -> Bastion:
    bastion = Bastion.from_settings(Settings(data_dir=folder / "data"))
    rng = np.random.default_rng(7)
    with bastion.db.session() as session:
        bastion.banks.create(session, name="capacity", actor="bench")
        photos = [
            NewEntry("pdq", "".join(f"{b:02x}" for b in rng.integers(0, 256, 32)), quality=100)
            for _ in range(PHOTOS)
        ]
        bastion.banks.add_entries(session, "capacity", photos, actor="bench")
        for seed in range(VIDEOS):
            clip = make_video(900 + seed, seconds=10.0, size=(640, 360))
            found = extract_signals(clip, filename=f"banked-{seed}.mp4", for_bank=True)
            entries, _ = entries_from_extraction(found, source=f"banked-{seed}.mp4")
            bastion.banks.add_entries(session, "capacity", entries, actor="bench")
    return bastion


class RecordingSampler(Sampler):
    """The default governor, recording the worst it saw."""

    def __init__(self) -> None:
        super().__init__(max_lag_seconds=MAX_LAG)
        self.worst_lag = 0.0
        self.lowest_rate = self.rate

    def observe(self, seconds: float, lag_seconds: float) -> None:
        super().observe(seconds, lag_seconds)
        self.worst_lag = max(self.worst_lag, lag_seconds)
        self.lowest_rate = min(self.lowest_rate, self.rate)


class TimedWatcher(StreamWatcher):
    """Times the index and database lookups apart from decoding and hashing."""

    lookup_cpu = 0.0

    def _lookup(self, found: FrameHash) -> dict[tuple[int, str], _Hit]:
        started = time.thread_time()
        try:
            return super()._lookup(found)
        finally:
            self.lookup_cpu += time.thread_time() - started


@dataclass
class StreamRun:
    worst_lag: float
    lowest_rate: float
    switches: int
    sampled: int
    seconds: float  # stream seconds watched
    cpu: float  # thread CPU, all of it
    hash_cpu: float
    lookup_cpu: float
    alerts: int

    def passed(self, seconds: float) -> bool:
        return (
            self.worst_lag < MAX_LAG
            and self.lowest_rate >= 1.0
            and self.switches == 0
            and self.sampled >= int(seconds)
        )


def watch(bastion: Bastion, clip: Path, seconds: float, live: bool) -> StreamRun:
    alerts: list[StreamAlert] = []
    started = time.thread_time()
    sampler = RecordingSampler()
    with open_source(clip, live=live) as source:
        watcher = TimedWatcher(bastion, source, on_alert=alerts.append, sampler=sampler)
        watcher.run(max_seconds=seconds)
        last = watcher._pending.seconds if watcher._pending else seconds
    status = sampler.status()
    return StreamRun(
        worst_lag=sampler.worst_lag,
        lowest_rate=sampler.lowest_rate,
        switches=status.keyframe_switches,
        sampled=status.frames_sampled,
        seconds=last,
        cpu=time.thread_time() - started,
        hash_cpu=status.cpu_seconds_per_frame * status.frames_sampled,
        lookup_cpu=watcher.lookup_cpu,
        alerts=len(alerts),
    )


def watch_many(bastion: Bastion, clip: Path, count: int, seconds: float) -> list[StreamRun]:
    results: list[StreamRun | BaseException] = [RuntimeError("did not run")] * count

    def one(index: int) -> None:
        try:
            results[index] = watch(bastion, clip, seconds, live=True)
        except BaseException as exc:  # reported below
            results[index] = exc

    threads = [threading.Thread(target=one, args=(i,), name=f"stream-{i}") for i in range(count)]
    for index, thread in enumerate(threads):
        thread.start()
        time.sleep(1.0 / count if index < count - 1 else 0.0)  # staggered over one second
    for thread in threads:
        thread.join()
    done = [r for r in results if isinstance(r, StreamRun)]
    if len(done) != count:
        raise RuntimeError(f"a watcher failed: {[r for r in results if r not in done]}")
    return done


def summary(runs: list[StreamRun], seconds: float) -> str:
    passed = sum(run.passed(seconds) for run in runs)
    return (
        f"{passed}/{len(runs)} streams kept up; worst lag {max(r.worst_lag for r in runs):.2f} s, "
        f"median {statistics.median(r.worst_lag for r in runs):.2f} s; sampled "
        f"{min(r.sampled for r in runs)}-{max(r.sampled for r in runs)} frames; "
        f"keyframe fallbacks {sum(r.switches for r in runs)}; lowest rate "
        f"{min(r.lowest_rate for r in runs):g}/s"
    )


def per_stream_second(runs: list[StreamRun]) -> dict[str, float]:
    watched = sum(r.seconds for r in runs)
    cpu = sum(r.cpu for r in runs) / watched * 1000
    hashing = sum(r.hash_cpu for r in runs) / watched * 1000
    lookup = sum(r.lookup_cpu for r in runs) / watched * 1000
    return {"total": cpu, "hash": hashing, "lookup": lookup, "rest": cpu - hashing - lookup}


def decode_ms(clip: Path, skip: str) -> float:
    """Thread CPU per stream second to decode the clip with ``skip_frame`` = ``skip``."""
    started = time.thread_time()
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        stream.codec_context.skip_frame = skip
        for _ in container.decode(stream):
            pass
    return (time.thread_time() - started) / CLIP_SECONDS * 1000


def naive_ms(clip: Path) -> float:
    """Full decoding, the first frame of each second hashed by pdqhash at native size."""
    started = time.thread_time()
    last = -1
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for frame in container.decode(stream):
            second = int(float(frame.pts * stream.time_base) + 1e-9)
            if second > last:
                last = second
                pdqhash.compute(frame.to_ndarray(format="rgb24"))
    return (time.thread_time() - started) / CLIP_SECONDS * 1000


def vpdq_ms(clip: Path) -> float:
    """Process CPU (vpdq decodes and hashes in its own threads) per stream second."""
    before = os.times()
    features = vpdq.computeHash(str(clip), seconds_per_hash=1, thread_count=1)
    after = os.times()
    assert len(features) >= CLIP_SECONDS - 1, len(features)
    return (after.user - before.user + after.system - before.system) / CLIP_SECONDS * 1000


def passes(bastion: Bastion, clip: Path, count: int, seconds: float) -> tuple[bool, Any]:
    started = time.perf_counter()
    runs = watch_many(bastion, clip, count, seconds)
    ok = all(run.passed(seconds) for run in runs)
    costs = per_stream_second(runs)
    print(
        f"  N={count:>3}: {'PASS' if ok else 'fail'} - {summary(runs, seconds)}; "
        f"CPU {costs['total']:.1f} ms per stream second "
        f"({time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    return ok, costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", type=int, default=1, help="the one CPU to run on")
    parser.add_argument("--seconds", type=float, default=30.0, help="stream time watched per N")
    parser.add_argument("--clip", type=Path, help="reuse a clip made by an earlier run")
    parser.add_argument("--start", type=int, help="first N to try (default: estimated)")
    parser.add_argument(
        "--overload", type=int, help="then N streams, well past capacity: the governor at work"
    )
    args = parser.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != "1":
        sys.exit("run on one core: OMP_NUM_THREADS=1 .venv/bin/python bench/stream_capacity.py")
    if shutil.which("ffmpeg") is None and args.clip is None:
        sys.exit("ffmpeg makes the clip: install it (scripts/install.sh bench) or pass --clip")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="bastion-capacity-") as name:
        folder = Path(name)
        clip = args.clip or folder / "clip-720p30.mp4"
        if not clip.is_file():
            make_clip(clip)  # before pinning: the encoder may use both cores
        with av.open(str(clip)) as probe:
            bitrate = (probe.bit_rate or 0) / 1e6
        print(
            f"clip: {CLIP_SECONDS} s lavfi testsrc2 + temporal noise, 1280x720, 30 frames/s, "
            f"H.264 x264 veryfast, GOP 2 s, {bitrate:.2f} Mbit/s, {clip.stat().st_size >> 10} KiB"
        )
        bastion = make_bastion(folder)
        try:
            # Pin before any watcher thread exists: threads inherit the affinity.
            os.sched_setaffinity(0, {args.cpu})
            print(f"pinned to CPU {args.cpu} (os.sched_setaffinity), OMP_NUM_THREADS=1")
            print(f"bank: {PHOTOS} photo PDQ hashes and {VIDEOS} videos (dense frames), SQLite")
            watch(bastion, clip, 3.0, live=False)  # loads the indexes once
            print("single stream, read as fast as it decodes (CPU per stream second):")
            full, nonref, keys = (decode_ms(clip, skip) for skip in ("DEFAULT", "NONREF", "NONKEY"))
            print(
                f"  decoding alone: full {full:.1f} ms, skip_frame=NONREF (used) {nonref:.1f} ms, "
                f"keyframes only (governor fallback) {keys:.1f} ms"
            )
            ours = per_stream_second([watch(bastion, clip, CLIP_SECONDS - 1, live=False)])
            naive = naive_ms(clip)
            reference = vpdq_ms(clip)
            print(
                f"  bastion watcher: {ours['total']:.1f} ms (hashing {ours['hash']:.1f}, lookup "
                f"{ours['lookup']:.1f}, decoding and the rest {ours['rest']:.1f}) "
                f"= {1000 / ours['total']:.1f} streams per core (estimate)"
            )
            print(
                f"  naive (full decode, pdqhash at native size): {naive:.1f} ms "
                f"= {1000 / naive:.1f} streams per core (estimate)"
            )
            print(
                f"  reference vpdq.computeHash(seconds_per_hash=1, thread_count=1): "
                f"{reference:.1f} ms = {1000 / reference:.1f} streams per core (estimate)"
            )
            print(f"live, {args.seconds:g} s of stream time each, starts staggered over 1 s:")
            count = args.start or max(1, int(0.9 * 1000 / ours["total"]))
            tried: dict[int, dict[str, float] | None] = {}  # N -> costs when it passed
            while len(tried) < 8:
                ok, costs = passes(bastion, clip, count, args.seconds)
                tried[count] = costs if ok else None
                best = max((n for n, c in tried.items() if c is not None), default=0)
                above = [n for n, c in tried.items() if c is None and n > best]
                if above and min(above) - best <= 1:
                    break
                if not above:
                    count = best + 2
                elif best == 0:
                    count = max(1, min(above) - 3)
                else:
                    count = (best + min(above)) // 2
            best = max((n for n, c in tried.items() if c is not None), default=0)
            best_costs = tried.get(best) or {}
            if args.overload:
                print(f"overloaded on purpose ({args.overload} streams): the lag must stay bounded")
                passes(bastion, clip, args.overload, args.seconds)
        finally:
            bastion.close()
    print(f"result: {best} streams per core")
    if best:
        print(
            f"  at N={best}: CPU {best_costs['total']:.1f} ms per stream second (hashing "
            f"{best_costs['hash']:.1f}, lookup {best_costs['lookup']:.1f}, decoding and the rest "
            f"{best_costs['rest']:.1f})"
        )
    print(
        f"  reference vpdq: {1000 / reference:.1f} streams per core (estimate); ratio "
        f"{best / (1000 / reference):.2f}x; naive pdqhash loop {1000 / naive:.1f}, ratio "
        f"{best / (1000 / naive):.2f}x"
    )


if __name__ == "__main__":
    sys.exit(main())
