"""The TAXII 2.1 client: a real Bastion server as the partner, and a scripted stub for the answers
no well-behaved server gives (each refused with its stable code, nothing of the bad page kept)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from bastion.banks.records import NewEntry
from bastion.errors import (
    RemoteFeedInvalid,
    SignatureInvalid,
    SignatureMalformed,
    SignerUntrusted,
    UrlBlocked,
)
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.share.feeds import Feedback
from bastion.share.signing import InstanceIdentity, TrustStore, sign_bundle
from bastion.share.taxii_client import SIGNATURE_HEADER, TaxiiFeedSource, list_collections
from bastion.storage.models import BankEntryRow
from bastion.storage.share_models import ShareEventRow

from ..api.conftest import ApiServer, serving
from .taxii_stub import COLLECTION, Answer, Stub, envelope, indicator, taxii_stub

BANK = "fed"


def _md5(n: int) -> str:
    return f"{n:032x}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The subscribing instance: small pages, loopback peers allowed, no background poller."""
    return Settings(
        data_dir=tmp_path / "local",
        database_url=database_url,
        share_allow_private=True,
        share_page_objects=2,
        share_max_page_bytes=4096,
        share_poll_enabled=False,
    )


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """The partner: a real Bastion serving its banks over TAXII."""
    with serving(Settings(data_dir=tmp_path_factory.mktemp("peer"))) as server:
        yield server


def subscribe(
    bastion: Bastion,
    api_root: str,
    collection: str = COLLECTION,
    *,
    kind: str = "taxii",
    credentials: dict[str, str] | None = None,
    signer: str = "",
) -> int:
    with bastion.db.session() as session:
        if not any(b.name == BANK for b in bastion.banks.list(session)):
            bastion.banks.create(session, name=BANK, actor="test", source="partner")
        name = f"p-{uuid.uuid4().hex[:8]}"
        bastion.partners.create(
            session,
            name=name,
            kind=kind,
            url=api_root,
            actor="test",
            credentials=credentials or {"api_key": "x"},
            signer=signer,
        )
        info = bastion.subscriptions.create(
            session, partner=name, bank=BANK, remote_collection=collection, actor="test"
        )
    return info.id


def held(bastion: Bastion) -> dict[str, BankEntryRow]:
    with bastion.db.session() as session:
        rows = session.scalars(select(BankEntryRow).order_by(BankEntryRow.id)).all()
        session.expunge_all()
    return {str(row.external_id): row for row in rows}


# --- against a real Bastion -------------------------------------------------------------------


def _peer_bank(peer: ApiServer, entries: int) -> tuple[str, str, str]:
    """A new green bank on the peer with ``entries`` MD5s: (bank, collection id, reader key)."""
    name = f"share-{uuid.uuid4().hex[:8]}"
    with peer.bastion.db.session() as session:
        peer.bastion.banks.create(session, name=name, actor="test", tlp="green")
        peer.bastion.banks.add_entries(
            session,
            name,
            [NewEntry("md5", _md5(n), labels=["tvec6"]) for n in range(1, entries + 1)],
            actor="test",
        )
    key = peer.make_key("taxii:read")
    api_root = f"{peer.base_url}/taxii2/api/"
    return name, api_root, key


def _collection(api_root: str, key: str, bank: str, settings: Settings) -> str:
    found = list_collections(api_root, {"api_key": key}, settings)
    return str(next(c["id"] for c in found if c["title"] == bank))


