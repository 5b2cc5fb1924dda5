"""The policy model: defaults, normalisation, and bad policies refused with the field path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bastion.classify.entities import KNOWN_LISTS
from bastion.decide import DEFAULT_POLICY, Policy, parse_policy
from bastion.errors import InvalidInput


def test_empty_policy_is_the_default() -> None:
    assert parse_policy({}) == DEFAULT_POLICY == Policy()


def test_defaults() -> None:
    rule = DEFAULT_POLICY.auto_action
    assert rule.enabled and not rule.variants
    assert [s.value for s in rule.sources] == ["local"]
    assert [s.value for s in rule.severities] == ["high", "critical"]
    assert rule.max_distance == {"md5": 0, "sha256": 0, "pdq": 10, "text_sha256": 0}
    assert rule.vpdq_min_percent == 90
    assert DEFAULT_POLICY.threat_to_life.codes == ["tvec2"]
    assert DEFAULT_POLICY.threat_to_life.priority == 100
    assert DEFAULT_POLICY.threat_to_life.escalate
    assert DEFAULT_POLICY.exception.review
    assert tuple(DEFAULT_POLICY.entities.lists) == KNOWN_LISTS


def test_json_round_trip() -> None:
    data = DEFAULT_POLICY.to_json()
    assert data["schema_version"] == 1
    assert parse_policy(data) == DEFAULT_POLICY


def test_codes_are_normalised() -> None:
    policy = parse_policy({"threat_to_life": {"codes": ["TVEC.2", "tvec8"]}})
    assert policy.threat_to_life.codes == ["tvec2", "tvec8"]


@pytest.mark.parametrize(
    ("data", "path", "words"),
    [
        ({"auto_actions": {}}, "auto_actions", "Extra inputs"),
        (
            {"auto_action": {"max_distance": {"pdqq": 3}}},
            "auto_action.max_distance.pdqq",
            "unknown signal type 'pdqq'",
        ),
        (
            {"auto_action": {"max_distance": {"pdq": -1}}},
            "auto_action.max_distance.pdq",
            "greater than or equal to 0",
        ),
        ({"auto_action": {"max_distance": {"vpdq": 3}}}, "auto_action", "vpdq_min_percent"),
        ({"auto_action": {"sources": ["friends"]}}, "auto_action.sources[0]", "local"),
        ({"auto_action": {"banks": [" "]}}, "auto_action.banks[0]", "cannot be empty"),
        ({"auto_action": {"vpdq_min_percent": 120}}, "auto_action.vpdq_min_percent", "100"),
        (
            {"threat_to_life": {"codes": ["tvec9"]}},
            "threat_to_life.codes[0]",
            "unknown label 'tvec9'",
        ),
        ({"threat_to_life": {"priority": 101}}, "threat_to_life.priority", "100"),
        ({"classifier": {"weights": {"tvec01": 50}}}, "classifier", "not a harm category"),
        ({"classifier": {"weights": {"tvec7": "high"}}}, "classifier.weights.tvec7", "integer"),
        (
            {"matches": {"severity_priority": {"urgent": 90}}},
            "matches.severity_priority.urgent",
            "low",
        ),
        ({"entities": {"lists": ["XX"]}}, "entities.lists[0]", "US-FTO"),
        ({"entities": {"kinds": ["person"]}}, "entities.kinds[0]", "organisation"),
        ({"schema_version": 2}, "schema_version", "1"),
    ],
)
def test_bad_policies_are_refused_with_the_field_path(
    data: dict[str, Any], path: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_policy(data)
    error = caught.value
    assert error.code == "invalid_input"
    assert error.context["field"] == path
    assert words in error.detail
    assert error.detail.startswith(f"policy field {path!r}: ")
    assert error.context["errors"][0]["field"] == path


def test_every_problem_is_listed() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_policy({"x": 1, "threat_to_life": {"priority": -5}})
    fields = sorted(item["field"] for item in caught.value.context["errors"])
    assert fields == ["threat_to_life.priority", "x"]


def test_a_policy_is_an_object() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_policy(["pdq"])
    assert caught.value.context["field"] == "policy"


def test_policy_is_immutable() -> None:
    with pytest.raises(Exception, match="frozen"):
        DEFAULT_POLICY.auto_action.enabled = False  # type: ignore[misc]


def test_the_documented_example_is_a_valid_policy() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "decisions.md").read_text()
    example = json.loads(doc.split("```json\n", 1)[1].split("```", 1)[0])
    policy = parse_policy(example)
    assert policy.auto_action.banks == ["crisis-2026-03"]
    assert policy.classifier == DEFAULT_POLICY.classifier
