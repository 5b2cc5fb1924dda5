"""/v1/subscriptions, /v1/feedback and /v1/remote-collections over HTTP: routes, scopes, errors."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bastion.settings import Settings

from ..share.taxii_stub import COLLECTION, Answer, Stub, envelope, indicator, taxii_stub
from .conftest import ApiServer, serving


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """A server that may reach loopback partners, with no background poller (polls are explicit)."""
    data_dir: Path = tmp_path_factory.mktemp(f"subs-{request.param}")
    database_url = ""
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_database")
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        share_allow_private=True,
        share_poll_enabled=False,
    )
    with serving(settings) as api:
        yield api


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    with taxii_stub() as server:
        server.routes[("GET", "/api/")] = lambda _q, _b: Answer(
            200, json.dumps({"title": "stub", "versions": [], "max_content_length": 1}).encode()
        )
        server.routes[("GET", "/api/collections/")] = lambda _q, _b: Answer(
            200, json.dumps({"collections": [{"id": COLLECTION, "title": "t"}]}).encode()
        )
        server.routes[("POST", server.objects_path)] = lambda _q, _b: Answer(
            202, json.dumps({"id": "st-1", "status": "complete"}).encode()
        )
        yield server


def _partner_and_bank(server: ApiServer, stub: Stub) -> tuple[str, str]:
    partner, bank = f"p-{uuid.uuid4().hex[:8]}", f"b-{uuid.uuid4().hex[:8]}"
    bastion = server.bastion
    with bastion.db.session() as session:
        bastion.banks.create(session, name=bank, actor="test", source="partner")
        bastion.partners.create(
            session,
            name=partner,
            kind="taxii",
            url=stub.api_root,
            actor="test",
            credentials={"api_key": "k"},
        )
    return partner, bank


def test_subscription_lifecycle(server: ApiServer, stub: Stub) -> None:
    partner, bank = _partner_and_bank(server, stub)
    stub.pages(envelope([indicator(1), indicator(2)]))
    with server.client() as http:
        created = http.post(
            "/v1/subscriptions",
            json={"partner": partner, "bank": bank, "remote_collection": COLLECTION},
        )
        assert created.status_code == 201, created.text
        sub = created.json()
        assert (sub["require_signature"], sub["api_root"]) == (False, stub.api_root)
        again = http.post(
            "/v1/subscriptions",
            json={"partner": partner, "bank": bank, "remote_collection": COLLECTION},
        )
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "subscription_exists"
        assert sub["id"] in [s["id"] for s in http.get("/v1/subscriptions").json()["subscriptions"]]
        path = f"/v1/subscriptions/{sub['id']}"
        assert http.get(path).json()["remote_collection"] == COLLECTION

        report = http.post(f"{path}/poll").json()
        assert (report["added"], report["error_code"]) == (2, None)
        assert http.get(path).json()["entries_added"] == 2

        # Feedback about an entry the subscription brought: queued and sent at once.
        entries = http.get(f"/v1/banks/{bank}/entries").json()["entries"]
        sent = http.post(
            "/v1/feedback",
            json={"bank": bank, "entry_id": entries[0]["id"], "kind": "sighting"},
        )
        assert sent.status_code == 201, sent.text
        assert (sent.json()["status"], sent.json()["direction"]) == ("sent", "out")
        listed = http.get("/v1/feedback", params={"bank": bank, "direction": "out"}).json()
        assert [f["id"] for f in listed["feedback"]] == [sent.json()["id"]]

        changed = http.patch(path, json={"enabled": False, "interval_seconds": 60})
        assert (changed.json()["enabled"], changed.json()["interval_seconds"]) == (False, 60)
        refused = http.post(f"{path}/poll")
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "invalid_input"
        assert http.delete(path).status_code == 204
        assert http.get(path).json()["error"]["code"] == "subscription_not_found"


def test_a_failing_poll_reports_its_code(server: ApiServer, stub: Stub) -> None:
    partner, bank = _partner_and_bank(server, stub)
    stub.pages(Answer(401, b"{}"))
    with server.client() as http:
        sub = http.post(
            "/v1/subscriptions",
            json={"partner": partner, "bank": bank, "remote_collection": COLLECTION},
        ).json()
        report = http.post(f"/v1/subscriptions/{sub['id']}/poll")
        assert report.status_code == 200
        assert report.json()["error_code"] == "remote_refused"
        assert http.get(f"/v1/subscriptions/{sub['id']}").json()["last_error_code"] == (
            "remote_refused"
        )


def test_remote_collections(server: ApiServer, stub: Stub) -> None:
    partner, _bank = _partner_and_bank(server, stub)
    with server.client() as http:
        found = http.get("/v1/remote-collections", params={"partner": partner}).json()
        assert [c["id"] for c in found["collections"]] == [COLLECTION]
        missing = http.get("/v1/remote-collections", params={"partner": "nobody"})
        assert missing.json()["error"]["code"] == "partner_not_found"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/subscriptions", None),
        ("POST", "/v1/subscriptions", {"partner": "x", "bank": "y", "remote_collection": "z"}),
        ("GET", "/v1/subscriptions/1", None),
        ("PATCH", "/v1/subscriptions/1", {"enabled": True}),
        ("DELETE", "/v1/subscriptions/1", None),
        ("POST", "/v1/subscriptions/1/poll", None),
        ("GET", "/v1/feedback", None),
        ("POST", "/v1/feedback", {"bank": "b", "entry_id": 1, "kind": "sighting"}),
        ("GET", "/v1/remote-collections?partner=x", None),
    ],
)
def test_scopes(server: ApiServer, method: str, path: str, body: object) -> None:
    write = method != "GET"
    wrong = server.make_key("share:write" if not write else "share:read")
    with server.client("") as anonymous:
        assert anonymous.request(method, path, json=body).status_code == 401
    with server.client(wrong) as http:
        answer = http.request(method, path, json=body)
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "forbidden"


def test_bad_input(server: ApiServer, stub: Stub) -> None:
    partner, bank = _partner_and_bank(server, stub)
    with server.client() as http:
        typo = http.post(
            "/v1/subscriptions",
            json={"partner": partner, "bank": bank, "remote_colection": COLLECTION},
        )
        assert typo.status_code == 422 and typo.json()["error"]["code"] == "validation_error"
        no_bank = http.post(
            "/v1/subscriptions",
            json={"partner": partner, "bank": "nope", "remote_collection": COLLECTION},
        )
        assert no_bank.json()["error"]["code"] == "bank_not_found"
        slow = http.post(
            "/v1/subscriptions",
            json={
                "partner": partner,
                "bank": bank,
                "remote_collection": COLLECTION,
                "interval_seconds": 1,
            },
        )
        assert slow.json()["error"]["code"] == "invalid_input"
        kind = http.post("/v1/feedback", json={"bank": bank, "entry_id": 1, "kind": "like"})
        assert kind.json()["error"]["code"] == "validation_error"
        assert http.get("/v1/feedback", params={"direction": "sideways"}).status_code == 422
        assert http.get("/v1/subscriptions/notanumber").status_code == 422
        own = http.post(
            f"/v1/banks/{bank}/entries", json=[{"signal_type": "md5", "value": "e" * 32}]
        )
        assert own.status_code == 201, own.text
        entry_id = own.json()["entries"][0]["id"]
        mine = http.post(
            "/v1/feedback", json={"bank": bank, "entry_id": entry_id, "kind": "sighting"}
        )
        assert mine.status_code == 400 and mine.json()["error"]["code"] == "invalid_input"
        elsewhere = http.post(
            "/v1/feedback", json={"bank": "other", "entry_id": entry_id, "kind": "sighting"}
        )
        assert elsewhere.json()["error"]["code"] == "bank_entry_not_found"
