"""Training data in, per-category heads out: loading, splitting, fitting, threshold tuning.

DATA is CSV or JSONL with ``text``, ``labels`` (TVEC codes separated by ``;`` or a JSON list;
empty or ``tvec0`` means not TVEC), optional ``language`` (``und`` when absent), ``hard_negative``
(true/false) and ``split`` (train/test). Every bad row is reported with its line number.

Thresholds. Each head's threshold maximises F1 on out-of-fold predictions of the *training*
split (k-fold, k <= 5), so the held-out test split never influences it. A language gets its own
threshold only when the training split has at least ``MIN_LANGUAGE_POSITIVES`` positives *and*
as many negatives of that category in that language; otherwise the global threshold applies.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.classify.cascade import train_screen
from bastion.classify.embeddings import TextEmbedder
from bastion.classify.heads import FloatArray, Head, ModelSpec, fit_logistic
from bastion.errors import ImportMalformed, InvalidInput
from bastion.taxonomy import CATEGORIES, parse_label_list

MAX_DATA_BYTES = 256 * 1024 * 1024
MAX_TEXT_CHARS = 100_000
MAX_REPORTED_ERRORS = 20
MIN_LANGUAGE_POSITIVES = 20
HARD_NEGATIVE_WEIGHT = 2.0
DEFAULT_SEED = 13
MIN_HEAD_POSITIVES = 2

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}
_CATEGORY_ORDER = {c.code: i for i, c in enumerate(CATEGORIES)}


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    labels: tuple[str, ...]  # TVEC codes, tvec0 dropped: empty means "not TVEC"
    language: str = "und"
    hard_negative: bool = False
    split: str | None = None
    line: int = 0

    @property
    def stratum(self) -> str:
        return f"{'+'.join(self.labels) or 'tvec0'}|{self.language}|{self.hard_negative}"


def _parse_labels(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str) and raw.strip().startswith("["):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"labels are not a JSON list: {exc.msg}") from None
    if isinstance(raw, list):
        if not all(isinstance(item, str) for item in raw):
            raise InvalidInput("labels must be strings")
        codes = parse_label_list(" ".join(raw))
    elif isinstance(raw, str):
        codes = parse_label_list(raw)
    else:
        raise InvalidInput("labels must be a string or a list of strings")
    if "tvec0" in codes and len(codes) > 1:
        raise InvalidInput("tvec0 (not TVEC) cannot be combined with other labels")
    return tuple(c for c in codes if c != "tvec0")


def _parse_bool(raw: Any, column: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw is None:
        return False
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(f"{column} must be true or false, not {raw!r}")


def parse_example(record: dict[str, Any], line: int) -> Example:
    """One row as an :class:`Example`, or InvalidInput saying what is wrong with it."""
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(f"text is longer than {MAX_TEXT_CHARS} characters")
    labels = _parse_labels(record.get("labels"))
    language = str(record.get("language") or "").strip().lower() or "und"
    hard_negative = _parse_bool(record.get("hard_negative"), "hard_negative")
    if hard_negative and any(code != "tvec01" for code in labels):
        raise InvalidInput("a hard negative can only be labelled tvec0 or tvec01")
    split = str(record.get("split") or "").strip().lower() or None
    if split not in (None, "train", "test"):
        raise InvalidInput(f"split must be train or test, not {split!r}")
    return Example(text.strip(), labels, language, hard_negative, split, line)


def _records_jsonl(lines: list[str]) -> list[tuple[int, dict[str, Any] | str]]:
    out: list[tuple[int, dict[str, Any] | str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            out.append((number, f"not JSON: {exc.msg}"))
            continue
        out.append((number, value if isinstance(value, dict) else "not a JSON object"))
    return out


def _records_csv(text: str) -> list[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(text.splitlines(keepends=True))
    header = reader.fieldnames or []
    missing = [c for c in ("text", "labels") if c not in header]
    if missing:
        raise ImportMalformed(
            f"CSV header lacks column(s) {', '.join(missing)}",
            errors=[{"line": 1, "detail": f"header is {','.join(header) or '(empty)'}"}],
        )
    out: list[tuple[int, dict[str, Any] | str]] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.append((reader.line_num, f"bad CSV: {exc}"))
            break
        line = reader.line_num  # the record's last line: its only line unless a cell spans lines
        if None in row:
            out.append((line, "more cells than header columns"))
            continue
        out.append((line, dict(row)))
    return out


def load_examples(path: Path, *, max_bytes: int | None = None) -> list[Example]:
    """Read CSV (``.csv``) or JSONL (anything else) training data; every bad row is an error.

    Files over ``max_bytes`` (default ``MAX_DATA_BYTES``) are refused before reading: training
    holds every example and its vector in memory.
    """
    max_bytes = MAX_DATA_BYTES if max_bytes is None else max_bytes
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    if size > max_bytes:
        raise InvalidInput(f"{path} is {size} bytes; training data is limited to {max_bytes}")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ImportMalformed(
            f"{path} is not UTF-8", errors=[{"line": line, "detail": "not UTF-8"}]
        ) from None
    is_csv = path.suffix.lower() == ".csv"
    records = _records_csv(text) if is_csv else _records_jsonl(text.splitlines())
    examples: list[Example] = []
    errors: list[dict[str, Any]] = []
    for line, record in records:
        try:
            if isinstance(record, str):
                raise InvalidInput(record)
            examples.append(parse_example(record, line))
        except InvalidInput as exc:
            errors.append({"line": line, "detail": exc.detail})
    if errors:
        raise ImportMalformed(
            f"{len(errors)} bad row(s) in {path.name}",
            errors=errors[:MAX_REPORTED_ERRORS],
            error_count=len(errors),
        )
    if not examples:
        raise InvalidInput(f"{path} holds no examples")
    return examples


def split_examples(
    examples: Sequence[Example], *, test_fraction: float = 0.2, seed: int = DEFAULT_SEED
) -> tuple[list[Example], list[Example]]:
    """(train, test). An explicit ``split`` column wins; else stratified by label set, language
    and hard-negative flag, seeded; every stratum keeps at least one training example."""
    if any(e.split for e in examples):
        return [e for e in examples if e.split != "test"], [
            e for e in examples if e.split == "test"
        ]
    if not 0.0 <= test_fraction < 1.0:
        raise InvalidInput("test fraction must be in [0, 1)")
    strata: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        strata[example.stratum].append(example)
    rng = np.random.default_rng(seed)
    train: list[Example] = []
    test: list[Example] = []
    # Systematic sampling: strata sharing a label set (one per language) carry the fractional
    # part of their expected test count over to the next, from a seeded random start. A rare
    # category with two examples in each of eight languages thus still gets about 20% of its
    # examples tested, spread over languages, instead of none.
    carry: dict[str, float] = {}
    for key in sorted(strata):
        group = [strata[key][i] for i in rng.permutation(len(strata[key]))]
        label_key = key.split("|")[0] + "|" + key.split("|")[2]
        before = carry.setdefault(label_key, float(rng.random()))
        after = before + len(group) * test_fraction
        carry[label_key] = after
        n_test = min(int(after) - int(before), len(group) - 1)
        test.extend(group[:n_test])
        train.extend(group[n_test:])
    return train, test


def best_threshold(scores: FloatArray, truth: npt.NDArray[np.bool_]) -> float:
    """The F1-maximising cut on ``scores`` (flag when score >= cut), midway to the next score."""
    positives = int(truth.sum())
    if positives == 0 or positives == len(truth):
        return 0.5
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], truth[order]
    tp = np.cumsum(hits)
    f1 = 2 * tp / (np.arange(1, len(ranked) + 1) + positives)
    # Only cut between distinct scores.
    distinct = np.append(ranked[1:] < ranked[:-1], True)
    f1 = np.where(distinct, f1, -1.0)
    best = int(np.argmax(f1))
    below = ranked[best + 1] if best + 1 < len(ranked) else 0.0
    return float(np.clip((ranked[best] + below) / 2, 0.02, 0.98))


def _fold_ids(truth: npt.NDArray[np.bool_], folds: int, seed: int) -> npt.NDArray[np.int64]:
    rng = np.random.default_rng(seed)
    ids = np.zeros(len(truth), dtype=np.int64)
    for value in (True, False):
        members = np.flatnonzero(truth == value)
        ids[rng.permutation(members)] = np.arange(len(members)) % folds
    return ids


def _sample_weights(truth: npt.NDArray[np.bool_], hard: npt.NDArray[np.bool_]) -> FloatArray:
    n, positives = len(truth), int(truth.sum())
    weights = np.where(truth, n / (2 * positives), n / (2 * (n - positives)))
    return np.where(~truth & hard, weights * HARD_NEGATIVE_WEIGHT, weights)


def train_heads(
    examples: Sequence[Example],
    embedder: TextEmbedder,
    *,
    seed: int = DEFAULT_SEED,
    folds: int = 5,
    steps: int = 400,
    vectors: npt.NDArray[np.float32] | None = None,
    progress: Callable[[str], None] | None = None,
) -> ModelSpec:
    """One head per category with at least two positives among ``examples``."""
    x = vectors if vectors is not None else embedder.embed([e.text for e in examples])
    hard = np.array([e.hard_negative for e in examples])
    languages = np.array([e.language for e in examples])
    present = sorted({c for e in examples for c in e.labels}, key=_CATEGORY_ORDER.__getitem__)
    heads: list[Head] = []
    for category in present:
        truth = np.array([category in e.labels for e in examples])
        positives = int(truth.sum())
        if positives < MIN_HEAD_POSITIVES or positives == len(truth):
            continue
        if progress:
            progress(f"training {category} ({positives} positives)")
        weights = _sample_weights(truth, hard)
        k = max(2, min(folds, positives))
        fold = _fold_ids(truth, k, seed)
        oof = np.zeros(len(truth))
        for f in range(k):
            inside = fold != f
            w, b = fit_logistic(x[inside], truth[inside], weights[inside], steps=steps)
            oof[~inside] = 1.0 / (1.0 + np.exp(-(x[~inside].astype(np.float64) @ w + b)))
        per_language: dict[str, float] = {}
        for language in sorted(set(languages.tolist())):
            here = languages == language
            pos_here = int(truth[here].sum())
            if pos_here >= MIN_LANGUAGE_POSITIVES and int(here.sum()) - pos_here >= pos_here:
                per_language[language] = best_threshold(oof[here], truth[here])
        w, b = fit_logistic(x, truth, weights, steps=steps)
        heads.append(
            Head(category, w, b, best_threshold(oof, truth), per_language, positives=positives)
        )
    if not heads:
        raise InvalidInput(
            f"no category has {MIN_HEAD_POSITIVES} or more positive training examples"
        )
    # A model with an embedder (e5) gets the cheap screen stage that clears most benign posts
    # before the embedder runs (cascade.py); a hashing model is already as cheap as the screen.
    screen = train_screen(examples, seed=seed, steps=steps) if embedder.name != "hashing" else None
    return ModelSpec(embedder=embedder.name, dim=int(x.shape[1]), heads=heads, screen=screen)


# Multilingual HateCheck file stems -> the language codes Bastion uses.
HATECHECK_FILES = {
    "hatecheck_test_suite_cases_english": "en",
    "hatecheck_cases_final_arabic": "ar",
    "hatecheck_cases_final_french": "fr",
    "hatecheck_cases_final_german": "de",
    "hatecheck_cases_final_hindi": "hi",
}


def hatecheck_examples(
    folder: Path, *, per_language: int = 40, seed: int = DEFAULT_SEED
) -> list[Example]:
    """Hard negatives from Multilingual HateCheck (CC BY 4.0, Röttger et al. 2021/2022).

    Hateful *and* non-hateful cases become ``tvec0`` hard negatives: hate speech is not terrorist
    content, and counter-speech or quoted slurs must not look like it either. Threat cases
    (``threat_*``) are left out: a threat to kill a group may well be TVEC. A seeded sample per
    language.
    """
    rng = np.random.default_rng(seed)
    out: list[Example] = []
    for stem, language in HATECHECK_FILES.items():
        path = folder / f"{stem}.csv"
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            cases = [
                row
                for row in csv.DictReader(handle)
                if (row.get("test_case") or "").strip()
                # Threats to kill a group could be TVEC (tvec2/tvec8): never a negative.
                and not (row.get("functionality") or "").startswith("threat")
            ]
        chosen = rng.permutation(len(cases))[:per_language]
        for index in sorted(chosen.tolist()):
            text = cases[index]["test_case"].strip()
            out.append(Example(text, (), language, hard_negative=True, line=index + 2))
    return out


def examples_from_records(records: Sequence[dict[str, Any]]) -> list[Example]:
    """Already-parsed rows (dicts with the DATA columns) as examples; line = position."""
    return [parse_example(record, index + 1) for index, record in enumerate(records)]
