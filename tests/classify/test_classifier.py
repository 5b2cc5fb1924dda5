"""Scoring explains itself; model versions switch without restarts (SQLite and PostgreSQL);
the shipped starter model and the real e5 embedder work offline."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from bastion.audit import AuditLog
from bastion.classify.classifier import Classifier, ScoreContext
from bastion.classify.embeddings import E5_MAX_TOKENS, E5Embedder, HashingEmbedder
from bastion.classify.heads import ModelSpec
from bastion.classify.models import (
    ActiveModel,
    ModelNotFound,
    ModelStore,
    load_starter,
    parse_ref,
)
from bastion.classify.training import train_heads
from bastion.errors import InvalidInput
from bastion.runtime import Bastion

from .test_training import EMBEDDER, examples_of, tiny_dataset


@pytest.fixture(scope="module")
def spec() -> ModelSpec:
    return train_heads(examples_of(tiny_dataset(with_incitement_labels=True)), EMBEDDER, steps=200)


def test_scores_explain_themselves(spec: ModelSpec) -> None:
    head = spec.heads[spec.labels.index("tvec6")]
    head.language_thresholds["en"] = 0.3  # as if tuned on enough English data
    classifier = Classifier(spec, model_ref="tvec-text@3", embedder=EMBEDDER)
    context = ScoreContext(
        entities=[{"name": "Example Front", "labels": ["tvec6"], "list": "designated"}],
        bank_matches=[{"bank": "propaganda", "signal_type": "text_minhash", "distance": 0.1}],
    )
    text = "brothers join the soldiers of the caliphate message me for travel"

    english = classifier.score(text, language="en", context=context)
    french = classifier.score(text, language="fr")
    top = english[0]

    assert [s.score for s in english] == sorted((s.score for s in english), reverse=True)
    assert {s.code for s in english} == set(spec.labels)
    assert (top.code, top.display_name, top.flagged, top.action) == (
        "tvec6", "Recruitment", True, "review",
    )  # fmt: skip
    assert (top.threshold, top.threshold_source, top.language) == (0.3, "language:en", "en")
    assert top.model == "tvec-text@3"
    assert [c["kind"] for c in top.contributions] == ["entity", "bank_match"]
    # An entity labelled tvec6 explains only the tvec6 score; an unlabelled bank match explains all.
    other = next(s for s in english if s.code == "tvec4")
    assert [c["kind"] for c in other.contributions] == ["bank_match"]
    assert all(not s.flagged and s.action == "none" for s in english[1:] if s.score < s.threshold)
    assert next(s for s in french if s.code == "tvec6").threshold_source == "global"
    assert classifier.score("happy birthday mum", language=None)[0].language == "und"


def test_a_classifier_refuses_the_wrong_embedder(spec: ModelSpec) -> None:
    classifier = Classifier(spec, model_ref="x@1", embedder=HashingEmbedder(dim=2048))
    with pytest.raises(InvalidInput, match="1024 dimensions"):
        classifier.score("anything")


def test_hashing_embedder_is_stable_and_normalised() -> None:
    embedder = HashingEmbedder(dim=512)
    rows = embedder.embed(["Join us now", "join us now", "lentil soup", ""])
    again = HashingEmbedder(dim=512).embed(["Join us now"])

    assert rows.shape == (4, 512) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows[:3], axis=1), 1.0)
    assert np.array_equal(rows[0], rows[1]) and np.array_equal(rows[0], again[0])
    assert float(rows[0] @ rows[2]) < 0.5
    assert not rows[3].any()  # an empty text is the zero vector, not NaN


def test_versions_activation_and_live_switching(bastion: Bastion, spec: ModelSpec) -> None:
    store = ModelStore(bastion.audit)
    follower = ActiveModel(store, name="tvec-text")
    with bastion.db.session() as session:
        served = follower.current(session)
        assert served.model_ref.startswith("starter@")  # nothing active yet: the packaged model
        first = store.save(session, name="tvec-text", spec=spec, metrics={"f1": 0.5}, actor="t")
        second = store.save(
            session, name="tvec-text", spec=spec, metrics={}, actor="t", activate=True
        )
        other = store.save(session, name="other", spec=spec, metrics={}, actor="t", activate=True)
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert not first.active and second.active

    with bastion.db.session() as session:
        assert follower.current(session).model_ref == "tvec-text@2"
        loads = follower.loads
        assert follower.current(session).model_ref == "tvec-text@2"
        assert follower.loads == loads  # unchanged active id: no reload
        store.activate(session, "tvec-text", 1, actor="t")
    with bastion.db.session() as session:
        assert follower.current(session).model_ref == "tvec-text@1"
        assert follower.loads == loads + 1
        listed = {(m.name, m.version): m.active for m in store.list(session)}
        actions = [e.action for e in AuditLog().list(session, target_type="classifier_model")]
        with pytest.raises(ModelNotFound):
            store.activate(session, "tvec-text", 9, actor="t")
        loaded_info, loaded_spec = store.load(session, "tvec-text")
    assert listed == {("other", 1): True, ("tvec-text", 1): True, ("tvec-text", 2): False}
    assert actions == ["model.activate", "model.activate", "model.train", "model.activate",
                       "model.train", "model.train", "model.train"][: len(actions)]  # fmt: skip
    assert actions.count("model.train") == 3 and actions.count("model.activate") == 3
    assert loaded_info.ref == "tvec-text@1" and loaded_info.metrics == {"f1": 0.5}
    assert loaded_spec.labels == spec.labels


def test_model_references_parse() -> None:
    assert parse_ref("tvec-text@4") == ("tvec-text", 4)
    assert parse_ref("tvec-text") == ("tvec-text", None)
    for bad in ("@3", "name@v2"):
        with pytest.raises(InvalidInput):
            parse_ref(bad)


def test_the_starter_model_is_plain_json_and_covers_the_taxonomy() -> None:
    raw = resources.files("bastion.classify").joinpath("data/starter_model.json").read_bytes()
    document = json.loads(raw)  # JSON, never a pickle
    info, spec = load_starter()
    assert info.name == "starter" and spec.embedder == "e5" and spec.dim == 384
    assert set(spec.labels) >= {f"tvec{i}" for i in range(1, 9)} | {"tvec01"}
    assert document["metrics"]["evaluation"]["hard_negative_fpr"]


@pytest.mark.slow
def test_real_e5_embeddings_and_the_starter_model_on_a_handful_of_texts() -> None:
    embedder = E5Embedder()
    texts = [
        "Brothers, make hijra and join the soldiers of the caliphate, DM me and we arrange "
        "your travel",
        "Jummah mubarak to all my brothers and sisters, may Allah bless your families",
        "Happy birthday mum, love you loads",
    ]
    vectors = embedder.embed(texts)
    long_text = embedder.truncate("word " * 3000)

    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.allclose(embedder.embed(texts[:1]), vectors[:1], atol=1e-5)
    assert embedder._model.token_count(long_text, True) <= E5_MAX_TOKENS
    info, spec = load_starter()
    classifier = Classifier(spec, model_ref=info.ref, embedder=embedder)
    recruitment = classifier.score(texts[0], language="en")
    greeting = classifier.score(texts[1], language="en")
    assert recruitment[0].code == "tvec6" and recruitment[0].flagged
    assert not any(s.flagged for s in greeting if s.code != "tvec01")
