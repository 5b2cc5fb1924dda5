"""Precision, recall and F1 per category and per language, with 95% intervals, and the
false-positive rate on hard negatives.

Intervals: Wilson score intervals for precision, recall and rates (well-behaved at 0 and 1 and for
the small counts a per-language test split has); a seeded percentile bootstrap for F1, which has no
closed form. A hard negative counts as a false positive when any TVEC head (tvec1-tvec8) flags
it; a tvec01 flag (route to review as news/research) is reported separately, not as an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.classify.classifier import Classifier
from bastion.classify.embeddings import TextEmbedder
from bastion.classify.heads import ModelSpec
from bastion.classify.training import DEFAULT_SEED, Example, split_examples, train_heads
from bastion.errors import InvalidInput

Z95 = 1.959963984540054
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20261130
ALL = "all"


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``successes`` out of ``trials``; (0, 1) when there are none."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def f1_score(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def bootstrap_f1(
    truth: npt.NDArray[np.bool_],
    predicted: npt.NDArray[np.bool_],
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """2.5th and 97.5th percentiles of F1 over resamples of the examples (with replacement)."""
    n = len(truth)
    if n == 0:
        return 0.0, 1.0
    rng = np.random.default_rng(seed)
    scores = np.empty(resamples)
    chunk = max(1, 2_000_000 // n)  # bound memory: chunk x n indices at a time
    for start in range(0, resamples, chunk):
        rows = min(chunk, resamples - start)
        idx = rng.integers(0, n, size=(rows, n))
        t, p = truth[idx], predicted[idx]
        tp = (t & p).sum(axis=1)
        wrong = (t ^ p).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            scores[start : start + rows] = np.where(tp > 0, 2 * tp / (2 * tp + wrong), 0.0)
    low, high = np.percentile(scores, [2.5, 97.5])
    return float(low), float(high)


@dataclass(frozen=True, slots=True)
class CategoryMetrics:
    category: str
    language: str  # a language code, or "all"
    examples: int
    support: int  # positives in the truth
    tp: int
    fp: int
    fn: int
    precision: float
    precision_ci: tuple[float, float]
    recall: float
    recall_ci: tuple[float, float]
    f1: float
    f1_ci: tuple[float, float]


@dataclass(frozen=True, slots=True)
class RateMetrics:
    language: str
    count: int
    flagged: int
    rate: float
    ci: tuple[float, float]


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    examples: int
    categories: list[CategoryMetrics]
    hard_negative_fpr: list[RateMetrics]
    # Hard negatives flagged tvec01 (sent to review as news/research): informative, not an error.
    hard_negative_review_rate: list[RateMetrics]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def category_metrics(
    category: str,
    language: str,
    truth: npt.NDArray[np.bool_],
    predicted: npt.NDArray[np.bool_],
) -> CategoryMetrics:
    tp = int((truth & predicted).sum())
    fp = int((~truth & predicted).sum())
    fn = int((truth & ~predicted).sum())
    flagged, support = tp + fp, tp + fn
    return CategoryMetrics(
        category=category,
        language=language,
        examples=len(truth),
        support=support,
        tp=tp,
        fp=fp,
        fn=fn,
        precision=tp / flagged if flagged else 0.0,
        precision_ci=wilson(tp, flagged),
        recall=tp / support if support else 0.0,
        recall_ci=wilson(tp, support),
        f1=f1_score(tp, fp, fn),
        f1_ci=bootstrap_f1(truth, predicted),
    )


def _rates(flags: npt.NDArray[np.bool_], languages: npt.NDArray[np.str_]) -> list[RateMetrics]:
    out: list[RateMetrics] = []
    for language in [ALL, *sorted(set(languages.tolist()))]:
        here = flags if language == ALL else flags[languages == language]
        k, n = int(here.sum()), len(here)
        out.append(RateMetrics(language, n, k, k / n if n else 0.0, wilson(k, n)))
    return out


def _any(flags: npt.NDArray[np.bool_], columns: list[int]) -> npt.NDArray[np.bool_]:
    """Rows where any of ``columns`` is flagged."""
    out = np.zeros(flags.shape[0], dtype=bool)
    for column in columns:
        out |= flags[:, column]
    return out


def evaluate_flags(
    examples: Sequence[Example], labels: Sequence[str], flags: npt.NDArray[np.bool_]
) -> EvaluationReport:
    """Compare ``flags`` (rows = examples, columns = ``labels``) with the examples' labels."""
    languages = np.array([e.language for e in examples], dtype=str)
    rows: list[CategoryMetrics] = []
    for column, category in enumerate(labels):
        truth = np.array([category in e.labels for e in examples], dtype=bool)
        predicted = flags[:, column]
        rows.append(category_metrics(category, ALL, truth, predicted))
        for language in sorted(set(languages.tolist())):
            here = languages == language
            rows.append(category_metrics(category, language, truth[here], predicted[here]))
    hard = np.array([e.hard_negative for e in examples], dtype=bool)
    tvec_columns = [i for i, c in enumerate(labels) if c != "tvec01"]
    review_columns = [i for i, c in enumerate(labels) if c == "tvec01"]
    any_tvec = _any(flags, tvec_columns)
    any_review = _any(flags, review_columns)
    return EvaluationReport(
        examples=len(examples),
        categories=rows,
        hard_negative_fpr=_rates(any_tvec[hard], languages[hard]),
        hard_negative_review_rate=_rates(any_review[hard], languages[hard]),
    )


@dataclass(frozen=True, slots=True)
class TrainedModel:
    spec: ModelSpec
    report: EvaluationReport
    train_examples: int
    test_examples: int

    def metrics(self) -> dict[str, Any]:
        """What is stored with the model version and printed after training."""
        return {
            "train_examples": self.train_examples,
            "test_examples": self.test_examples,
            "evaluation": self.report.to_json(),
        }


def evaluate_model(classifier: Classifier, examples: Sequence[Example]) -> EvaluationReport:
    _, flags = classifier.flags([e.text for e in examples], [e.language for e in examples])
    return evaluate_flags(examples, classifier.labels, flags)


def train_and_evaluate(
    examples: Sequence[Example],
    embedder: TextEmbedder,
    *,
    test_fraction: float = 0.2,
    seed: int = DEFAULT_SEED,
    steps: int = 400,
    progress: Callable[[str], None] | None = None,
) -> TrainedModel:
    """Split (stratified, seeded), train on one side, evaluate on the held-out side."""
    train, test = split_examples(examples, test_fraction=test_fraction, seed=seed)
    if not train:
        raise InvalidInput("no training examples (every row has split=test)")
    spec = train_heads(train, embedder, seed=seed, steps=steps, progress=progress)
    classifier = Classifier(spec, model_ref="(training)", embedder=embedder)
    if test:
        report = evaluate_model(classifier, test)
    else:
        report = evaluate_flags([], spec.labels, np.zeros((0, len(spec.labels)), dtype=bool))
    return TrainedModel(spec, report, len(train), len(test))