def test_poll_pages_resume_and_revocation(
    peer: ApiServer, bastion: Bastion, settings: Settings
) -> None:
    bank, api_root, key = _peer_bank(peer, 5)
    # Discovery from the server's discovery URL lists the same collections as the API root.
    discovered = list_collections(f"{peer.base_url}/taxii2/", {"api_key": key}, settings)
    collection = _collection(api_root, key, bank, settings)
    assert collection in {c["id"] for c in discovered}
    sub = subscribe(bastion, api_root, collection, credentials={"api_key": key})

    report = bastion.subscriptions.poll(sub, actor="test")
    assert report.error_code == "", report.error
    assert report.added == 5 and report.pages >= 3  # pages of 2 objects
    assert report.ignored == 4  # identities, extension definition, TLP marking
    entries = held(bastion)
    assert len(entries) == 5
    first = next(iter(entries.values()))
    assert first.added_from == f"taxii:{api_root}collections/{collection}/"
    assert first.added_by.startswith("partner:p-")
    assert first.labels == ["tvec6"] and first.external_modified is not None

    # The checkpoint resumes: only what was added since comes in the next poll.
    with peer.bastion.db.session() as session:
        peer.bastion.banks.add_entries(session, bank, [NewEntry("md5", _md5(99))], actor="test")
    again = bastion.subscriptions.poll(sub, actor="test")
    # The boundary entry comes again, with any entry of its batch sharing its date_added: held
    # versions, unchanged.
    assert (again.added, again.error_code) == (1, "")
    assert again.unchanged >= 1 and again.objects == 1 + again.unchanged
    assert len(held(bastion)) == 6

    # Removing an entry on the peer revokes it here.
    with peer.bastion.db.session() as session:
        victim = peer.bastion.banks.list_entries(session, bank)[0]
        peer.bastion.banks.delete_entry(session, bank, victim.id, actor="test")
    revoked = bastion.subscriptions.poll(sub, actor="test")
    assert (revoked.revoked, revoked.error_code) == (1, "")
    assert _md5(1) not in {row.value for row in held(bastion).values()}
    with bastion.db.session() as session:
        info = bastion.subscriptions.get(session, sub)
        events = session.scalar(select(func.count()).select_from(ShareEventRow))
    assert (info.entries_added, info.entries_revoked, info.last_error_code) == (6, 1, "")
    # Each page served is one share event; a resumed poll may take two pages when its boundary
    # entries and the new object do not fit in one.
    assert info.last_success_at is not None
    assert events == report.pages + again.pages + revoked.pages


def test_bad_credentials_are_remote_refused(
    peer: ApiServer, bastion: Bastion, settings: Settings
) -> None:
    bank, api_root, key = _peer_bank(peer, 1)
    collection = _collection(api_root, key, bank, settings)
    sub = subscribe(bastion, api_root, collection, credentials={"api_key": "bst_wrong"})
    report = bastion.subscriptions.poll(sub, actor="test")
    assert report.error_code == "remote_refused"
    with bastion.db.session() as session:
        info = bastion.subscriptions.get(session, sub)
    assert info.last_error_code == "remote_refused" and info.last_success_at is None
    assert info.next_poll_at is not None


def test_signed_pages_from_a_peer_bastion(
    peer: ApiServer, bastion: Bastion, settings: Settings
) -> None:
    bank, api_root, key = _peer_bank(peer, 2)
    collection = _collection(api_root, key, bank, settings)
    peer_identity = InstanceIdentity.load_or_create(peer.bastion.settings.data_dir)
    TrustStore.open(settings.data_dir).add("peer", peer_identity.public_key)
    source = TaxiiFeedSource(
        api_root, collection, {"api_key": key}, settings, expected_signer="peer"
    )
    try:
        pages = list(source.pages({}))
    except SignatureMalformed:
        pytest.skip("this peer does not sign its pages yet")
    assert sum(len(page.items) for page in pages) == 2


def test_private_addresses_are_refused_by_default(peer: ApiServer, tmp_path: Path) -> None:
    strict = Settings(data_dir=tmp_path)
    source = TaxiiFeedSource(
        f"{peer.base_url}/taxii2/api/", COLLECTION, {}, strict, require_signature=False
    )
    with pytest.raises(UrlBlocked):
        list(source.pages({}))


# --- against a stub that misbehaves -----------------------------------------------------------


@pytest.fixture
def stub() -> Iterator[Stub]:
    with taxii_stub() as server:
        yield server


