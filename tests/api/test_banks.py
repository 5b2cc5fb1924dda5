"""Bank CRUD over HTTP, each change leaving an audit event naming the key that made it."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import ApiServer
from .helpers import create_bank, error_code


def _events(client: httpx.Client, action: str) -> list[dict[str, Any]]:
    response = client.get("/v1/audit", params={"action": action, "limit": 1000})
    assert response.status_code == 200
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def test_bank_lifecycle_is_audited_with_the_key_as_actor(api: ApiServer, bank_name: str) -> None:
    secret = api.make_key("banks:read", "banks:write")
    actor = f"key:{secret.split('_')[1]}"
    with api.client(secret) as writer, api.client() as admin:
        created = create_bank(
            writer,
            bank_name,
            description="attack footage",
            labels=["TVEC1", "tvec.6"],
            tlp="red",
            thresholds={"pdq": 20},
        )
        assert created["labels"] == ["tvec1", "tvec6"]
        assert created["kind"] == "positive"
        assert created["thresholds"] == {"pdq": 20.0}
        assert created["entry_count"] == 0

        listed = writer.get("/v1/banks").json()["banks"]
        assert bank_name in [bank["name"] for bank in listed]
        assert writer.get(f"/v1/banks/{bank_name}").json()["tlp"] == "red"

        renamed = f"{bank_name}-v2"
        changed = writer.patch(
            f"/v1/banks/{bank_name}",
            json={"name": renamed, "severity": "critical", "thresholds": {"pdq": None}},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["name"] == renamed
        assert changed.json()["severity"] == "critical"
        assert changed.json()["thresholds"] == {}  # null removed the override
        assert error_code(writer.get(f"/v1/banks/{bank_name}")) == "bank_not_found"

        disabled = writer.patch(f"/v1/banks/{renamed}", json={"enabled": False})
        assert disabled.json()["enabled"] is False

        deleted = writer.delete(f"/v1/banks/{renamed}")
        assert deleted.status_code == 204
        assert deleted.content == b""
        assert writer.get(f"/v1/banks/{renamed}").status_code == 404

        for action, target in [
            ("bank.create", bank_name),
            ("bank.update", renamed),
            ("bank.delete", renamed),
        ]:
            mine = [e for e in _events(admin, action) if e["target_id"] == target]
            assert mine, action
            assert {e["actor"] for e in mine} == {actor}
        verify = admin.get("/v1/audit/verify").json()
        assert verify["intact"] is True
        assert verify["events_checked"] >= 3


def test_bank_name_conflicts_and_bad_values_are_client_errors(
    client: httpx.Client, bank_name: str
) -> None:
    create_bank(client, bank_name)
    duplicate = client.post("/v1/banks", json={"name": bank_name})
    assert duplicate.status_code == 409
    assert error_code(duplicate) == "bank_exists"

    bad_label = client.post("/v1/banks", json={"name": f"{bank_name}-x", "labels": ["tvec99"]})
    assert bad_label.status_code == 400
    assert error_code(bad_label) == "invalid_input"

    bad_name = client.post("/v1/banks", json={"name": "no spaces allowed"})
    assert error_code(bad_name) == "invalid_input"

    bad_kind = client.post("/v1/banks", json={"name": f"{bank_name}-y", "kind": "sideways"})
    assert bad_kind.status_code == 422
    assert error_code(bad_kind) == "validation_error"
    assert bad_kind.json()["error"]["errors"][0]["loc"] == ["body", "kind"]

    typo = client.patch(f"/v1/banks/{bank_name}", json={"descripton": "typo"})
    assert error_code(typo) == "validation_error"

    bad_threshold = client.patch(f"/v1/banks/{bank_name}", json={"thresholds": {"pdq": 999}})
    assert error_code(bad_threshold) == "invalid_input"


def test_unknown_bank_is_404_everywhere(client: httpx.Client) -> None:
    for method, path in [
        ("GET", "/v1/banks/no-such-bank"),
        ("PATCH", "/v1/banks/no-such-bank"),
        ("DELETE", "/v1/banks/no-such-bank"),
        ("GET", "/v1/banks/no-such-bank/entries"),
        ("GET", "/v1/banks/no-such-bank/entries/1"),
    ]:
        response = client.request(method, path, json={} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path)
        assert error_code(response) == "bank_not_found"
    added = client.post(
        "/v1/banks/no-such-bank/entries", json=[{"signal_type": "md5", "value": "0" * 32}]
    )
    assert error_code(added) == "bank_not_found"
    imported = client.post(
        "/v1/banks/no-such-bank/import",
        content=b"signal_type,value\nmd5," + b"0" * 32,
        headers={"Content-Type": "text/csv"},
    )
    assert error_code(imported) == "bank_not_found"
