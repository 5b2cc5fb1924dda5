"""Review over HTTP: a scan opens a case, the queue hands it out, a decision is made once and
delivered to the platform as a signed webhook, an appeal goes to another reviewer, policies
are versioned; every route needs its scope."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from bastion.demo.media import make_photo
from bastion.settings import Settings
from tests.act.test_webhook import SECRET, Receiver, receiver
from tests.api.conftest import ApiServer, serving
from tests.api.helpers import error_code, upload


@pytest.fixture(scope="module")
def platform() -> Iterator[Receiver]:
    with receiver() as hook:
        yield hook


@pytest.fixture(scope="module")
def server(platform: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("api-review"),
        action_webhook_url=platform.url,
        action_webhook_secret=SECRET,
        action_webhook_allow_private=True,
        action_delivery_interval_seconds=0.2,
    )
    with serving(settings) as api:
        yield api


def _open_case(server: ApiServer, seed: int) -> dict[str, Any]:
    photo = make_photo(seed)
    bank = f"partner-{seed}"
    with server.client() as client:
        assert client.post("/v1/banks", json={"name": bank, "source": "partner"}).status_code == 201
        banked = upload(client, f"/v1/banks/{bank}/entries/media", photo)
        assert banked.status_code == 201, banked.text
        scanned = upload(client, "/v1/scan", photo)
        assert scanned.status_code == 200, scanned.text
        result: dict[str, Any] = scanned.json()
    assert result["verdict"]["action"] == "review" and result["case_id"], result["verdict"]
    return result


def test_a_scanned_match_is_queued_taken_decided_once_and_delivered(
    server: ApiServer, platform: Receiver
) -> None:
    case_id = _open_case(server, 951)["case_id"]
    reviewer = server.make_key("cases:read", "cases:write")
    with server.client(reviewer) as client:
        queue = client.get("/v1/queue").json()
        assert case_id in [c["id"] for c in queue["cases"]] and queue["stats"]["open"] >= 1
        taken = client.post("/v1/queue/next")
        assert taken.status_code == 200 and taken.json()["id"] == case_id
        case = taken.json()
        assert case["assigned_to"].startswith("key:") and case["due_at"]
        stale = client.post(
            f"/v1/cases/{case_id}/decisions",
            json={"outcome": "confirm", "version": case["version"] - 1},
        )
        assert stale.status_code == 409 and error_code(stale) == "decision_conflict"
        decided = client.post(
            f"/v1/cases/{case_id}/decisions",
            json={
                "outcome": "confirm",
                "version": case["version"],
                "labels": ["tvec3"],
                "rationale": "Recruitment material.",
            },
        )
        assert decided.status_code == 201, decided.text
        again = client.post(
            f"/v1/cases/{case_id}/decisions",
            json={"outcome": "false_positive", "version": case["version"] + 1},
        )
        assert again.status_code == 409 and error_code(again) == "case_closed"
        history = client.get(f"/v1/cases/{case_id}/decisions").json()["decisions"]
        assert [d["outcome"] for d in history] == ["confirm"]

    def delivered() -> list[Any]:
        return [
            d
            for d in platform.deliveries
            if d.event == "case.decided" and d.json()["data"]["case_id"] == case_id
        ]

    deadline = time.monotonic() + 30
    while not delivered() and time.monotonic() < deadline:
        time.sleep(0.1)
    [delivery] = delivered()
    data = delivery.json()["data"]
    assert delivery.verified and data["payload"]["action"] == "remove"
    assert data["idempotency_key"] == f"decision:{decided.json()['id']}"
    with server.client() as admin:
        [action] = admin.get("/v1/actions", params={"case_id": case_id}).json()["actions"]
    assert action["status"] == "delivered" and action["attempts"] == 1


def test_an_appeal_needs_another_reviewer_and_a_reversal_restores(server: ApiServer) -> None:
    case_id = _open_case(server, 952)["case_id"]
    first = server.make_key("cases:read", "cases:write")
    second = server.make_key("cases:read", "cases:write")
    platform_key = server.make_key("appeals:write")
    with server.client(first) as client:
        version = client.get(f"/v1/cases/{case_id}").status_code  # cases:read is enough
        assert version == 200
        case = client.get("/v1/queue").json()["cases"]
        current = next(c for c in case if c["id"] == case_id)["version"]
        assert (
            client.post(
                f"/v1/cases/{case_id}/decisions", json={"outcome": "confirm", "version": current}
            ).status_code
            == 201
        )
    with server.client(platform_key) as client:
        appealed = client.post(
            f"/v1/cases/{case_id}/appeals",
            json={"complaint": "It is a news report.", "submitted_by": "user-77"},
        )
        assert appealed.status_code == 201 and appealed.json()["status"] == "open"
    with server.client(first) as client:
        reopened = next(c for c in client.get("/v1/queue").json()["cases"] if c["id"] == case_id)
        same = client.post(
            f"/v1/cases/{case_id}/decisions",
            json={"outcome": "false_positive", "version": reopened["version"]},
        )
        assert same.status_code == 403 and error_code(same) == "appeal_needs_another_reviewer"
    with server.client(second) as client:
        reversed_ = client.post(
            f"/v1/cases/{case_id}/decisions",
            json={"outcome": "false_positive", "version": reopened["version"]},
        )
        assert reversed_.status_code == 201
        assert reversed_.json()["effects"]["appeal"]["status"] == "reversed"
    with server.client() as admin:
        actions = admin.get("/v1/actions", params={"case_id": case_id}).json()["actions"]
    assert [a["payload"]["action"] for a in actions] == ["restore", "remove"]


def test_policies_are_validated_versioned_and_activated(server: ApiServer) -> None:
    with server.client() as client:
        default = client.get("/v1/policies/active").json()
        assert default["version"] == 0 and default["rules"]
        bad = client.post("/v1/policies", json={"rules": {"auto_action": {"nope": 1}}})
        assert bad.status_code == 400 and error_code(bad) == "invalid_input"
        assert "auto_action" in bad.json()["error"]["field"]
        made = client.post("/v1/policies", json={"rules": {}, "note": "defaults", "activate": True})
        assert made.status_code == 201 and made.json()["active"] is True
        assert client.get("/v1/policies/active").json()["version"] == made.json()["version"]
        missing = client.post("/v1/policies/999/activate")
        assert missing.status_code == 404 and error_code(missing) == "policy_not_found"


def test_review_routes_need_their_scopes(server: ApiServer) -> None:
    reader = server.make_key("cases:read")
    with server.client(reader) as client:
        assert client.get("/v1/queue").status_code == 200
        denied = client.post("/v1/queue/next")
        assert denied.status_code == 403
        assert denied.json()["error"]["required_scope"] == "cases:write"
        assert (
            client.post(
                "/v1/cases/1/appeals", json={"complaint": "x", "submitted_by": "u"}
            ).status_code
            == 403
        )
        assert client.get("/v1/actions").status_code == 403
        assert client.post("/v1/policies", json={"rules": {}}).status_code == 403
    with server.client("") as anonymous:
        for path in ("/v1/queue", "/v1/actions", "/v1/policies"):
            assert anonymous.get(path).status_code == 401


def test_labelled_decisions_are_exported_as_training_labels(server: ApiServer) -> None:
    case_id = _open_case(server, 953)["case_id"]
    with server.client() as client:
        current = next(c for c in client.get("/v1/queue").json()["cases"] if c["id"] == case_id)
        decided = client.post(
            f"/v1/cases/{case_id}/decisions",
            json={"outcome": "false_positive", "version": current["version"], "labels": ["tvec1"]},
        )
        assert decided.status_code == 201
        labels = client.get("/v1/training-labels").json()["labels"]
    mine = next(item for item in labels if item["decision_id"] == decided.json()["id"])
    assert mine["labels"] == ["tvec1"] and mine["harmful"] is False and mine["content_id"]
