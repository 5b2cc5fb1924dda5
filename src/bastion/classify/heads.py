"""Per-category logistic-regression heads over text embeddings, stored as plain JSON numbers.

One head per TVEC code (one-vs-rest, so a post can be both praise and incitement). The fit is our
own small numpy implementation (full-batch Adam on the weighted, L2-regularised log-loss): a few
hundred to a few hundred thousand rows of 384 numbers need nothing heavier, and it keeps the model
format ours: weights, bias and thresholds as JSON numbers, never a pickle that could run code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.errors import InvalidInput
from bastion.taxonomy import BY_CODE

FloatArray = npt.NDArray[np.float64]

FORMAT = "bastion.text-classifier/1"


def sigmoid(z: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free form of 1/(1+e^-z)
    return out


def fit_logistic(
    x: npt.NDArray[np.float32],
    y: npt.NDArray[np.bool_],
    sample_weight: FloatArray,
    *,
    l2: float = 1e-3,
    steps: int = 400,
    learning_rate: float = 0.05,
) -> tuple[FloatArray, float]:
    """Weights and bias minimising the weighted mean log-loss plus ``l2``·|w|²/2.

    Deterministic (zero start, full batch). Class balance is the caller's business, through
    ``sample_weight``.
    """
    xs = x.astype(np.float64, copy=False)
    target = y.astype(np.float64)
    weight = sample_weight / sample_weight.sum()
    w = np.zeros(xs.shape[1])
    b = 0.0
    m_w, v_w = np.zeros_like(w), np.zeros_like(w)
    m_b = v_b = 0.0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, steps + 1):
        error = (sigmoid(xs @ w + b) - target) * weight
        grad_w = xs.T @ error + l2 * w
        grad_b = float(error.sum())
        m_w = beta1 * m_w + (1 - beta1) * grad_w
        v_w = beta2 * v_w + (1 - beta2) * grad_w**2
        m_b = beta1 * m_b + (1 - beta1) * grad_b
        v_b = beta2 * v_b + (1 - beta2) * grad_b**2
        correction1, correction2 = 1 - beta1**step, 1 - beta2**step
        w -= learning_rate * (m_w / correction1) / (np.sqrt(v_w / correction2) + eps)
        b -= learning_rate * (m_b / correction1) / (np.sqrt(v_b / correction2) + eps)
    return w, b


@dataclass
class Head:
    """One category's linear head and the thresholds that turn its probability into a flag."""

    category: str
    weights: FloatArray
    bias: float
    threshold: float
    # Language code -> threshold tuned on that language's own validation data (see training.py).
    language_thresholds: dict[str, float] = field(default_factory=dict)
    positives: int = 0

    def threshold_for(self, language: str | None) -> tuple[float, str]:
        """The threshold used for ``language`` and why: ``language:xx`` or ``global``."""
        if language and language in self.language_thresholds:
            return self.language_thresholds[language], f"language:{language}"
        return self.threshold, "global"

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(float(self.bias), 6),
            "threshold": round(float(self.threshold), 6),
            "language_thresholds": {
                k: round(float(v), 6) for k, v in self.language_thresholds.items()
            },
            "positives": self.positives,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], dim: int) -> Head:
        try:
            weights = np.asarray(data["weights"], dtype=np.float64)
            category = str(data["category"])
            head = cls(
                category=category,
                weights=weights,
                bias=float(data["bias"]),
                threshold=float(data["threshold"]),
                language_thresholds={
                    str(k): float(v) for k, v in dict(data.get("language_thresholds", {})).items()
                },
                positives=int(data.get("positives", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"malformed classifier head: {exc}") from exc
        if category not in BY_CODE:
            raise InvalidInput(f"classifier head for unknown category {category!r}")
        if weights.shape != (dim,):
            raise InvalidInput(f"head {category}: {weights.shape[0]} weights, embedder has {dim}")
        return head


@dataclass
class Screen:
    """A cheap first stage that clears posts before the embedder runs (see ``cascade.py``).

    One logistic head over signed character n-gram hashing (no model), pooled over every harm
    category: "could this be TVEC at all". A post scoring below ``clear_below`` in one of
    ``languages`` with no entity or bank evidence is cleared without the embedder.
    """

    weights: FloatArray
    bias: float
    clear_below: float
    languages: list[str]
    hashing_dim: int
    ngrams: tuple[int, ...]
    metrics: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, x: npt.NDArray[np.float32]) -> FloatArray:
        return sigmoid(x.astype(np.float64, copy=False) @ self.weights + self.bias)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "hashing-any-harm",
            "hashing_dim": self.hashing_dim,
            "ngrams": list(self.ngrams),
            "weights": [round(float(v), 6) for v in self.weights],
            "bias": round(float(self.bias), 6),
            "clear_below": round(float(self.clear_below), 6),
            "languages": sorted(self.languages),
            "metrics": self.metrics,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Screen:
        try:
            if data.get("kind") != "hashing-any-harm":
                raise ValueError(f"unknown screen kind {data.get('kind')!r}")
            screen = cls(
                weights=np.asarray(data["weights"], dtype=np.float64),
                bias=float(data["bias"]),
                clear_below=float(data["clear_below"]),
                languages=[str(code) for code in data["languages"]],
                hashing_dim=int(data["hashing_dim"]),
                ngrams=tuple(int(n) for n in data["ngrams"]),
                metrics=dict(data.get("metrics", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"malformed classifier screen: {exc}") from exc
        if screen.weights.shape != (screen.hashing_dim,):
            raise InvalidInput("classifier screen: weights do not match its hashing dimension")
        return screen


@dataclass
class ModelSpec:
    """Everything needed to score: which embedder, its dimension, the heads, and optionally a
    cheap :class:`Screen` stage (absent in documents written before it existed)."""

    embedder: str
    dim: int
    heads: list[Head]
    screen: Screen | None = None

    @property
    def labels(self) -> list[str]:
        return [head.category for head in self.heads]

    def probabilities(self, x: npt.NDArray[np.float32]) -> FloatArray:
        """(rows, heads) matrix of probabilities, in ``labels`` order."""
        if not self.heads:
            return np.zeros((x.shape[0], 0))
        weights = np.stack([head.weights for head in self.heads], axis=1)
        biases = np.array([head.bias for head in self.heads])
        return sigmoid(x.astype(np.float64, copy=False) @ weights + biases)

    def to_json(self) -> dict[str, Any]:
        document = {
            "format": FORMAT,
            "embedder": self.embedder,
            "dim": self.dim,
            "heads": [head.to_json() for head in self.heads],
        }
        if self.screen is not None:
            document["screen"] = self.screen.to_json()
        return document

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelSpec:
        if data.get("format") != FORMAT:
            raise InvalidInput(f"not a Bastion text classifier (format {data.get('format')!r})")
        try:
            dim = int(data["dim"])
            embedder = str(data["embedder"])
            heads = [Head.from_json(dict(h), dim) for h in data["heads"]]
            raw_screen = data.get("screen")
            screen = None if raw_screen is None else Screen.from_json(dict(raw_screen))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"malformed classifier model: {exc}") from exc
        return cls(embedder=embedder, dim=dim, heads=heads, screen=screen)
