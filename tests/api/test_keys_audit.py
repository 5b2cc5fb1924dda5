"""API keys (admin) and the audit log (audit:read) over HTTP."""

from __future__ import annotations

import httpx

from .conftest import ApiServer
from .helpers import error_code


def test_key_lifecycle(api: ApiServer, client: httpx.Client) -> None:
    created = client.post("/v1/keys", json={"name": "ingest worker", "scopes": ["scan"]})
    assert created.status_code == 201, created.text
    body = created.json()
    secret, prefix = body["secret"], body["key"]["prefix"]
    assert secret.startswith(f"bst_{prefix}_")
    assert body["key"]["scopes"] == ["scan"]

    listed = client.get("/v1/keys").json()["keys"]
    mine = next(k for k in listed if k["prefix"] == prefix)
    assert "secret" not in mine
    assert secret not in client.get("/v1/keys").text

    with api.client(secret) as worker:
        assert worker.get("/v1/signal-types").status_code == 200
        revoked = client.delete(f"/v1/keys/{prefix}")
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        assert error_code(worker.get("/v1/signal-types")) == "unauthorized"

    assert prefix not in [k["prefix"] for k in client.get("/v1/keys").json()["keys"]]
    with_revoked = client.get("/v1/keys", params={"include_revoked": True}).json()["keys"]
    assert prefix in [k["prefix"] for k in with_revoked]

    unknown = client.delete("/v1/keys/00000000")
    assert (unknown.status_code, error_code(unknown)) == (404, "api_key_not_found")
    bad_scope = client.post("/v1/keys", json={"name": "x", "scopes": ["root"]})
    assert (bad_scope.status_code, error_code(bad_scope)) == (400, "invalid_input")
    expired = client.post(
        "/v1/keys",
        json={"name": "old", "scopes": ["scan"], "expires_at": "2001-01-01T00:00:00Z"},
    ).json()
    with api.client(expired["secret"]) as late:
        assert error_code(late.get("/v1/signal-types")) == "unauthorized"


def test_audit_log_pages_and_verifies(api: ApiServer, client: httpx.Client) -> None:
    for n in range(3):
        client.post("/v1/keys", json={"name": f"audit-probe-{n}", "scopes": ["scan"]})
    auditor = api.make_key("audit:read")
    with api.client(auditor) as http:
        first = http.get("/v1/audit", params={"action": "key.create", "limit": 2}).json()
        assert [e["action"] for e in first["events"]] == ["key.create", "key.create"]
        assert first["events"][0]["id"] > first["events"][1]["id"]  # newest first
        older = http.get(
            "/v1/audit",
            params={"action": "key.create", "limit": 2, "before_id": first["next_before_id"]},
        ).json()
        assert older["events"][0]["id"] < first["events"][1]["id"]
        assert all(len(e["hash"]) == 64 for e in first["events"])
        report = http.get("/v1/audit/verify").json()
        assert report == {
            "events_checked": report["events_checked"],
            "intact": True,
            "first_broken_id": None,
        }
