"""Posts per second per core for the TVEC text classifier, stage by stage.

    OMP_NUM_THREADS=1 .venv/bin/python bench/text_classifier.py [--posts N]

Measures CPU time of this process (``time.process_time``), not wall time, so the figure means
"per core" even on a busy machine; everything runs on one thread. Modes: (a) hashing vectoriser +
heads (no model), (b) e5 embeddings + heads. Posts are the starter examples (short, 8 languages).
Targets: >= 2,000 posts/s/core without embeddings, >= 100 with e5.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from importlib import resources

os.environ.setdefault("OMP_NUM_THREADS", "1")

from rich.console import Console
from rich.table import Table

from bastion.classify.embeddings import E5Embedder, HashingEmbedder
from bastion.classify.models import load_starter
from bastion.classify.training import examples_from_records, train_heads


def cpu_seconds(work: Callable[[], object]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=300, help="posts per e5 measurement")
    args = parser.parse_args()
    raw = resources.files("bastion.classify").joinpath("data/starter_examples.jsonl")
    records = [json.loads(line) for line in raw.read_text("utf-8").splitlines() if line]
    texts = [r["text"] for r in records]
    e5_posts = (texts * (args.posts // len(texts) + 1))[: args.posts]
    hash_posts = texts * 10

    hashing = HashingEmbedder()
    hashing_spec = train_heads(examples_from_records(records), hashing, steps=100)
    _, e5_spec = load_starter()
    e5 = E5Embedder()
    e5.embed(texts[:4])  # load and warm up

    rows: list[tuple[str, str, int, float]] = []
    vectors = hashing.embed(hash_posts)
    rows.append(
        ("hashing", "embed", len(hash_posts), cpu_seconds(lambda: hashing.embed(hash_posts)))
    )
    rows.append(
        (
            "hashing",
            "heads",
            len(hash_posts),
            cpu_seconds(lambda: hashing_spec.probabilities(vectors)),
        )
    )
    e5_vectors = e5.embed(e5_posts)
    rows.append(("e5", "embed", len(e5_posts), cpu_seconds(lambda: e5.embed(e5_posts))))
    rows.append(
        ("e5", "heads", len(e5_posts), cpu_seconds(lambda: e5_spec.probabilities(e5_vectors)))
    )

    table = Table(title="TVEC text classifier, one thread (CPU seconds of this process)")
    for column in ("mode", "stage", "posts", "cpu ms/post", "posts/s/core"):
        table.add_column(column, justify="right")
    for mode in ("hashing", "e5"):
        total = 0.0
        for name, stage, count, seconds in rows:
            if name == mode:
                total += seconds / count
                table.add_row(mode, stage, str(count), f"{1000 * seconds / count:.3f}",
                              f"{count / seconds:,.0f}" if seconds else "inf")  # fmt: skip
        target = 2000 if mode == "hashing" else 100
        table.add_row(mode, "total", "", f"{1000 * total:.3f}",
                      f"{1 / total:,.0f} (target {target:,})")  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    main()
