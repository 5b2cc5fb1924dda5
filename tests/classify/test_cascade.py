"""The cascade: a cheap hashing screen clears benign posts, the embedder scores the rest; every
score says which stage produced it; model documents without a screen still load and score."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import resources

import pytest

from bastion.classify.cascade import route, train_screen
from bastion.classify.classifier import Classifier, ScoreContext
from bastion.classify.embeddings import HashingEmbedder
from bastion.classify.heads import ModelSpec, Screen
from bastion.classify.models import load_starter, starter_document
from bastion.classify.training import Example, examples_from_records, train_heads
from bastion.errors import InvalidInput


def _starter_examples() -> list[Example]:
    raw = resources.files("bastion.classify").joinpath("data/starter_examples.jsonl")
    return examples_from_records(
        [json.loads(line) for line in raw.read_text("utf-8").splitlines() if line]
    )


class StubEmbedder(HashingEmbedder):
    """Stands in for e5 (training adds a screen to any model that has a real embedder)."""

    name = "stub"


@pytest.fixture(scope="module")
def screened() -> ModelSpec:
    spec = train_heads(_starter_examples(), StubEmbedder(dim=256), steps=60)
    assert spec.screen is not None
    return spec


def _screen(clear: float = 0.2, languages: tuple[str, ...] = ("en",)) -> Screen:
    spec = load_starter()[1]
    assert spec.screen is not None
    return replace(spec.screen, clear_below=clear, languages=list(languages))


def test_route_clears_only_low_scores_without_evidence_in_calibrated_languages() -> None:
    screen = _screen()
    assert route(screen, 0.05, "en", evidence=0, model_stage="e5").stage == "screen"
    escalated = {
        "score": route(screen, 0.25, "en", evidence=0, model_stage="e5"),
        "evidence": route(screen, 0.05, "en", evidence=1, model_stage="e5"),
        "language": route(screen, 0.05, "sw", evidence=0, model_stage="e5"),
        "und": route(screen, 0.05, None, evidence=0, model_stage="e5"),
    }
    assert {r.stage for r in escalated.values()} == {"e5"}
    assert "0.2500 >= clear threshold 0.2000" in escalated["score"].reason
    assert "entity or bank" in escalated["evidence"].reason
    assert "'sw'" in escalated["language"].reason and "'und'" in escalated["und"].reason


def test_training_adds_a_screen_only_to_embedder_models(screened: ModelSpec) -> None:
    assert screened.screen is not None
    assert sorted(screened.screen.languages) == ["ar", "de", "en", "fr", "hi", "id", "ru", "ur"]
    # The clear threshold sits below every out-of-fold positive score.
    assert 0 < screened.screen.clear_below < screened.screen.metrics["lowest_positive_oof_score"]
    hashing = train_heads(_starter_examples(), HashingEmbedder(dim=256), steps=20)
    assert hashing.screen is None
    too_few = [e for e in _starter_examples() if not e.labels][:30] + [
        e for e in _starter_examples() if "tvec2" in e.labels
    ][:5]
    assert train_screen(too_few, steps=10) is None


def test_scores_say_which_stage_produced_them(screened: ModelSpec) -> None:
    classifier = Classifier(screened, model_ref="m@1", embedder=StubEmbedder(dim=256))
    assert screened.screen is not None
    # Force each route through the threshold rather than relying on a text's score.
    cleared = Classifier(
        replace(screened, screen=replace(screened.screen, clear_below=1.0)),
        model_ref="m@1",
        embedder=StubEmbedder(dim=256),
    )
    text = "lovely weather for a picnic in the park today"

    quiet = cleared.score(text, "en")
    assert {s.stage for s in quiet} == {"screen"}
    assert not any(s.flagged for s in quiet)
    assert all(s.model_score is None and s.screen_score is not None for s in quiet)
    assert "< clear threshold 1.0000" in quiet[0].stage_reason

    evidence = cleared.score(text, "en", ScoreContext(bank_matches=[{"bank": "b"}]))
    assert {s.stage for s in evidence} == {"stub"}
    assert all(s.model_score is not None for s in evidence)

    stub = StubEmbedder(dim=256)
    unscreened = Classifier(replace(screened, screen=None), model_ref="m@1", embedder=stub).score(
        text, "en"
    )
    assert {(s.stage, s.stage_reason, s.screen_score) for s in unscreened} == {
        ("stub", "the model has no screen", None)
    }
    # cascade=False scores everything with the embedder even when a screen exists.
    off = Classifier(cleared.spec, model_ref="m@1", embedder=stub, cascade=False).score(text, "en")
    assert {s.stage for s in off} == {"stub"}
    assert classifier.cascade and not Classifier(cleared.spec, model_ref="x", cascade=False).cascade


def test_model_documents_round_trip_and_old_ones_still_load(screened: ModelSpec) -> None:
    document = json.loads(json.dumps(screened.to_json()))
    again = ModelSpec.from_json(document)
    assert again.screen is not None and screened.screen is not None
    assert again.screen.clear_below == pytest.approx(screened.screen.clear_below, abs=1e-6)
    assert again.screen.ngrams == screened.screen.ngrams

    old = {k: v for k, v in starter_document().items() if k != "screen"}
    spec = ModelSpec.from_json(old)
    assert spec.screen is None
    assert "screen" not in spec.to_json()

    broken = {**document, "screen": {**document["screen"], "weights": [0.0, 1.0]}}
    with pytest.raises(InvalidInput, match="screen"):
        ModelSpec.from_json(broken)
    unknown = {**document, "screen": {**document["screen"], "kind": "something-else"}}
    with pytest.raises(InvalidInput, match="unknown screen kind"):
        ModelSpec.from_json(unknown)


def test_the_starter_model_ships_a_screen() -> None:
    _, spec = load_starter()
    assert spec.embedder == "e5" and spec.screen is not None
    assert spec.screen.hashing_dim == len(spec.screen.weights)
    assert set(spec.screen.languages) == {"ar", "de", "en", "fr", "hi", "id", "ru", "ur"}
