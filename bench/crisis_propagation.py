"""Crisis mode: time from banking new footage to a running stream watcher alerting on it.

    OMP_NUM_THREADS=1 .venv/bin/python bench/crisis_propagation.py [--rounds 8]

Each round plays a stream live (a file paced to the clock, through the same runner the API and
`bastion watch` use) that shows footage nobody has banked yet, over and over. Six seconds in,
an analyst banks that footage (the clip itself, hashed with dense frames, as an upload to the
crisis bank would be); the time from the bank transaction committing to the watcher's alert is
the propagation time: the watcher's index refresh (at most once a second), then the temporal
evidence (three matching frames spanning a second). Uploads are covered by
bench/index_propagation.py (a lookup in another process sees the entry at its next lookup).

There is no reference implementation of live crisis banking to run beside it, so no ratio is
given.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from machine import describe  # noqa: E402
from tests.signals.test_video_variants import FPS, _decode, _encode, _scaled  # noqa: E402

from bastion.banks.from_media import entries_from_extraction  # noqa: E402
from bastion.demo.media import make_video  # noqa: E402
from bastion.runtime import Bastion  # noqa: E402
from bastion.settings import Settings  # noqa: E402
from bastion.signals.extract import extract_signals  # noqa: E402
from bastion.stream.runner import ReconnectPolicy, StreamRunner, StreamSpec  # noqa: E402
from bastion.stream.watcher import StreamAlert  # noqa: E402

SIZE = (480, 270)
STREAM_SIZE = (424, 240)
CLIP_SECONDS = 8.0
BANK_AFTER = 6.0


def _round(bastion: Bastion, folder: Path, seed: int) -> float | None:
    clip = make_video(seed, seconds=CLIP_SECONDS, fps=FPS, size=SIZE)
    copy = [_scaled(rgb[:, ::-1], *STREAM_SIZE) for rgb in _decode(clip)]
    lead = _decode(make_video(seed + 1000, seconds=2.0, fps=FPS, size=STREAM_SIZE))
    path = folder / f"stream-{seed}.mp4"
    path.write_bytes(_encode(lead + copy * 4))
    fired = threading.Event()
    alerted: list[float] = []

    def on_alert(alert: StreamAlert) -> None:
        alerted.append(time.monotonic())
        fired.set()

    runner = StreamRunner(
        bastion,
        StreamSpec(seed, str(path), path.name, live=True),
        on_alert=on_alert,
        reconnect=ReconnectPolicy(attempts=1),
        history_seconds=60.0,
    )
    runner.start()
    time.sleep(BANK_AFTER)
    extraction = extract_signals(clip, filename="new-footage.mp4", for_bank=True)
    entries, _ = entries_from_extraction(extraction, source="bench")
    with bastion.db.session() as session:
        bastion.banks.add_entries(session, "crisis", entries, actor="bench")
    committed = time.monotonic()
    fired.wait(timeout=20.0)
    runner.stop(wait_seconds=10.0)
    return alerted[0] - committed if alerted else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    print(describe("PyAV (bundled FFmpeg), SQLite"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bastion = Bastion.from_settings(Settings(data_dir=folder / "data"))
        try:
            with bastion.db.session() as session:
                bastion.banks.create(session, name="crisis", severity="critical", actor="bench")
            times = [_round(bastion, folder, 500 + n) for n in range(args.rounds)]
        finally:
            bastion.close()
    found = sorted(t for t in times if t is not None)
    for n, value in enumerate(times):
        shown = f"{value:.2f} s" if value is not None else "NO ALERT"
        print(f"  round {n + 1}: banked -> watcher alert {shown}")
    if found:
        p95 = found[min(len(found) - 1, round(0.95 * len(found) + 0.5) - 1)]
        print(
            f"banked -> live watcher alert: median {statistics.median(found):.2f} s, "
            f"p95 {p95:.2f} s, max {found[-1]:.2f} s; alerted in {len(found)} of {len(times)}"
        )


if __name__ == "__main__":
    main()
