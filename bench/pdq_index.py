"""PDQ index: Bastion's PdqIndex against python-threatexchange's, in the same run.

    OMP_NUM_THREADS=1 .venv/bin/python bench/pdq_index.py --sizes 1000000,10000000

For each size: N random 256-bit hashes, into which are planted, for each of ``--queries``
random queries, one target at a distance 0..31 (every distance equally often) and two decoys at
32..40. Each implementation runs in its own child process (clean resident-memory figures), one
core, faiss on one thread, and measures: build time (from (id, hex) pairs to an index ready to
answer), resident memory added by the index (RSS after build minus before, the input pairs
already in memory), single-query and batch lookups per second at threshold 31 after the same
warm-up (best of ``--passes`` timed passes), recall of the targets and hits that are not
targets (false hits). Bastion also reports its snapshot (size, save and load time) and how long
an added hash takes to become findable.

The reference is ``PdqSignal.get_index_cls()`` (``PDQIndex``: faiss ``IndexBinaryMultiHash``,
16 tables), the index Meta's Hasher-Matcher-Actioner uses; its batch figure uses the batch call
of the faiss wrapper underneath (``index.index.search_with_distance_in_result``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from machine import describe

THRESHOLD = 31


def rss() -> int:
    with open("/proc/self/statm") as statm:  # Linux only, like the rest of the benchmarks
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def machine() -> str:
    import faiss

    versions = f"numpy {np.__version__}, faiss {faiss.__version__}"
    return describe(f"{versions}, threatexchange {metadata.version('threatexchange')}")


def flip(rng: np.random.Generator, row: np.ndarray, bits: int) -> np.ndarray:
    out = row.copy()
    for bit in rng.choice(256, size=bits, replace=False):
        out[bit // 64] ^= np.uint64(1) << np.uint64(63 - bit % 64)
    return out


def hexes(words: np.ndarray) -> list[str]:
    text = words.astype(">u8").tobytes().hex()
    return [text[i : i + 64] for i in range(0, len(text), 64)]


def dataset(size: int, queries: int, seed: int) -> dict[str, Any]:
    """The same data in every child: base hashes with planted targets and decoys."""
    rng = np.random.default_rng(seed)
    words = rng.integers(0, 2**64 - 1, size=(size, 4), dtype=np.uint64, endpoint=True)
    query_words = rng.integers(0, 2**64 - 1, size=(queries, 4), dtype=np.uint64, endpoint=True)
    slots = rng.choice(size, size=3 * queries, replace=False)
    target_distance = rng.permutation(np.arange(queries) % (THRESHOLD + 1))
    for i in range(queries):
        words[slots[i]] = flip(rng, query_words[i], int(target_distance[i]))
        for decoy in (slots[queries + 2 * i], slots[queries + 2 * i + 1]):
            words[decoy] = flip(rng, query_words[i], int(rng.integers(THRESHOLD + 1, 41)))
    warmup = rng.integers(0, 2**64 - 1, size=(300, 4), dtype=np.uint64, endpoint=True)
    return {
        "hexes": hexes(words),
        "queries": hexes(query_words),
        "targets": slots[:queries].tolist(),  # entry id == row number
        "warmup": hexes(warmup),
    }


def score(found: list[list[int]], targets: list[int]) -> tuple[float, int]:
    recall = sum(t in ids for ids, t in zip(found, targets, strict=True)) / len(targets)
    false_hits = sum(sum(1 for i in ids if i != t) for ids, t in zip(found, targets, strict=True))
    return recall, false_hits


def timed(run: Any, *args: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run(*args)
    return time.perf_counter() - start, result


def best_of(passes: int, run: Any, *args: Any) -> tuple[float, Any]:
    """Shortest of ``passes`` timed runs: other work on the machine only ever slows a pass."""
    runs = [timed(run, *args) for _ in range(passes)]
    return min(seconds for seconds, _ in runs), runs[0][1]


def child_bastion(
    data: dict[str, Any], pairs: list[tuple[int, str]], ref_queries: int, passes: int
) -> dict:
    from bastion.index.pdq import PdqIndex

    before = rss()
    start = time.perf_counter()
    index = PdqIndex()
    index.add(pairs)
    index.search(data["warmup"][0], THRESHOLD)  # additions are indexed at the first search
    build = time.perf_counter() - start
    gc.collect()
    grown = rss() - before
    peak = peak_rss() - before
    arrays = sum(
        a.nbytes
        for s in index.segments
        for a in (
            s.id_offsets,
            s.words,
            s.alive,
            *((s.tables.directory, s.tables.postings) if s.tables else ()),
        )
        if a is not None
    )
    queries, targets = data["queries"], data["targets"]
    for query in data["warmup"]:
        index.search(query, THRESHOLD)
    single, found = best_of(
        passes, lambda: [[h.entry_id for h in index.search(q, THRESHOLD)] for q in queries]
    )
    batch, many = best_of(passes, index.search_many, queries, THRESHOLD)
    recall, false_hits = score(found, targets)
    assert [[h.entry_id for h in hits] for hits in many] == found
    result = {
        "build_s": build,
        "rss_bytes": grown,
        "peak_bytes": peak,
        "array_bytes": arrays,
        "single_qps": len(queries) / single,
        "batch_qps": len(queries) / batch,
        "recall": recall,
        "false_hits": false_hits,
        "queries": len(queries),
    }
    result.update(snapshot_and_changes(index, data))
    return result


def snapshot_and_changes(index: Any, data: dict[str, Any]) -> dict:
    """Snapshot size and timings; then add hashes one by one, each searched right after."""
    from bastion.index.pdq import PdqIndex

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pdq.index"
        save, _ = timed(index.save, path)
        load, loaded = timed(PdqIndex.load, path)
        first, _ = timed(loaded.search, data["queries"][0], THRESHOLD)
        size = path.stat().st_size
        del loaded
    rng = np.random.default_rng(99)
    new = hexes(rng.integers(0, 2**64 - 1, size=(2000, 4), dtype=np.uint64, endpoint=True))
    latencies = []
    base = 10**12
    for offset, value in enumerate(new):
        start = time.perf_counter()
        index.add([(base + offset, value)])
        hits = index.search(value, THRESHOLD)
        latencies.append(time.perf_counter() - start)
        assert hits and hits[0].entry_id == base + offset
    return {
        "snapshot_bytes": size,
        "save_s": save,
        "load_s": load,
        "first_query_s": first,
        "add_then_find_median_s": statistics.median(latencies),
        "add_then_find_max_s": max(latencies),
    }


def child_reference(
    data: dict[str, Any], pairs: list[tuple[str, int]], ref_queries: int, passes: int
) -> dict:
    import faiss
    from threatexchange.signal_type.pdq.signal import PdqSignal

    faiss.omp_set_num_threads(1)
    before = rss()
    start = time.perf_counter()
    index = PdqSignal.get_index_cls().build(pairs)
    build = time.perf_counter() - start
    gc.collect()
    grown = rss() - before
    peak = peak_rss() - before
    queries, targets = data["queries"][:ref_queries], data["targets"][:ref_queries]
    for query in data["warmup"]:
        index.query(query)
    single, found = best_of(passes, lambda: [[m.metadata for m in index.query(q)] for q in queries])
    batch, many = best_of(passes, index.index.search_with_distance_in_result, queries, THRESHOLD)
    recall, false_hits = score(found, targets)
    by_query = [sorted(index.local_id_to_entry[i][1] for i, _, _ in many[q]) for q in queries]
    assert by_query == [sorted(ids) for ids in found]
    latencies = []
    for offset in range(3):  # each add rebuilds a Python map of every entry: a few only
        value = hexes(
            np.random.default_rng(offset).integers(0, 2**63, size=(1, 4), dtype=np.uint64)
        )[0]
        start = time.perf_counter()
        index.add(value, 10**12 + offset)
        assert any(m.metadata == 10**12 + offset for m in index.query(value))
        latencies.append(time.perf_counter() - start)
    return {
        "build_s": build,
        "rss_bytes": grown,
        "peak_bytes": peak,
        "single_qps": len(queries) / single,
        "batch_qps": len(queries) / batch,
        "recall": recall,
        "false_hits": false_hits,
        "queries": len(queries),
        "add_then_find_median_s": statistics.median(latencies),
        "add_then_find_max_s": max(latencies),
    }


def child(args: argparse.Namespace) -> None:
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    data = dataset(args.size, args.queries, args.seed)
    if args.child == "bastion":
        pairs: list[Any] = list(enumerate(data["hexes"]))
        run = child_bastion
    else:
        pairs = [(value, entry_id) for entry_id, value in enumerate(data["hexes"])]
        run = child_reference
    del data["hexes"]
    gc.collect()
    result = run(data, pairs, args.ref_queries or args.queries, args.passes)
    print(json.dumps(result))


def spawn(kind: str, size: int, args: argparse.Namespace) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--size",
        str(size),
        "--queries",
        str(args.queries),
        "--seed",
        str(args.seed),
        "--ref-queries",
        str(args.ref_queries or 0),
        "--passes",
        str(args.passes),
    ]
    if args.cpu is not None:
        command += ["--cpu", str(args.cpu)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"{kind} at {size} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(size: int, ours: dict, ref: dict) -> list[str]:
    mb, ms = 1e6, 1e3

    def times(a: float, b: float) -> str:
        return f"{a / b:.1f}x"

    rows = [
        (
            "build time (s)",
            f"{ours['build_s']:.1f}",
            f"{ref['build_s']:.1f}",
            times(ref["build_s"], ours["build_s"]) + " faster",
        ),
        (
            "resident memory added (MB)",
            f"{ours['rss_bytes'] / mb:,.0f}",
            f"{ref['rss_bytes'] / mb:,.0f}",
            times(ref["rss_bytes"], ours["rss_bytes"]) + " less",
        ),
        (
            "bytes per entry (RSS)",
            f"{ours['rss_bytes'] / size:.1f}",
            f"{ref['rss_bytes'] / size:.1f}",
            f"{ours['rss_bytes'] / ref['rss_bytes']:.1%} of it",
        ),
        (
            "peak memory while building (MB)",
            f"{ours['peak_bytes'] / mb:,.0f}",
            f"{ref['peak_bytes'] / mb:,.0f}",
            "",
        ),
        (
            "single-query lookups/s",
            f"{ours['single_qps']:,.0f}",
            f"{ref['single_qps']:,.0f}",
            times(ours["single_qps"], ref["single_qps"]),
        ),
        (
            "batch lookups/s",
            f"{ours['batch_qps']:,.0f}",
            f"{ref['batch_qps']:,.0f}",
            times(ours["batch_qps"], ref["batch_qps"]),
        ),
        ("recall at 31", f"{ours['recall']:.1%}", f"{ref['recall']:.1%}", ""),
        ("false hits at 31", str(ours["false_hits"]), str(ref["false_hits"]), ""),
        (
            "add a hash, then find it: median / max (ms)",
            f"{ours['add_then_find_median_s'] * ms:.2f} / {ours['add_then_find_max_s'] * ms:.0f}",
            f"{ref['add_then_find_median_s'] * ms:,.0f} / {ref['add_then_find_max_s'] * ms:,.0f}",
            times(ref["add_then_find_median_s"], ours["add_then_find_median_s"]) + " faster",
        ),
    ]
    return [
        f"**{size:,} entries** ({ours['queries']} queries for Bastion, "
        f"{ref['queries']} for the reference)",
        "",
        "| measure | Bastion PdqIndex | python-threatexchange PDQIndex | ratio |",
        "|---|---:|---:|---:|",
        *(f"| {label} | {a} | {b} | {ratio} |" for label, a, b, ratio in rows),
        "",
        f"Bastion arrays: {ours['array_bytes'] / size:.1f} bytes per entry. Snapshot: "
        f"{ours['snapshot_bytes'] / mb:,.0f} MB, saved in {ours['save_s']:.1f} s, loaded (mapped, "
        f"checksums verified) in {ours['load_s']:.2f} s, first query after load "
        f"{ours['first_query_s'] * ms:.1f} ms.",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--ref-queries", type=int, default=0, help="fewer reference queries")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--passes", type=int, default=3, help="timed query passes; best kept")
    parser.add_argument("--cpu", type=int, default=None, help="pin the children to this CPU")
    parser.add_argument("--child", choices=["bastion", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine()}")
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    lines: list[str] = []
    for size in (int(s) for s in args.sizes.split(",")):
        ours = spawn("bastion", size, args)
        ref = spawn("reference", size, args)
        lines += report(size, ours, ref)
        print("\n".join(report(size, ours, ref)), flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
