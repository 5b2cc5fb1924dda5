"""Two Bastion instances on loopback share a crisis bank, match, and give feedback.

A publishes the crisis bank of an incident over TAXII (green entries, and one entry marked red);
B subscribes through its background poller with signature checks, matches uploads against A's
green entries, never receives the red one, and its reviewers' verdicts travel back to A as a
sighting (confirmed) and a dispute (false positive), which A shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bastion.banks.records import NewEntry
from bastion.demo.media import make_photo
from bastion.settings import Settings
from bastion.share.signing import InstanceIdentity, TrustStore
from bastion.signals.base import HashLimits
from bastion.signals.pdq import hash_photo

from ..api.conftest import ApiServer, serving
from ..web.conftest import WebSite

DEADLINE_SECONDS = 60.0


def _pdq(photo: bytes) -> str:
    signal, _ = hash_photo(photo, HashLimits())
    return signal.value


def _wait_for(what: str, check: Callable[[], Any]) -> Any:
    """Poll ``check`` until it returns something truthy; the deadline only bounds a failure."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def org_a(tmp_path: Path) -> Iterator[ApiServer]:
    with serving(Settings(data_dir=tmp_path / "a")) as server:
        yield server


@pytest.fixture
def org_b(tmp_path: Path, database_url: str) -> Iterator[ApiServer]:
    settings = Settings(
        data_dir=tmp_path / "b",
        database_url=database_url,
        share_allow_private=True,  # A is on loopback
        share_poll_interval_seconds=1,
    )
    with serving(settings) as server:
        yield server


def _scan(server: ApiServer, photo: bytes) -> dict[str, Any]:
    with server.client() as http:
        response = http.post("/v1/scan", files={"file": ("upload.jpg", photo, "image/jpeg")})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_two_instances_share_match_and_give_feedback(org_a: ApiServer, org_b: ApiServer) -> None:
    photos = {name: make_photo(seed) for name, seed in (("g1", 8101), ("g2", 8102), ("red", 8103))}
    # --- A: an incident's crisis bank, green, with one entry its owner marked red ---------------
    a = org_a.bastion
    with a.db.session() as session:
        incident = a.incidents.declare(
            session, name="attack-1", actor="test", labels=["tvec2"], tlp="green"
        )
        a.banks.add_entries(
            session,
            incident.bank,
            [
                NewEntry("pdq", _pdq(photos["g1"]), note="attack footage, frame 1"),
                NewEntry("pdq", _pdq(photos["g2"]), note="attack footage, frame 2"),
                NewEntry("pdq", _pdq(photos["red"]), note="victim visible", tlp="red"),
            ],
            actor="test",
        )
        key_for_b = a.keys.create(
            session, name="org-b", scopes=["taxii:read", "taxii:write"], actor="test"
        )
        a.partners.create(
            session, name="org-b", kind="bastion", actor="test", api_key=key_for_b.info.prefix
        )
        a.partners.grant(session, "org-b", incident.bank, actor="test", can_write=True)
    a_public_key = InstanceIdentity.load_or_create(a.settings.data_dir).public_key

    # --- B: trust A's key, register A, subscribe a partner bank to the crisis collection -----
    with org_b.client() as b_http:
        added = b_http.post(
            "/v1/banks",
            json={"name": "from-org-a", "tlp": "green", "source": "partner", "labels": ["tvec2"]},
        )
        assert added.status_code == 201, added.text
        TrustStore.open(org_b.bastion.settings.data_dir).add("org-a", a_public_key)
        partner = b_http.post(
            "/v1/partners",
            json={
                "name": "org-a",
                "kind": "bastion",
                "url": f"{org_a.base_url}/taxii2/api/",
                "signer": "org-a",
                "credentials": {"api_key": key_for_b.secret},
            },
        )
        assert partner.status_code == 201, partner.text
        assert partner.json()["credentials"] == ["api_key"]
        assert key_for_b.secret not in partner.text
        remote = b_http.get("/v1/remote-collections", params={"partner": "org-a"})
        assert remote.status_code == 200, remote.text
        collections = {c["title"]: c["id"] for c in remote.json()["collections"]}
        assert set(collections) == {incident.bank}  # only what A granted B
        subscribed = b_http.post(
            "/v1/subscriptions",
            json={
                "partner": "org-a",
                "bank": "from-org-a",
                "remote_collection": collections[incident.bank],
                "interval_seconds": 10,
            },
        )
        assert subscribed.status_code == 201, subscribed.text
        assert subscribed.json()["require_signature"] is True

    # --- B matches uploads against A's green entries once its poller has run --------------------
    first = _wait_for("B to match A's green entry", lambda: _scan(org_b, photos["g1"])["matched"])
    assert first
    matched = _scan(org_b, photos["g1"])
    assert matched["matches"][0]["bank"] == "from-org-a"
    assert matched["case_id"] is not None
    # The red entry never reached B: no match, and B's bank holds the two green entries only.
    assert _scan(org_b, photos["red"])["matched"] is False
    with org_b.bastion.db.session() as session:
        held = org_b.bastion.banks.list_entries(session, "from-org-a")
    assert sorted(e.note for e in held) == ["attack footage, frame 1", "attack footage, frame 2"]
    assert all(e.added_by == "partner:org-a" for e in held)

    # --- B's reviewers decide: a confirmation (sighting) and a false positive (dispute) --------
    disputed = _scan(org_b, photos["g2"])
    assert disputed["matched"] and disputed["case_id"] is not None
    with org_b.client() as b_http:
        for case_id, outcome in (
            (matched["case_id"], "confirm"),
            (disputed["case_id"], "false_positive"),
        ):
            case = b_http.get(f"/v1/cases/{case_id}").json()
            decided = b_http.post(
                f"/v1/cases/{case_id}/decisions",
                json={"outcome": outcome, "version": case["version"], "rationale": "test"},
            )
            assert decided.status_code == 201, decided.text

    # --- A shows both, from org-b, on the right entries -------------------------------------
    def received() -> list[dict[str, Any]]:
        with org_a.client() as a_http:
            body = a_http.get("/v1/feedback", params={"direction": "in"}).json()
        found: list[dict[str, Any]] = body["feedback"]
        return found if len(found) >= 2 else []

    feedback = _wait_for("A to receive B's sighting and dispute", received)
    kinds = sorted((f["kind"], f["opinion"] or "", f["partner"]) for f in feedback)
    assert kinds == [("opinion", "disagree", "org-b"), ("sighting", "", "org-b")]
    with a.db.session() as session:
        by_note = {e.id: e.note for e in a.banks.list_entries(session, incident.bank)}
    assert sorted(by_note[f["entry_id"]] for f in feedback) == [
        "attack footage, frame 1",
        "attack footage, frame 2",
    ]
    with org_b.client() as b_http:
        sent = b_http.get("/v1/feedback", params={"direction": "out"}).json()["feedback"]
    assert sorted(f["status"] for f in sent) == ["sent", "sent"]
    # A's analysts see them on the sharing page, against org-b.
    site = WebSite(org_a)
    browser = site.login(site.user("analyst"))
    try:
        page = browser.get("/ui/sharing")
    finally:
        browser.close()
    assert page.status_code == 200
    assert "org-b" in page.text and "dispute" in page.text and "sighting" in page.text
    # What was shared with whom, on both sides.
    with org_a.client() as a_http:
        events = a_http.get("/v1/share-events", params={"partner": "org-b"}).json()["events"]
    assert events and all(e["direction"] == "out" and e["bank"] == incident.bank for e in events)
    assert sum(e["objects"] for e in events) >= 2
