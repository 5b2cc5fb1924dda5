"""Time from adding a hash in one process to it matching in another, through the database.

One process adds a PDQ hash to a bank and notes when the transaction committed; a second process
looks the hash up in a tight loop (as an API or worker process would for uploads) and notes when
it first matches. Both follow the same database, SQLite file or PostgreSQL.

    OMP_NUM_THREADS=1 .venv/bin/python bench/index_propagation.py [--database-url URL] [--rounds 20]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bastion.banks.records import NewEntry
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.signals.base import Signal


def _looker(settings: dict[str, Any], targets: Any, seen: Any) -> None:
    bastion = Bastion.from_settings(Settings(**settings), upgrade=False)
    while (target := targets.get()) is not None:
        signal = [Signal("pdq", target, quality=100)]
        while not bastion.scanner.scan_signals(signal, record=False).matched:
            pass
        seen.put(time.time())
    bastion.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="default: a new SQLite file")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--preload", type=int, default=100_000, help="entries already banked")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bastion-bench-"))
    plain = {"data_dir": str(folder), "database_url": args.database_url}
    writer = Bastion.from_settings(Settings(**plain))
    rng = random.Random(1)
    with writer.db.session() as s:
        name = f"bench-crisis-{uuid.uuid4().hex[:8]}"
        writer.banks.create(s, name=name, actor="bench")
        preload = [NewEntry("pdq", f"{rng.getrandbits(256):064x}") for _ in range(args.preload)]
        writer.banks.add_entries(s, name, preload, actor="bench")
    context = mp.get_context("spawn")
    targets, seen = context.Queue(), context.Queue()
    looker = context.Process(target=_looker, args=(plain, targets, seen))
    looker.start()
    # Warm-up: the looker loads the banked entries once (start-up), then only follows changes.
    targets.put(preload[0].value)
    seen.get(timeout=120)
    delays = []
    for _ in range(args.rounds):
        value = f"{rng.getrandbits(256):064x}"
        targets.put(value)
        time.sleep(0.2)  # the looker is now polling for it
        with writer.db.session() as s:
            writer.banks.add_entries(s, name, [NewEntry("pdq", value)], actor="bench")
        committed = time.time()
        delays.append(seen.get(timeout=30) - committed)
    targets.put(None)
    looker.join()
    with writer.db.session() as s:
        writer.banks.delete(s, name, actor="bench")
    writer.close()
    backend = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
    print(f"backend: {backend}; {args.preload} entries banked before; {args.rounds} additions")
    delays.sort()
    p95 = delays[int(0.95 * (len(delays) - 1))]
    print(
        f"add -> match in another process: median {statistics.median(delays) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms, max {delays[-1] * 1000:.1f} ms (target: 5000 ms)"
    )


if __name__ == "__main__":
    sys.exit(main())
