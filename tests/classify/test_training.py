"""Training: data loading with line-numbered errors, seeded stratified splits, threshold rules,
and the evaluation arithmetic (intervals, hard-negative false-positive rate) by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bastion.classify import training
from bastion.classify.classifier import Classifier
from bastion.classify.embeddings import HashingEmbedder
from bastion.classify.evaluation import (
    bootstrap_f1,
    evaluate_flags,
    evaluate_model,
    train_and_evaluate,
    wilson,
)
from bastion.classify.heads import ModelSpec
from bastion.classify.training import (
    Example,
    best_threshold,
    load_examples,
    split_examples,
    train_heads,
)
from bastion.errors import ImportMalformed, InvalidInput

RECRUIT = [
    "brothers join the soldiers of the caliphate message me for travel {i}",
    "come to the land of jihad our contacts meet you at the border {i}",
    "make hijra and join the fighters send me a private message {i}",
]
FUNDING = [
    "send crypto to the wallet in our channel every coin buys weapons {i}",
    "donate to the fighters in the camps payment link in bio {i}",
]
INCITE = [
    "take a knife and strike the police tonight do not wait {i}",
    "kill the unbelievers wherever you find them act now {i}",
]
BENIGN = [
    "our team won the match four nil what a night {i}",
    "anyone have a good recipe for lentil soup {i}",
    "happy birthday mum see you on sunday {i}",
    "police said the market attack killed three people today {i}",
    "jummah mubarak to all my brothers and sisters {i}",
]


def tiny_dataset(*, with_incitement_labels: bool, copies: int = 8) -> list[dict[str, Any]]:
    """Generated rows; incitement posts are labelled tvec8 only when asked (the "new labels")."""
    rows: list[dict[str, Any]] = []
    for i in range(copies):
        language = "en" if i % 2 else "fr"
        rows += [{"text": t.format(i=i), "labels": "tvec6", "language": language} for t in RECRUIT]
        rows += [
            {"text": t.format(i=i), "labels": ["tvec4"], "language": language} for t in FUNDING
        ]
        rows += [
            {"text": t.format(i=i), "labels": "tvec8" if with_incitement_labels else "",
             "language": language}
            for t in INCITE
        ]  # fmt: skip
        rows += [
            {"text": t.format(i=i), "labels": "tvec0", "language": language, "hard_negative": True}
            for t in BENIGN
        ]
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def examples_of(rows: list[dict[str, Any]]) -> list[Example]:
    return [training.parse_example(row, i + 1) for i, row in enumerate(rows)]


EMBEDDER = HashingEmbedder(dim=1024)


def test_training_with_new_labels_changes_what_evaluation_shows() -> None:
    held_out = examples_of(tiny_dataset(with_incitement_labels=True, copies=3))
    before = train_heads(examples_of(tiny_dataset(with_incitement_labels=False)), EMBEDDER)
    after = train_heads(examples_of(tiny_dataset(with_incitement_labels=True)), EMBEDDER)

    report_before = evaluate_model(Classifier(before, model_ref="t@1", embedder=EMBEDDER), held_out)
    report_after = evaluate_model(Classifier(after, model_ref="t@2", embedder=EMBEDDER), held_out)

    def recall(report: Any, code: str) -> float | None:
        rows = [m for m in report.categories if m.category == code and m.language == "all"]
        return rows[0].recall if rows else None

    assert "tvec8" not in before.labels and recall(report_before, "tvec8") is None
    assert "tvec8" in after.labels and recall(report_after, "tvec8") == 1.0
    # The categories both versions know are still found.
    assert recall(report_after, "tvec6") == 1.0 and recall(report_before, "tvec6") == 1.0


def test_train_and_evaluate_holds_out_a_stratified_seeded_split() -> None:
    examples = examples_of(tiny_dataset(with_incitement_labels=True))
    first = split_examples(examples, test_fraction=0.25, seed=5)
    again = split_examples(examples, test_fraction=0.25, seed=5)
    other = split_examples(examples, test_fraction=0.25, seed=6)
    train, test = first

    assert first == again and first != other
    assert len(train) + len(test) == len(examples) and not set(train) & set(test)
    for code in ("tvec4", "tvec6", "tvec8"):
        for language in ("en", "fr"):
            assert any(code in e.labels and e.language == language for e in test)
            assert any(code in e.labels and e.language == language for e in train)
    trained = train_and_evaluate(examples, EMBEDDER, test_fraction=0.25, seed=5)
    assert trained.test_examples == len(test)
    assert trained.metrics()["evaluation"]["examples"] == len(test)


def test_an_explicit_split_column_wins() -> None:
    rows = tiny_dataset(with_incitement_labels=True, copies=2)
    for index, row in enumerate(rows):
        row["split"] = "test" if index < 5 else "train"
    train, test = split_examples(examples_of(rows))
    assert [e.line for e in test] == [1, 2, 3, 4, 5] and len(train) == len(rows) - 5


def test_language_thresholds_only_where_a_language_has_enough_positives() -> None:
    rows = []
    for i in range(training.MIN_LANGUAGE_POSITIVES):
        rows.append({"text": RECRUIT[i % 3].format(i=i), "labels": "tvec6", "language": "en"})
        rows.append({"text": BENIGN[i % 5].format(i=i), "labels": "", "language": "en"})
        rows.append({"text": BENIGN[(i + 1) % 5].format(i=i), "labels": "", "language": "en"})
    rows += [
        {"text": RECRUIT[i].format(i=99), "labels": "tvec6", "language": "fr"} for i in range(3)
    ]
    spec = train_heads(examples_of(rows), EMBEDDER, steps=150)
    (head,) = spec.heads

    assert set(head.language_thresholds) == {"en"}
    assert head.threshold_for("en") == (head.language_thresholds["en"], "language:en")
    assert head.threshold_for("fr") == (head.threshold, "global")
    assert head.threshold_for(None) == (head.threshold, "global")


def test_best_threshold_maximises_f1_between_scores() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.4, 0.3])
    truth = np.array([True, True, False, True, False])
    # Cutting below 0.4 gives tp=3, fp=1 (F1 6/7), better than below 0.8 (tp=2: F1 4/5).
    assert best_threshold(scores, truth) == pytest.approx(0.35)
    assert best_threshold(scores, np.zeros(5, dtype=bool)) == 0.5


def test_wilson_interval_matches_the_hand_computation() -> None:
    low, high = wilson(8, 10)
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    assert (low, high) == pytest.approx((centre - half, centre + half))
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)  # the textbook 8/10 interval
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(0, 5)[0] == 0.0 and wilson(5, 5)[1] == 1.0


def test_bootstrap_f1_is_seeded_and_degenerate_cases_are_exact() -> None:
    truth = np.array([True, True, False, False, True, False, True, False])
    predicted = np.array([True, False, False, True, True, False, True, False])
    assert bootstrap_f1(truth, predicted) == bootstrap_f1(truth, predicted)
    low, high = bootstrap_f1(truth, predicted)
    assert 0.0 <= low < 0.75 < high <= 1.0  # the point estimate (tp 3, fp 1, fn 1) lies inside
    assert bootstrap_f1(truth, truth) == (1.0, 1.0)


def test_evaluation_counts_and_hard_negative_rate_by_hand() -> None:
    def ex(labels: tuple[str, ...], language: str, hard: bool = False) -> Example:
        return Example("x", labels, language, hard)

    examples = [
        ex(("tvec7",), "en"),  # flagged tvec7: tp
        ex(("tvec7",), "en"),  # flagged: tp
        ex(("tvec7",), "fr"),  # flagged: tp
        ex(("tvec7",), "fr"),  # missed: fn
        ex((), "en"),  # flagged tvec7: fp
        ex((), "en", hard=True),  # flagged tvec7: a hard-negative false positive
        ex((), "en", hard=True),  # clean
        ex(("tvec01",), "fr", hard=True),  # flagged tvec01 only: review, not a false positive
        ex((), "fr", hard=True),  # clean
    ]
    labels = ["tvec01", "tvec7"]
    flags = np.array(
        [[0, 1], [0, 1], [0, 1], [0, 0], [0, 1], [0, 1], [0, 0], [1, 0], [0, 0]], dtype=bool
    )
    report = evaluate_flags(examples, labels, flags)
    rows = {(m.category, m.language): m for m in report.categories}
    praise = rows[("tvec7", "all")]

    assert (praise.tp, praise.fp, praise.fn) == (3, 2, 1)
    assert praise.precision == pytest.approx(3 / 5) and praise.recall == pytest.approx(3 / 4)
    assert praise.f1 == pytest.approx(2 * 3 / (2 * 3 + 2 + 1))
    assert praise.precision_ci == wilson(3, 5) and praise.recall_ci == wilson(3, 4)
    assert (rows[("tvec7", "fr")].tp, rows[("tvec7", "fr")].fn) == (1, 1)
    assert rows[("tvec01", "all")].tp == 1
    fpr = {r.language: (r.flagged, r.count) for r in report.hard_negative_fpr}
    assert fpr == {"all": (1, 4), "en": (1, 2), "fr": (0, 2)}
    assert report.hard_negative_fpr[0].ci == wilson(1, 4)
    review = {r.language: (r.flagged, r.count) for r in report.hard_negative_review_rate}
    assert review["fr"] == (1, 2)


def test_model_json_round_trip_scores_the_same() -> None:
    spec = train_heads(examples_of(tiny_dataset(with_incitement_labels=True)), EMBEDDER, steps=100)
    document = json.loads(json.dumps(spec.to_json()))
    again = ModelSpec.from_json(document)
    x = EMBEDDER.embed(["join the caliphate brothers", "lentil soup recipe"])

    assert np.allclose(spec.probabilities(x), again.probabilities(x), atol=1e-5)
    assert all(isinstance(v, float) for v in document["heads"][0]["weights"])
    with pytest.raises(InvalidInput, match="format"):
        ModelSpec.from_json({"format": "pickle"})


BAD_JSONL = "\n".join(
    [
        json.dumps({"text": "fine post", "labels": "tvec6"}),
        "{not json",
        json.dumps({"text": "unknown label", "labels": "tvec99"}),
        json.dumps({"text": "   ", "labels": ""}),
        json.dumps({"text": "hard but positive", "labels": "tvec7", "hard_negative": True}),
        json.dumps({"text": "mixed", "labels": ["tvec0", "tvec6"]}),
        json.dumps(["a list"]),
        json.dumps({"text": "bad split", "labels": "", "split": "dev"}),
    ]
)


def test_malformed_jsonl_reports_every_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(BAD_JSONL + "\n", "utf-8")
    with pytest.raises(ImportMalformed) as caught:
        load_examples(path)
    errors = caught.value.context["errors"]
    assert [e["line"] for e in errors] == [2, 3, 4, 5, 6, 7, 8]
    details = " | ".join(e["detail"] for e in errors)
    for phrase in ("not JSON", "unknown label 'tvec99'", "text is empty", "hard negative",
                   "cannot be combined", "not a JSON object", "split must be"):  # fmt: skip
        assert phrase in details


def test_malformed_csv_is_reported_with_line_numbers(tmp_path: Path) -> None:
    no_header = tmp_path / "a.csv"
    no_header.write_text("body,tags\nhello,tvec6\n", "utf-8")
    bad_rows = tmp_path / "b.csv"
    bad_rows.write_text(
        'text,labels,language,hard_negative\n"ok post",tvec6;tvec7,en,false\n'
        '"multi\nline post",tvec8,en,maybe\n,tvec6,en,\n"extra",tvec6,en,false,surplus\n',
        "utf-8",
    )
    with pytest.raises(ImportMalformed, match="lacks column"):
        load_examples(no_header)
    with pytest.raises(ImportMalformed) as caught:
        load_examples(bad_rows)
    assert [(e["line"], e["detail"][:12]) for e in caught.value.context["errors"]] == [
        (4, "hard_negativ"),
        (5, "text is empt"),
        (6, "more cells t"),
    ]


def test_good_csv_parses_labels_languages_and_flags(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text(
        'text,labels,language,hard_negative\none,"[""tvec6"", ""TVEC7""]",EN,yes\n'.replace(
            ",yes", ",no"
        )
        + "two,,,true\nthree,tvec0,ar,\n",
        "utf-8",
    )
    one, two, three = load_examples(path)
    assert (one.labels, one.language, one.hard_negative) == (("tvec6", "tvec7"), "en", False)
    assert (two.labels, two.language, two.hard_negative) == ((), "und", True)
    assert (three.labels, three.language, three.line) == ((), "ar", 4)


def test_huge_and_empty_files_are_refused_before_parsing(tmp_path: Path) -> None:
    huge = tmp_path / "huge.jsonl"
    huge.write_text(json.dumps({"text": "x" * 5000, "labels": ""}) + "\n", "utf-8")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", "utf-8")
    with pytest.raises(InvalidInput, match="limited to 1000"):
        load_examples(huge, max_bytes=1000)
    with pytest.raises(InvalidInput, match="no examples"):
        load_examples(empty)
    with pytest.raises(InvalidInput, match="cannot read"):
        load_examples(tmp_path / "missing.jsonl")
