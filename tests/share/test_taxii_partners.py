"""The TAXII server with partners: grants, revoked indicators, signed pages, POST with status
resources, feedback, share events and TAXII errors for unknown paths."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from taxii2client.v21 import Collection

from bastion.api.routers.taxii import collection_id, instance_of
from bastion.api.routers.taxii_protocol import TAXII_MEDIA_TYPE
from bastion.banks.records import EntryInfo, NewEntry, Tlp
from bastion.errors import InvalidInput, SignatureInvalid, SignerUntrusted
from bastion.settings import Settings
from bastion.share import stix
from bastion.share.signing import InstanceIdentity, TrustStore, verify_bundle
from bastion.storage.share_models import FeedbackRow, ShareEventRow, TaxiiStatusRow

from ..api.conftest import ApiServer, serving


def _md5(n: int) -> str:
    return f"{n:032x}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    data_dir: Path = tmp_path_factory.mktemp("taxii-partners")
    with serving(Settings(data_dir=data_dir)) as api:
        bastion = api.bastion
        with bastion.db.session() as session:
            for name, tlp in (
                ("crisis-green", "green"),
                ("other-green", "green"),
                ("crisis-amber", "amber"),
                ("crisis-red", "red"),
                ("partner-inbox", "amber"),
            ):
                bastion.banks.create(session, name=name, actor="test", tlp=tlp)
            for bank, base in (("crisis-green", 100), ("crisis-amber", 200), ("crisis-red", 300)):
                entries = [NewEntry("md5", _md5(base + n), labels=["tvec2"]) for n in range(3)]
                bastion.banks.add_entries(session, bank, entries, actor="test")
        yield api


class Partner:
    def __init__(self, api: ApiServer, name: str, *, amber: bool = False) -> None:
        self.api = api
        self.name = name
        bastion = api.bastion
        with bastion.db.session() as session:
            created = bastion.keys.create(
                session, name=name, scopes=["taxii:read", "taxii:write"], actor="test"
            )
            bastion.partners.create(
                session,
                name=name,
                kind="bastion",
                actor="test",
                api_key=created.info.prefix,
                amber=amber,
            )
        self.secret = created.secret

    def grant(self, bank: str, *, read: bool = True, write: bool = False) -> None:
        with self.api.bastion.db.session() as session:
            self.api.bastion.partners.grant(
                session, self.name, bank, actor="test", can_read=read, can_write=write
            )

    def http(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.secret}", "Accept": TAXII_MEDIA_TYPE}
        return httpx.Client(base_url=self.api.base_url, headers=headers, timeout=30)


def _cid(api: ApiServer, bank: str) -> str:
    return collection_id(instance_of(api.bastion).name, bank)


def _titles(partner: Partner) -> set[str]:
    with partner.http() as http:
        body = http.get("/taxii2/api/collections/").json()
    return {c["title"] for c in body.get("collections", [])}


def test_a_partner_sees_only_its_grants_and_tlp_still_applies(server: ApiServer) -> None:
    partner = Partner(server, f"p-{uuid.uuid4().hex[:8]}")
    assert _titles(partner) == set()
    partner.grant("crisis-green")
    partner.grant("crisis-amber")
    # Amber needs a named (amber) partner even when granted.
    assert _titles(partner) == {"crisis-green"}
    with server.bastion.db.session() as session:
        server.bastion.partners.update(session, partner.name, actor="test", amber=True)
    assert _titles(partner) == {"crisis-green", "crisis-amber"}
    with partner.http() as http:
        for bank in ("other-green", "crisis-red"):  # not granted; red is never served
            assert http.get(f"/taxii2/api/collections/{_cid(server, bank)}/").status_code == 404
    with (
        server.bastion.db.session() as session,
        pytest.raises(InvalidInput, match="TLP:RED"),
    ):
        server.bastion.partners.grant(session, partner.name, "crisis-red", actor="test")


def test_pages_are_signed_by_the_instance(server: ApiServer, tmp_path: Path) -> None:
    partner = Partner(server, f"sig-{uuid.uuid4().hex[:8]}")
    partner.grant("crisis-green")
    with partner.http() as http:
        response = http.get(f"/taxii2/api/collections/{_cid(server, 'crisis-green')}/objects/")
    assert response.status_code == 200
    header = response.headers["X-Bastion-Signature"]
    envelope = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
    trust = TrustStore.open(tmp_path)
    with pytest.raises(SignerUntrusted):
        verify_bundle(response.content, envelope, trust)
    me = InstanceIdentity.load_or_create(server.bastion.settings.data_dir)
    trust.add("server", me.public_key)
    assert verify_bundle(response.content, envelope, trust).name == "server"
    with pytest.raises(SignatureInvalid):
        verify_bundle(response.content.replace(b"tvec2", b"tvec3"), envelope, trust)


def test_removed_entries_become_revoked_indicators(server: ApiServer) -> None:
    bastion = server.bastion
    with bastion.db.session() as session:
        bastion.banks.create(session, name="revoking", actor="test", tlp="green")
        added = bastion.banks.add_entries(
            session, "revoking", [NewEntry("md5", _md5(500 + n)) for n in range(4)], actor="test"
        ).added
    partner = Partner(server, f"rev-{uuid.uuid4().hex[:8]}")
    partner.grant("revoking")
    url = f"/taxii2/api/collections/{_cid(server, 'revoking')}/objects/"
    with partner.http() as http:
        first = http.get(url, params={"limit": 5})
        assert first.json()["more"] is True
        last_seen = first.headers["X-TAXII-Date-Added-Last"]
        cursor = first.json()["next"]
        with bastion.db.session() as session:
            bastion.banks.delete_entry(session, "revoking", added[0].id, actor="test")
            bastion.banks.delete_entry(session, "revoking", added[3].id, actor="test")
        # Continuing the paging sees the rest and then the revocations, in order of date_added.
        rest = http.get(url, params={"next": cursor, "limit": 2})
        rest_objects = list(rest.json()["objects"])
        while rest.json()["more"]:
            rest = http.get(url, params={"next": rest.json()["next"], "limit": 2})
            rest_objects += rest.json()["objects"]
        # A poller with added_after sees only the revocations.
        later = http.get(url, params={"added_after": last_seen}).json()["objects"]
    revoked = [o for o in later if o.get("revoked")]
    assert {o["id"] for o in revoked} == {
        stix.indicator_id(instance_of(bastion).name, "revoking", added[i].id) for i in (0, 3)
    }
    assert all(o["modified"] > o["created"] for o in revoked)
    assert [o.get("revoked", False) for o in rest_objects] == [False, False, True, True]
    # Entry 3 was removed before it was sent: only its revoked version is served.
    ids = [stix.indicator_id(instance_of(bastion).name, "revoking", e.id) for e in added]
    assert [o["id"] for o in rest_objects] == [ids[1], ids[2], ids[0], ids[3]]


def _sighting(api: ApiServer, indicator: str, who: str = "partner-b") -> dict[str, object]:
    return stix.sighting(
        indicator,
        producer=stix.identity(who, instance=who)["id"],
        instance=who,
        seen_at=datetime.now(UTC),
        count=2,
    )


def _post(partner: Partner, bank: str, objects: list[object], **headers: str) -> httpx.Response:
    with partner.http() as http:
        return http.post(
            f"/taxii2/api/collections/{_cid(partner.api, bank)}/objects/",
            content=json.dumps({"objects": objects}),
            headers={"Content-Type": TAXII_MEDIA_TYPE, **headers},
        )


def test_partners_post_sightings_and_disputes(server: ApiServer) -> None:
    bastion = server.bastion
    partner = Partner(server, f"fb-{uuid.uuid4().hex[:8]}")
    partner.grant("crisis-green", write=True)
    instance = instance_of(bastion).name
    with bastion.db.session() as session:
        entry_ids = [e.id for e in bastion.banks.list_entries(session, "crisis-green")]
    indicator = stix.indicator_id(instance, "crisis-green", entry_ids[0])
    dispute = stix.opinion(
        stix.indicator_id(instance, "crisis-green", entry_ids[1]),
        "strongly-disagree",
        "a news report, not propaganda",
        producer=stix.identity("b", instance="b")["id"],
        instance="b",
        created=datetime.now(UTC),
    )
    stranger = _sighting(server, stix.indicator_id(instance, "crisis-red", 1))
    note = {"type": "note", "spec_version": "2.1", "id": f"note--{uuid.uuid4()}"}
    sighting = _sighting(server, indicator)
    response = _post(partner, "crisis-green", [sighting, dispute, stranger, note, "junk"])
    assert response.status_code == 202, response.text
    status = response.json()
    assert status["status"] == "complete"
    assert (status["success_count"], status["failure_count"]) == (2, 3)
    assert {f["message"].split(":")[0] for f in status["failures"]} == {"stix_unsupported"}
    with partner.http() as http:
        again = http.get(f"/taxii2/api/status/{status['id']}/").json()
    assert again["id"] == status["id"] and again["success_count"] == 2
    # The same objects again: successes, nothing recorded twice.
    assert _post(partner, "crisis-green", [sighting, dispute]).json()["success_count"] == 2
    with bastion.db.session() as session:
        rows = session.scalars(select(FeedbackRow).where(FeedbackRow.partner_name == partner.name))
        found = {(r.kind, r.entry_id, r.opinion, r.count) for r in rows}
    assert found == {
        ("sighting", entry_ids[0], "", 2),
        ("opinion", entry_ids[1], "strongly-disagree", 1),
    }


def test_post_refusals(server: ApiServer) -> None:
    reader = Partner(server, f"ro-{uuid.uuid4().hex[:8]}")
    reader.grant("crisis-green")
    indicator = stix.indicator_id(instance_of(server.bastion).name, "crisis-green", 1)
    refused = _post(reader, "crisis-green", [_sighting(server, indicator)])
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "forbidden"
    writer = Partner(server, f"rw-{uuid.uuid4().hex[:8]}")
    writer.grant("crisis-green", write=True)
    with writer.http() as http:
        url = f"/taxii2/api/collections/{_cid(server, 'crisis-green')}/objects/"
        taxii_type = {"Content-Type": TAXII_MEDIA_TYPE}
        cases = [
            (http.post(url, content=b"{not json", headers=taxii_type), 400, "invalid_input"),
            (http.post(url, content=b"[1, 2]", headers=taxii_type), 400, "invalid_input"),
            (http.post(url, content=b'{"objects": 5}', headers=taxii_type), 400, "invalid_input"),
            (
                http.post(url, content=b"{}", headers={"Content-Type": "text/plain"}),
                415,
                "media_unsupported",
            ),
            (
                http.post(url, content=json.dumps({"objects": [{}] * 10_001}), headers=taxii_type),
                413,
                "feed_too_large",
            ),
        ]
        for response, status, code in cases:
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == TAXII_MEDIA_TYPE
            assert response.json()["error_code"] == code
    # Another key's status resource is as unknown as a missing one.
    posted = _post(writer, "crisis-green", [_sighting(server, indicator)]).json()
    with reader.http() as http:
        assert http.get(f"/taxii2/api/status/{posted['id']}/").status_code == 404


def test_a_partner_with_a_write_grant_adds_and_revokes_indicators(server: ApiServer) -> None:
    bastion = server.bastion
    partner = Partner(server, f"ind-{uuid.uuid4().hex[:8]}", amber=True)
    partner.grant("partner-inbox", write=True)
    producer = stix.identity("their org", instance="theirs")
    with bastion.db.session() as session:
        bank = bastion.banks.get(session, "partner-inbox")
    theirs = NewEntry("md5", _md5(777), labels=["tvec3"])
    info = EntryInfo(
        id=1,
        bank="theirs",
        signal_type=theirs.signal_type,
        value=theirs.value,
        quality=None,
        labels=theirs.labels,
        note="",
        added_by="them",
        added_from="",
        added_at=datetime(2026, 11, 30, tzinfo=UTC),
        first_seen=None,
        last_seen=None,
        disabled_until=None,
    )
    indicator = stix.entry_to_indicator(info, bank, producer=producer["id"], instance="theirs")
    # The same hash marked red by its sharer: kept, with the sharer's marking on the entry.
    red = dict(
        indicator,
        id=f"indicator--{uuid.uuid4()}",
        pattern="[file:hashes.MD5 = '" + _md5(778) + "']",
    )
    red["object_marking_refs"] = [stix.TLP_MARKING_IDS[Tlp.RED]]
    response = _post(partner, "partner-inbox", [producer, indicator, red])
    status = response.json()
    assert (status["success_count"], status["failure_count"]) == (3, 0), status
    with bastion.db.session() as session:
        held = bastion.banks.list_entries(session, "partner-inbox")
    assert [(e.value, e.added_by, e.tlp) for e in held] == [
        (_md5(777), f"partner:{partner.name}", None),
        (_md5(778), f"partner:{partner.name}", Tlp.RED),
    ]
    # A partner marking is never loosened: the red entry is not served, even to a named partner.
    with partner.http() as http:
        served = http.get(f"/taxii2/api/collections/{_cid(server, 'partner-inbox')}/objects/")
    patterns = [o.get("pattern", "") for o in served.json()["objects"]]
    assert any(_md5(777) in p for p in patterns)
    assert not any(_md5(778) in p for p in patterns)
    revoked = dict(indicator, revoked=True, modified="2026-12-01T00:00:00.000Z")
    assert _post(partner, "partner-inbox", [revoked]).json()["success_count"] == 1
    with bastion.db.session() as session:
        assert [e.value for e in bastion.banks.list_entries(session, "partner-inbox")] == [
            _md5(778)
        ]


def test_taxii2_client_posts_through_the_standard_api(server: ApiServer) -> None:
    partner = Partner(server, f"t2c-{uuid.uuid4().hex[:8]}")
    partner.grant("crisis-green", write=True)
    url = f"{server.base_url}/taxii2/api/collections/{_cid(server, 'crisis-green')}/"
    collection = Collection(url, user=partner.name, password=partner.secret)
    assert collection.can_write is True
    with server.bastion.db.session() as session:
        first = server.bastion.banks.list_entries(session, "crisis-green")[0].id
    indicator = stix.indicator_id(instance_of(server.bastion).name, "crisis-green", first)
    status = collection.add_objects(json.dumps({"objects": [_sighting(server, indicator)]}))
    assert status.status == "complete"
    assert status.success_count == 1


def test_served_pages_are_recorded_as_share_events(server: ApiServer) -> None:
    partner = Partner(server, f"ev-{uuid.uuid4().hex[:8]}")
    partner.grant("crisis-green")
    with partner.http() as http:
        http.get(f"/taxii2/api/collections/{_cid(server, 'crisis-green')}/objects/")
    with server.bastion.db.session() as session:
        events = session.scalars(select(ShareEventRow).where(ShareEventRow.who == partner.name))
        assert [(e.direction, e.channel, e.objects) for e in events] == [("out", "taxii", 7)]
        assert session.scalar(select(TaxiiStatusRow.id).limit(1)) is not None


def test_unknown_taxii_paths_are_taxii_errors(server: ApiServer) -> None:
    with httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.admin_secret}", "Accept": TAXII_MEDIA_TYPE},
    ) as http:
        missing = http.get("/taxii2/api/nothing-here/")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == TAXII_MEDIA_TYPE
        assert missing.json()["error_code"] == "not_found"
        wrong = http.delete("/taxii2/api/collections/")
        assert wrong.status_code == 405
        assert wrong.json()["error_code"] == "method_not_allowed"


def test_a_large_post_leaves_the_server_responsive(server: ApiServer) -> None:
    partner = Partner(server, f"big-{uuid.uuid4().hex[:8]}")
    partner.grant("crisis-green", write=True)
    with server.bastion.db.session() as session:
        first = server.bastion.banks.list_entries(session, "crisis-green")[0].id
    indicator = stix.indicator_id(instance_of(server.bastion).name, "crisis-green", first)
    producer = stix.identity("b", instance="b")["id"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    sightings = [
        stix.sighting(
            indicator,
            producer=producer,
            instance="b",
            seen_at=start.replace(second=n % 60, minute=(n // 60) % 60, hour=n // 3600),
        )
        for n in range(10_000)
    ]
    outcome: dict[str, httpx.Response] = {}
    poster = threading.Thread(
        target=lambda: outcome.setdefault("post", _post(partner, "crisis-green", sightings))
    )
    answered_meanwhile = 0
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        poster.start()
        while poster.is_alive():
            if http.get("/healthz").status_code == 200 and poster.is_alive():
                answered_meanwhile += 1
    poster.join()
    assert outcome["post"].json()["success_count"] == 10_000
    assert answered_meanwhile > 0  # the server answered others while it took the 10,000
