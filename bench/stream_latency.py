"""Livestream alert latency: banked footage on air to the platform's webhook, over RTMP and HLS.

    OMP_NUM_THREADS=1 .venv/bin/python bench/stream_latency.py [--runs 10] [--seconds 26]
        [--protocols rtmp hls] [--seed 1]

Each run is a broadcast of ``--seconds`` of generated footage with the banked 8 s clip at a random
offset (8 s to ``seconds - 10`` s), the clip rebroadcast mirrored, scaled, with a logo in a
corner and re-encoded (``tests/stream/loopback.py`` makes it, as the end-to-end tests do). ffmpeg
publishes it in real time (``-re``, libx264 veryfast zerolatency) to a private nginx-rtmp, or as
a live HLS playlist (1 s segments) served over HTTP on loopback; ``bastion watch --format json``
(a subprocess, as an operator runs it, with the stream webhook pointed at a receiver here)
watches it. Runs of the protocols are interleaved. Per run:

* on air -> webhook: the receiver's clock when the signed ``stream.match`` POST arrived, minus the
  wall time the clip's first frame was sent (the publisher's launch plus the clip's offset: ffmpeg
  ``-re`` sends stream time t at launch + t, give or take its start-up of some 0.1 s). For HLS this
  includes segmenting and playlist polling.
* the watcher's own figures: ``latency_seconds`` (first matching frame ingested -> alert) and
  ``webhook_latency_seconds`` (-> webhook answered) from the stored alert.
* reference: a platform that scans a broadcast only once it is over, as an upload, learns of the
  clip at the earliest at stream end - clip start (the scan's own time not counted). The ratio is
  reference / on air -> webhook. It grows with the length of the broadcast; here broadcasts last
  ``--seconds``, real ones hours.

Percentiles: the median, and the 95th by nearest rank (with 10 runs, the slowest).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from machine import describe  # noqa: E402
from tests.stream import loopback  # noqa: E402

from bastion.stream.alerting import stream_label  # noqa: E402

CLIP_SECONDS = 8.0


@dataclass(frozen=True)
class Run:
    protocol: str
    offset: float  # the clip's start in the broadcast (s)
    seconds: float  # the broadcast's length (s)
    on_air_to_webhook: float | None  # None: no webhook came
    latency: float | None  # the watcher's latency_seconds
    webhook_latency: float | None  # the stored alert's webhook_latency_seconds
    first_frame_seconds: float | None

    @property
    def reference(self) -> float:
        return self.seconds - self.offset


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _stored_webhook_latency(data_dir: Path, stream: str) -> float | None:
    result = subprocess.run(
        [*loopback.bastion_command(), "alerts", "list", "--format", "json", "--limit", "5"],
        env=loopback.watch_env(data_dir, None),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for alert in json.loads(result.stdout):
        details = alert.get("details") or {}
        if details.get("stream") == stream:
            value = details.get("webhook_latency_seconds")
            return float(value) if value is not None else None
    return None


def _stop(watcher: subprocess.Popen[str]) -> loopback.WatchRun:
    """Ctrl-C the watcher (it stops at its next stream second and prints its status) a moment
    after the webhook arrived. (A Ctrl-C right as the webhook was answered used to lose the
    alert's ``webhook_latency_seconds``; the watcher now waits for its threads to finish.)"""
    time.sleep(1.5)
    if watcher.poll() is None:
        watcher.send_signal(signal.SIGINT)
    return loopback.finish(watcher, 60)


def _measure(
    protocol: str,
    video: Path,
    offset: float,
    seconds: float,
    data_dir: Path,
    folder: Path,
    server: loopback.RtmpServer,
    key: str,
) -> Run:
    with loopback.webhook_receiver() as hook:
        wait = seconds + 30.0
        if protocol == "rtmp":
            with loopback.watch_cli([server.url(key)], data_dir, webhook=hook) as watcher:
                if not server.wait_for_player(key):
                    raise RuntimeError(f"the watcher never played the stream: {server.log()}")
                with loopback.publish_rtmp(video, server.url(key)) as publisher:
                    hook.wait(wait)
                    run = _stop(watcher)
                label = stream_label(server.url(key))
        else:
            with loopback.hls_stream(video, folder / key) as (publisher, playlist):
                with loopback.watch_cli([playlist], data_dir, webhook=hook) as watcher:
                    hook.wait(wait)
                    run = _stop(watcher)
                label = stream_label(playlist)
        started = publisher.started
    alerts = run.of("alert")
    if not hook.calls or not alerts:
        print(f"  {protocol} offset {offset:.1f} s: NO ALERT\n{run.stderr}", file=sys.stderr)
        return Run(protocol, offset, seconds, None, None, None, None)
    call = hook.calls[0]
    return Run(
        protocol,
        offset,
        seconds,
        on_air_to_webhook=call.arrived - (started + offset),
        latency=float(alerts[0]["latency_seconds"]),
        webhook_latency=_stored_webhook_latency(data_dir, label),
        first_frame_seconds=float(alerts[0]["first_frame_seconds"]),
    )


def _row(name: str, values: list[float]) -> str:
    if not values:
        return f"| {name} | - | - | - |"
    median, p95 = statistics.median(values), _percentile(values, 0.95)
    return f"| {name} | {median:.2f} | {p95:.2f} | {max(values):.2f} |"


def _report(runs: list[Run], protocols: list[str]) -> None:
    for protocol in protocols:
        mine = [run for run in runs if run.protocol == protocol]
        alerted = [run for run in mine if run.on_air_to_webhook is not None]
        print(f"\n{protocol.upper()}: {len(alerted)}/{len(mine)} runs alerted\n")
        print("| seconds | median | p95 | max |")
        print("|---|---:|---:|---:|")
        end_to_end = [run.on_air_to_webhook for run in alerted if run.on_air_to_webhook]
        print(_row("clip on air -> webhook received", end_to_end))
        print(_row("watcher `latency_seconds`", [r.latency for r in alerted if r.latency]))
        webhook = [r.webhook_latency for r in alerted if r.webhook_latency is not None]
        print(_row("watcher `webhook_latency_seconds`", webhook))
        print(_row("reference: stream end - clip start", [run.reference for run in mine]))
        ratios = [run.reference / run.on_air_to_webhook for run in alerted if run.on_air_to_webhook]
        if ratios:
            print(
                f"\nreference / on air -> webhook: median {statistics.median(ratios):.1f}x, "
                f"min {min(ratios):.1f}x"
            )
        if protocol == "rtmp" and end_to_end:
            within = sum(1 for value in end_to_end if value <= 5.0)
            print(f"RTMP target (webhook within 5 s of the clip on air): {within}/{len(mine)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per protocol")
    parser.add_argument("--seconds", type=float, default=26.0, help="each broadcast's length")
    parser.add_argument("--protocols", nargs="+", default=["rtmp", "hls"])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.seconds < CLIP_SECONDS + 18:
        parser.error("--seconds must leave room for the clip at 8 s or later and 10 s after it")
    missing = loopback.missing_tools()
    if missing:
        sys.exit(f"needs {', '.join(missing)} (scripts/install.sh installs them)")
    rng = random.Random(args.seed)
    print(f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"Machine: {describe('ffmpeg (Debian), nginx-rtmp (Debian)')}")
    started = time.monotonic()
    clip = loopback.clip_video()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bastion-latency-") as temp:
        folder = Path(temp)
        data_dir = folder / "data"
        loopback.bank_clip(data_dir, clip)
        with loopback.rtmp_server() as server:
            for index in range(args.runs):
                for protocol in args.protocols:
                    # The clip starts on a frame, somewhere after the watcher has joined.
                    offset = round(rng.uniform(8.0, args.seconds - CLIP_SECONDS - 2.0) * 15) / 15
                    after = args.seconds - offset - CLIP_SECONDS
                    video = folder / f"{protocol}-{index}.mp4"
                    seed = 1000 + 2 * (index * len(args.protocols) + args.protocols.index(protocol))
                    video.write_bytes(
                        loopback.stream_video(clip, before=offset, after=after, seed=seed)
                    )
                    run = _measure(
                        protocol,
                        video,
                        offset,
                        args.seconds,
                        data_dir,
                        folder,
                        server,
                        key=f"{protocol}{index}",
                    )
                    runs.append(run)
                    shown = (
                        f"{run.on_air_to_webhook:.2f} s"
                        if run.on_air_to_webhook is not None
                        else "no alert"
                    )
                    print(
                        f"  run {index + 1} {protocol}: clip at {offset:.1f} s (first match at "
                        f"{run.first_frame_seconds} s), on air -> webhook {shown}, watcher "
                        f"{run.latency}, webhook {run.webhook_latency}",
                        flush=True,
                    )
                    video.unlink()
    _report(runs, args.protocols)
    print(f"\nwall time: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
