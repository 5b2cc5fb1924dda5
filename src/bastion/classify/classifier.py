"""Scoring a text against every TVEC head, with the reasons for each score kept.

Classifier scores are evidence for a human, never a decision: a flagged score carries
``action="review"`` and nothing in this module (or downstream policy, by design) acts on a
classifier score alone. Entity and bank matches the caller already found travel with the scores
as ``contributions`` so a reviewer sees everything that pointed at the post in one place.

**Evidence.** Other stages' findings raise the score of the categories they point at (noisy-OR:
``score = 1 - (1 - model) * prod(1 - weight)``), with the weights of :data:`EVIDENCE_WEIGHTS`: a
text or link bank match labelled with the category counts most, a designated media outlet,
publication or signature slogan named in the text (whose entry hints the category) counts, an
organisation's name a little. Naming a group is also what news, research and counter-speech do,
so names only corroborate: they add nothing when the exception head (``tvec01``: educational,
journalistic, research) fires, nor to a category whose own score is under half its threshold
(:data:`CORROBORATION_FLOOR`; measured: counter-speech naming an outlet scored just under the
exception threshold and was flagged without it). Bank matches always count. ``model_score``
keeps the head's own probability.

``tvec01`` is reported like the others but is not a harm: ``flagged`` on it means "looks like
news or research", and it never sets review on its own (``harmful``).

**Stages.** A model with a screen (``ModelSpec.screen``) scores as a cascade (``cascade.py``):
the cheap hashing screen clears most benign posts and only the rest reach the embedder. Every
score says which stage produced it (``stage``: ``"screen"`` or the embedder, e.g. ``"e5"``), why
(``stage_reason``) and the screen's own score, so a cleared post is as explainable as a scored
one. Models without a screen score every post with their embedder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.classify.cascade import Route, route, screen_scores
from bastion.classify.embeddings import TextEmbedder, get_embedder
from bastion.classify.heads import FloatArray, ModelSpec
from bastion.errors import InvalidInput
from bastion.taxonomy import BY_CODE

REVIEW = "review"
NO_ACTION = "none"
EXCEPTION_CODE = "tvec01"
# Names count as evidence for a category only when the model's own score is at least this share
# of the category's threshold (see _weight).
CORROBORATION_FLOOR = 0.5
# What another stage's finding adds to the categories it points at (see the module docstring).
EVIDENCE_WEIGHTS: dict[str, float] = {
    "bank_match": 0.9,
    "media_outlet": 0.5,
    "publication": 0.5,
    "slogan": 0.5,
    "organisation": 0.2,
}


@dataclass(frozen=True, slots=True)
class ScoreContext:
    """What other stages found in the same post, as plain data (JSON-like dicts).

    A dict with a ``labels`` list is attached to the scores of those categories only; one without
    labels is attached to every category.
    """

    entities: list[dict[str, Any]] = field(default_factory=list)
    bank_matches: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CategoryScore:
    code: str
    display_name: str
    score: float  # the head's probability
    threshold: float
    threshold_source: str  # "language:xx" (tuned for that language) or "global"
    language: str
    flagged: bool
    action: str  # "review" when flagged, else "none": never an automatic action
    model: str  # "name@version"
    contributions: list[dict[str, Any]] = field(default_factory=list)
    model_score: float | None = None  # the head's own probability, before evidence
    stage: str = ""  # "screen" (cleared by the cheap stage) or the embedder that scored it
    stage_reason: str = ""
    screen_score: float | None = None  # the screen's "could be TVEC" probability, if it ran

    @property
    def harmful(self) -> bool:
        """A flagged harm category (not the news/research exception)."""
        return self.flagged and self.code != EXCEPTION_CODE


def _weight(item: dict[str, Any], exception: bool, corroborated: bool) -> float:
    """How much a finding raises a category's score. A bank match always counts; a name only
    corroborates: it adds nothing to news or research, nor to a text the model itself finds
    far from the category (naming a group is what reporting and counter-speech do)."""
    if item.get("kind") == "bank_match":
        return EVIDENCE_WEIGHTS["bank_match"]
    if exception or not corroborated:
        return 0.0
    return EVIDENCE_WEIGHTS.get(str(item.get("entity_kind", "")), 0.0)


def _applies(item: dict[str, Any], code: str) -> bool:
    labels = item.get("labels")
    return not isinstance(labels, list) or not labels or code in labels


class Classifier:
    """A loaded model version: its heads and the embedder they were trained on."""

    def __init__(
        self,
        spec: ModelSpec,
        *,
        model_ref: str,
        embedder: TextEmbedder | None = None,
        cascade: bool = True,
    ) -> None:
        self.spec = spec
        self.model_ref = model_ref
        self._embedder = embedder
        # Off: every post goes to the embedder even when the model has a screen (benchmarks,
        # and measuring what the screen costs in recall).
        self.cascade = cascade and spec.screen is not None

    @property
    def embedder(self) -> TextEmbedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.spec.embedder)
        if self._embedder.name != self.spec.embedder or self._embedder.dim != self.spec.dim:
            raise InvalidInput(
                f"model {self.model_ref} needs the {self.spec.embedder} embedder "
                f"({self.spec.dim} dimensions)"
            )
        return self._embedder

    @property
    def labels(self) -> list[str]:
        return self.spec.labels

    def probabilities(self, texts: Sequence[str]) -> FloatArray:
        return self.spec.probabilities(self.embedder.embed(texts))

    def thresholds(self, languages: Sequence[str | None]) -> FloatArray:
        """(rows, heads) thresholds, language-specific where the head has one."""
        return np.array(
            [[head.threshold_for(lang)[0] for head in self.spec.heads] for lang in languages]
        )

    def flags(
        self, texts: Sequence[str], languages: Sequence[str | None]
    ) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Probabilities and flags for many texts at once (evaluation and batch scoring)."""
        probabilities = self.probabilities(texts)
        return probabilities, probabilities >= self.thresholds(languages)

    def route(self, text: str, language: str | None, evidence: int) -> Route | None:
        """Where the cascade sends ``text``; None when the model has no screen (or it is off)."""
        screen = self.spec.screen
        if not self.cascade or screen is None:
            return None
        score = float(screen_scores(screen, [text])[0])
        return route(screen, score, language, evidence=evidence, model_stage=self.spec.embedder)

    def score(
        self, text: str, language: str | None = None, context: ScoreContext | None = None
    ) -> list[CategoryScore]:
        """One score per head, highest first. Flagged scores mean "send to review", no more."""
        context = context or ScoreContext()
        found = [{"kind": "entity", **e} for e in context.entities] + [
            {"kind": "bank_match", **m} for m in context.bank_matches
        ]
        routed = self.route(text, language, len(found))
        if routed is not None and routed.stage == "screen":
            return self._cleared(routed, language)
        probabilities = self.probabilities([text])[0]
        exception = any(
            head.category == EXCEPTION_CODE and p >= head.threshold_for(language)[0]
            for head, p in zip(self.spec.heads, probabilities, strict=True)
        )
        scores: list[CategoryScore] = []
        for head, probability in zip(self.spec.heads, probabilities, strict=True):
            threshold, source = head.threshold_for(language)
            corroborated = probability >= CORROBORATION_FLOOR * threshold
            applied = [
                {**item, "weight": _weight(item, exception, corroborated)}
                for item in found
                if _applies(item, head.category)
            ]
            score = float(probability)
            if head.category != EXCEPTION_CODE:
                for item in applied:
                    score = 1.0 - (1.0 - score) * (1.0 - item["weight"])
            flagged = bool(score >= threshold)
            scores.append(
                CategoryScore(
                    code=head.category,
                    display_name=BY_CODE[head.category].display_name,
                    score=round(score, 6),
                    threshold=threshold,
                    threshold_source=source,
                    language=language or "und",
                    flagged=flagged,
                    action=REVIEW if flagged and head.category != EXCEPTION_CODE else NO_ACTION,
                    model=self.model_ref,
                    contributions=applied,
                    model_score=round(float(probability), 6),
                    stage=self.spec.embedder,
                    stage_reason=routed.reason if routed else "the model has no screen",
                    screen_score=round(routed.screen_score, 6) if routed else None,
                )
            )
        return sorted(scores, key=lambda s: -s.score)

    def _cleared(self, routed: Route, language: str | None) -> list[CategoryScore]:
        """Scores of a post the screen cleared: nothing flagged, the screen's score shown.

        The screen has one pooled score, reported on every harm head; the exception head was not
        evaluated (0.0). ``model_score`` stays None: the heads did not run.
        """
        scores = []
        for head in self.spec.heads:
            threshold, source = head.threshold_for(language)
            harm = head.category != EXCEPTION_CODE
            scores.append(
                CategoryScore(
                    code=head.category,
                    display_name=BY_CODE[head.category].display_name,
                    score=round(routed.screen_score, 6) if harm else 0.0,
                    threshold=threshold,
                    threshold_source=source,
                    language=language or "und",
                    flagged=False,
                    action=NO_ACTION,
                    model=self.model_ref,
                    stage="screen",
                    stage_reason=routed.reason,
                    screen_score=round(routed.screen_score, 6),
                )
            )
        return sorted(scores, key=lambda s: -s.score)