def _poll(bastion: Bastion, stub: Stub) -> tuple[int, str]:
    sub = subscribe(bastion, stub.api_root)
    report = bastion.subscriptions.poll(sub, actor="test")
    return sub, report.error_code


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (Answer(200, b"this is not json"), "remote_feed_invalid"),
        (Answer(200, b"[1, 2, 3]"), "remote_feed_invalid"),
        (Answer(200, b'{"objects": "not a list"}'), "remote_feed_invalid"),
        (Answer(200, b'{"more": "yes"}'), "remote_feed_invalid"),
        (Answer(200, b'{"objects": [1]}'), "remote_feed_invalid"),
        (Answer(200, b'{"objects": []}' + b" " * 5000), "feed_too_large"),
        (Answer(401, b'{"title": "Unauthorized"}'), "remote_refused"),
        (Answer(403, b""), "remote_refused"),
        (Answer(404, b'{"title": "no such collection"}'), "remote_feed_invalid"),
        (Answer(503, b"down"), "remote_unavailable"),
    ],
)
def test_bad_pages_are_refused_with_a_stable_code(
    bastion: Bastion, stub: Stub, answer: Answer, code: str
) -> None:
    stub.pages(envelope([indicator(1)], more=True, next_token="a"), answer)
    sub, error = _poll(bastion, stub)
    assert error == code
    # The good first page stays applied, with its checkpoint; nothing of the bad one.
    assert [row.value for row in held(bastion).values()] == [_md5(1)]
    with bastion.db.session() as session:
        info = bastion.subscriptions.get(session, sub)
    assert info.checkpoint == {"added_after": "2026-03-01T00:00:00.000000Z"}
    assert info.last_error_code == code


def test_a_replayed_page_stops_the_poll(bastion: Bastion, stub: Stub) -> None:
    # The server answers every request with the same page, "more" and the same "next".
    stub.pages(envelope([indicator(1)], more=True, next_token="same"))
    _sub, error = _poll(bastion, stub)
    assert error == "remote_feed_invalid"
    assert [row.value for row in held(bastion).values()] == [_md5(1)]
    assert len(stub.requests) == 2


def test_pages_going_backwards_stop_the_poll(bastion: Bastion, stub: Stub) -> None:
    stub.pages(
        envelope([indicator(1)], more=True, next_token="a", last="2026-03-02T00:00:00Z"),
        envelope([indicator(2)], more=False, last="2026-03-01T00:00:00Z"),
    )
    _sub, error = _poll(bastion, stub)
    assert error == "remote_feed_invalid"
    assert [row.value for row in held(bastion).values()] == [_md5(1)]


def test_a_red_indicator_refuses_its_whole_page(bastion: Bastion, stub: Stub) -> None:
    stub.pages(envelope([indicator(1), indicator(2, tlp="red")]))
    _sub, error = _poll(bastion, stub)
    assert error == "remote_feed_invalid"
    assert held(bastion) == {}


def test_items_outside_the_profile_are_rejected_one_by_one(bastion: Bastion, stub: Stub) -> None:
    other = indicator(2)
    other["pattern_type"] = "sigma"
    bad_value = indicator(3, pattern="[file:hashes.'x_bastion_pdq' = 'zz']")
    stub.pages(envelope([indicator(1), other, bad_value, {"type": "malware", "id": "x"}]))
    sub = subscribe(bastion, stub.api_root)
    report = bastion.subscriptions.poll(sub, actor="test")
    assert (report.added, report.rejected, report.ignored, report.error_code) == (1, 2, 1, "")
    assert {r["code"] for r in report.rejections} == {"stix_unsupported", "invalid_signal"}


