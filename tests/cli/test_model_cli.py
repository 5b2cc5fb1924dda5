"""``bastion model ...``: train, evaluate, list, activate and export on a temporary database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.classify import training
from tests.classify.test_training import BAD_JSONL, tiny_dataset, write_jsonl

from .conftest import Invoke


def test_train_evaluate_list_activate(cli: Invoke, tmp_path: Path) -> None:
    old = write_jsonl(tmp_path / "old.jsonl", tiny_dataset(with_incitement_labels=False))
    new = write_jsonl(tmp_path / "new.jsonl", tiny_dataset(with_incitement_labels=True))
    held_out = write_jsonl(
        tmp_path / "held.jsonl", tiny_dataset(with_incitement_labels=True, copies=2)
    )

    first = cli("model", "train", str(old), "--embedder", "hashing", "--activate", "--json")
    second = cli("model", "train", str(new), "--embedder", "hashing", "-f", "table")
    assert first.exit_code == 0, first.stderr
    assert second.exit_code == 0, second.stderr
    document = json.loads(first.stdout)
    assert document["model"] == {**document["model"], "name": "tvec-text", "version": 1}
    assert document["metrics"]["evaluation"]["hard_negative_fpr"][0]["language"] == "all"
    assert "precision" in second.stdout and "hard negatives" in second.stdout
    assert "stored tvec-text@2" in second.stderr

    def incitement_recall(ref: str) -> float | None:
        result = cli("model", "evaluate", str(held_out), "--model", ref, "--json")
        assert result.exit_code == 0, result.stderr
        rows = [
            m for m in json.loads(result.stdout)["categories"]
            if m["category"] == "tvec8" and m["language"] == "all"
        ]  # fmt: skip
        return rows[0]["recall"] if rows else None

    assert incitement_recall("tvec-text@1") is None  # v1 never learnt tvec8
    assert incitement_recall("tvec-text@2") == 1.0

    listed = json.loads(cli("model", "list", "--json").stdout)
    assert [(m["version"], m["active"]) for m in listed] == [(1, True), (2, False)]
    switched = cli("model", "activate", "tvec-text@2", "--json")
    assert switched.exit_code == 0 and json.loads(switched.stdout)["active"] is True
    listed = json.loads(cli("model", "list", "--json").stdout)
    assert [(m["version"], m["active"]) for m in listed] == [(1, False), (2, True)]
    table = cli("model", "evaluate", str(held_out))  # the active version, as Rich tables
    assert table.exit_code == 0 and "tvec-text@2" in table.stdout and "95% CI" in table.stdout

    exported = tmp_path / "model.json"
    assert cli("model", "export", "tvec-text@2", str(exported)).exit_code == 0
    assert json.loads(exported.read_text())["version"] == 2
    actions = [e["action"] for e in json.loads(cli("audit", "list", "-f", "json").stdout)]
    assert actions[:2] == ["model.activate", "model.train"]


def test_bad_data_and_references_are_input_errors(cli: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(BAD_JSONL + "\n", "utf-8")
    result = cli("model", "train", str(bad), "--embedder", "hashing")
    unknown_embedder = cli("model", "train", str(bad), "--embedder", "bert")
    missing = cli("model", "activate", "tvec-text@7")
    no_version = cli("model", "activate", "tvec-text")

    assert result.exit_code == 2
    assert "error: import_malformed: 7 bad row(s) in bad.jsonl" in result.stderr
    assert "line 3: import_malformed: unknown label 'tvec99'" in result.stderr
    assert "line 4: import_malformed: text is empty" in result.stderr
    assert unknown_embedder.exit_code == 2 and "unknown embedder" in unknown_embedder.stderr
    assert missing.exit_code == 2 and "classifier_model_not_found" in missing.stderr
    assert no_version.exit_code == 2 and "NAME@VERSION" in no_version.stderr


def test_a_huge_file_is_refused(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(training, "MAX_DATA_BYTES", 2048)
    path = write_jsonl(tmp_path / "big.jsonl", tiny_dataset(with_incitement_labels=True))
    result = cli("model", "train", str(path), "--embedder", "hashing")
    assert result.exit_code == 2 and "limited to 2048" in result.stderr


def test_list_is_empty_before_training(cli: Invoke) -> None:
    result = cli("model", "list")
    assert result.exit_code == 0 and "the starter serves" in result.stderr
