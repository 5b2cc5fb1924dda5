"""Several processes adding and looking up at once: never a torn index, never a stale one.

Writers add batches of hashes, each batch in one transaction, and publish a batch once it is
committed. Readers look up the newest published batch: every hash of it must match (an entry is
live everywhere at the next lookup, well inside the 5 s the design promises), and every lookup
of a batch sees all of its hashes or none (no torn state), whichever process wrote it.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import random
import time
from typing import Any

from bastion.banks.records import NewEntry
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.signals.base import Signal

BATCH = 10
RUN_SECONDS = 4.0


def _hashes(seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.getrandbits(256):064x}" for _ in range(BATCH)]


def _writer(settings: dict[str, Any], worker: int, published: Any) -> None:
    bastion = Bastion.from_settings(Settings(**settings), upgrade=False)
    deadline = time.monotonic() + RUN_SECONDS
    batch = 0
    while time.monotonic() < deadline:
        seed = worker * 100_000 + batch
        with bastion.db.session() as s:
            entries = [NewEntry("pdq", value) for value in _hashes(seed)]
            bastion.banks.add_entries(s, "crisis", entries, actor=f"test:writer{worker}")
        published.put((seed, time.monotonic()))
        batch += 1
    bastion.close()


def _reader(settings: dict[str, Any], published: Any, results: Any) -> None:
    bastion = Bastion.from_settings(Settings(**settings), upgrade=False)
    seen: list[int] = []
    problems: list[str] = []
    lookups = 0
    deadline = time.monotonic() + RUN_SECONDS + 1.0
    while time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            seen.append(published.get(timeout=0.2)[0])
        for seed in seen[-3:] + random.sample(seen, min(3, len(seen))):
            signals = [Signal("pdq", value, quality=100) for value in _hashes(seed)]
            found = {
                m.entry_id for m in bastion.scanner.scan_signals(signals, record=False).matches
            }
            lookups += 1
            if len(found) != BATCH:  # published means committed: all of it must be live
                problems.append(f"batch {seed}: {len(found)} of {BATCH} hashes matched")
    bastion.close()
    results.put((lookups, problems))


def test_concurrent_writers_and_readers_see_whole_fresh_batches(
    settings: Settings, bastion: Bastion
) -> None:
    with bastion.db.session() as s:
        bastion.banks.create(s, name="crisis", actor="test")
    context = mp.get_context("spawn")
    published, results = context.Queue(), context.Queue()
    plain = {"data_dir": str(settings.data_dir), "database_url": settings.database_url}
    processes = [context.Process(target=_writer, args=(plain, n, published)) for n in (1, 2)]
    processes += [context.Process(target=_reader, args=(plain, published, results)) for _ in (1, 2)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in range(2)]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert all(lookups > 5 for lookups, _ in outcomes), outcomes
    assert [problem for _, problems in outcomes for problem in problems] == []