def test_versions_out_of_order_and_revocations(bastion: Bastion, stub: Stub) -> None:
    sub = subscribe(bastion, stub.api_root)
    stub.pages(envelope([indicator(1, modified="2026-03-02T00:00:00.000Z", note="v2")]))
    assert bastion.subscriptions.poll(sub, actor="test").added == 1
    # An older version arriving late is ignored; a newer one replaces the held entry.
    stub.pages(envelope([indicator(1, modified="2026-03-01T00:00:00.000Z", note="v1")]))
    late = bastion.subscriptions.poll(sub, actor="test")
    assert (late.updated, late.unchanged) == (0, 1)
    assert held(bastion)[indicator(1)["id"]].note == "v2"
    stub.pages(envelope([indicator(1, modified="2026-03-03T00:00:00.000Z", note="v3")]))
    assert bastion.subscriptions.poll(sub, actor="test").updated == 1
    assert held(bastion)[indicator(1)["id"]].note == "v3"
    # A revocation of something never held is counted, not an error; of a held one removes it.
    stub.pages(
        envelope(
            [
                indicator(7, revoked=True, modified="2026-03-04T00:00:00.000Z"),
                indicator(1, revoked=True, modified="2026-03-04T00:00:00.000Z"),
            ]
        )
    )
    gone = bastion.subscriptions.poll(sub, actor="test")
    assert (gone.revoked, gone.unknown_revocations, gone.error_code) == (1, 1, "")
    assert held(bastion) == {}


def test_auth_headers(bastion: Bastion, stub: Stub, settings: Settings) -> None:
    stub.pages(envelope([]))
    list(
        TaxiiFeedSource(
            stub.api_root, COLLECTION, {"api_key": "k1"}, settings, require_signature=False
        ).pages({})
    )
    basic = {"username": "u", "password": "p"}
    list(
        TaxiiFeedSource(stub.api_root, COLLECTION, basic, settings, require_signature=False).pages(
            {"added_after": "2026-01-01T00:00:00Z"}
        )
    )
    first, second = stub.requests[-2][2], stub.requests[-1][2]
    assert first["authorization"] == "Bearer k1" and "added_after" not in first
    assert first["accept"] == "application/taxii+json;version=2.1" and first["limit"] == "2"
    assert second["authorization"] == "Basic " + base64.b64encode(b"u:p").decode()
    # From a microsecond before the checkpoint: objects may share its date_added.
    assert second["added_after"] == "2025-12-31T23:59:59.999999Z"


# --- signatures (the stub signs like a peer Bastion) ------------------------------------------


def _signed(body: bytes, identity: InstanceIdentity, signed_bytes: bytes | None = None) -> str:
    envelope_json = sign_bundle(signed_bytes if signed_bytes is not None else body, identity)
    return base64.urlsafe_b64encode(envelope_json.to_json()).rstrip(b"=").decode()


def _signed_page(identity: InstanceIdentity, *, forged: bool = False) -> Answer:
    page = envelope([indicator(1)])
    other = page.body.replace(b"false", b"true ") if forged else None
    page.headers[SIGNATURE_HEADER] = _signed(page.body, identity, other)
    return page


@pytest.fixture
def peer_identity(tmp_path: Path) -> InstanceIdentity:
    return InstanceIdentity.load_or_create(tmp_path / "peer-key")


def _source(stub: Stub, settings: Settings, signer: str | None = None) -> TaxiiFeedSource:
    return TaxiiFeedSource(
        stub.api_root, COLLECTION, {"api_key": "k"}, settings, expected_signer=signer
    )


def test_a_valid_signature_is_accepted(
    stub: Stub, settings: Settings, peer_identity: InstanceIdentity
) -> None:
    TrustStore.open(settings.data_dir).add("peer", peer_identity.public_key)
    stub.pages(_signed_page(peer_identity))
    pages = list(_source(stub, settings, "peer").pages({}))
    assert [item.external_id for item in pages[0].items] == [indicator(1)["id"]]


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("forged", SignatureInvalid),
        ("untrusted", SignerUntrusted),
        ("missing", SignatureMalformed),
        ("garbled", SignatureMalformed),
        ("other-signer", SignerUntrusted),
    ],
)
def test_bad_signatures_are_refused(
    stub: Stub,
    settings: Settings,
    peer_identity: InstanceIdentity,
    case: str,
    error: type[Exception],
) -> None:
    trust = TrustStore.open(settings.data_dir)
    if case != "untrusted":
        trust.add("peer", peer_identity.public_key)
    page = _signed_page(peer_identity, forged=case == "forged")
    if case == "missing":
        del page.headers[SIGNATURE_HEADER]
    if case == "garbled":
        page.headers[SIGNATURE_HEADER] = "!!!"
    stub.pages(page)
    with pytest.raises(error):
        list(_source(stub, settings, "someone-else" if case == "other-signer" else None).pages({}))


def test_unsigned_pages_are_refused_when_a_signature_is_required(
    bastion: Bastion, stub: Stub
) -> None:
    stub.pages(envelope([indicator(1)]))
    sub = subscribe(bastion, stub.api_root, kind="bastion")
    report = bastion.subscriptions.poll(sub, actor="test")
    assert report.error_code == "signature_malformed" and held(bastion) == {}


# --- feedback ---------------------------------------------------------------------------------


def test_feedback_is_posted_and_its_status_read(stub: Stub, settings: Settings) -> None:
    from datetime import UTC, datetime

    posted: list[dict[str, object]] = []

    def accept(_query: dict[str, str], body: bytes) -> Answer:
        posted.extend(json.loads(body)["objects"])
        status = {"id": "status-1", "status": "complete", "success_count": 1, "failures": []}
        return Answer(202, json.dumps(status).encode())

    stub.routes[("POST", stub.objects_path)] = accept
    source = _source(stub, settings)
    seen = datetime(2026, 3, 1, tzinfo=UTC)
    ident = indicator(1)["id"]
    assert source.send_feedback(Feedback("sighting", ident, seen, count=3)) == "status-1"
    assert posted[0]["type"] == "sighting" and posted[0]["sighting_of_ref"] == ident
    assert posted[0]["count"] == 3
    assert stub.requests[-1][2]["content-type"] == "application/taxii+json;version=2.1"

    def refuse(_query: dict[str, str], body: bytes) -> Answer:
        obj = json.loads(body)["objects"][0]
        status = {
            "id": "status-2",
            "status": "complete",
            "success_count": 0,
            "failures": [{"id": obj["id"], "message": "read-only collection"}],
        }
        return Answer(202, json.dumps(status).encode())

    stub.routes[("POST", stub.objects_path)] = refuse
    with pytest.raises(RemoteFeedInvalid, match="read-only collection"):
        source.send_feedback(Feedback("opinion", ident, seen, opinion="disagree"))


def test_entries_sharing_one_date_added_are_not_lost_between_polls(
    peer: ApiServer, bastion: Bastion, settings: Settings
) -> None:
    bank, api_root, key = _peer_bank(peer, 6)
    # One batch can stamp several entries with the same microsecond; make it all six (after
    # the bank's own objects, dated when it was created).
    shared = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    with peer.bastion.db.session() as session:
        bank_id = peer.bastion.banks.get(session, bank).id
        session.execute(
            update(BankEntryRow).where(BankEntryRow.bank_id == bank_id).values(added_at=shared)
        )
    collection = _collection(api_root, key, bank, settings)
    source = TaxiiFeedSource(
        api_root, collection, {"api_key": key}, settings, require_signature=False, max_pages=3
    )
    first = list(source.pages({}))  # pages of 2: four supporting objects, then two entries
    assert sum(len(p.items) for p in first) == 2
    checkpoint = first[-1].checkpoint
    assert checkpoint == {"added_after": shared.strftime("%Y-%m-%dT%H:%M:%S.000000Z")}
    # The next poll starts at that same date: the four entries not read yet come, and the two
    # read already come again (the applier ignores versions it holds).
    rest = list(source.pages(checkpoint))
    ids = {item.external_id for page in [*first, *rest] for item in page.items}
    assert len(ids) == 6
