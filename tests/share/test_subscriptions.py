"""The subscriptions service: create, list, change, delete, poll (one page at a time), claims of
due subscriptions, and feedback queued and delivered; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bastion.banks.records import NewEntry
from bastion.errors import (
    BankNotFound,
    EntryNotFound,
    InvalidInput,
    PartnerNotFound,
    SubscriptionExists,
    SubscriptionNotFound,
)
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.share.subscriptions import source_for
from bastion.storage.models import AuditEventRow, BankEntryRow, utcnow
from bastion.storage.share_models import FeedbackRow, SubscriptionRow

from .taxii_stub import COLLECTION, Answer, Stub, envelope, indicator, taxii_stub


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        share_allow_private=True,
        share_poll_enabled=False,
    )


@pytest.fixture
def stub() -> Iterator[Stub]:
    with taxii_stub() as server:
        yield server


def _setup(bastion: Bastion, url: str, kind: str = "taxii") -> None:
    with bastion.db.session() as session:
        bastion.banks.create(session, name="fed", actor="test", source="partner")
        bastion.banks.create(session, name="own", actor="test")
        bastion.partners.create(
            session, name="peer", kind=kind, url=url, actor="test", credentials={"api_key": "k"}
        )


def _actions(bastion: Bastion) -> list[str]:
    with bastion.db.session() as session:
        return list(session.scalars(select(AuditEventRow.action).order_by(AuditEventRow.id)))


def test_create_list_update_delete(bastion: Bastion) -> None:
    _setup(bastion, "https://peer.example/taxii2/api/", kind="bastion")
    with bastion.db.session() as session:
        info = bastion.subscriptions.create(
            session, partner="peer", bank="fed", remote_collection=COLLECTION, actor="cli:a"
        )
    assert info.require_signature is True  # a peer Bastion signs its pages
    assert info.api_root == "https://peer.example/taxii2/api/" and info.enabled
    assert info.interval_seconds == 300 and info.next_poll_at is not None
    with bastion.db.session() as session:
        with pytest.raises(SubscriptionExists):
            bastion.subscriptions.create(
                session, partner="peer", bank="fed", remote_collection=COLLECTION, actor="t"
            )
        with pytest.raises(BankNotFound):
            bastion.subscriptions.create(
                session, partner="peer", bank="nope", remote_collection=COLLECTION, actor="t"
            )
        with pytest.raises(PartnerNotFound):
            bastion.subscriptions.create(
                session, partner="nope", bank="fed", remote_collection=COLLECTION, actor="t"
            )
        with pytest.raises(InvalidInput):
            bastion.subscriptions.create(
                session,
                partner="peer",
                bank="own",
                remote_collection=COLLECTION,
                interval_seconds=1,
                actor="t",
            )
    with bastion.db.session() as session:
        assert [s.id for s in bastion.subscriptions.list(session)] == [info.id]
        changed = bastion.subscriptions.update(
            session, info.id, actor="cli:a", enabled=False, interval_seconds=60
        )
    assert (changed.enabled, changed.interval_seconds) == (False, 60)
    with pytest.raises(InvalidInput, match="disabled"):
        bastion.subscriptions.poll(info.id, actor="t")
    with bastion.db.session() as session:
        bastion.subscriptions.delete(session, info.id, actor="cli:a")
        with pytest.raises(SubscriptionNotFound):
            bastion.subscriptions.get(session, info.id)
    actions = _actions(bastion)
    mine = [a for a in actions if a.startswith("subscription.")]
    assert mine == ["subscription.create", "subscription.update", "subscription.delete"]


def test_a_disabled_partner_is_not_polled(bastion: Bastion, stub: Stub) -> None:
    _setup(bastion, stub.api_root)
    with bastion.db.session() as session:
        sub = bastion.subscriptions.create(
            session, partner="peer", bank="fed", remote_collection=COLLECTION, actor="t"
        )
        bastion.partners.update(session, "peer", actor="t", enabled=False)
    with pytest.raises(InvalidInput, match="partner 'peer' is disabled"):
        bastion.subscriptions.poll(sub.id, actor="t")
    assert bastion.subscriptions.poll_due(utcnow() + timedelta(days=1)) == []


def test_poll_due_claims_each_due_subscription_once(bastion: Bastion, stub: Stub) -> None:
    _setup(bastion, stub.api_root)
    stub.pages(envelope([indicator(1)]))
    with bastion.db.session() as session:
        sub = bastion.subscriptions.create(
            session, partner="peer", bank="fed", remote_collection=COLLECTION, actor="t"
        )
    now = utcnow() + timedelta(seconds=1)
    # Another poller's claim: the subscription is not due for this one.
    assert bastion.subscriptions._claim_next(now) == sub.id
    assert bastion.subscriptions._claim_next(now) is None
    later = now + timedelta(hours=1)
    reports = bastion.subscriptions.poll_due(later)
    assert [(r.subscription_id, r.added) for r in reports] == [(sub.id, 1)]
    with bastion.db.session() as session:
        info = bastion.subscriptions.get(session, sub.id)
    assert info.last_success_at is not None
    assert info.next_poll_at is not None and info.last_polled_at is not None
    assert info.next_poll_at == info.last_polled_at + timedelta(seconds=300)
    # Polled: not due again until its interval has passed.
    assert bastion.subscriptions.poll_due(info.next_poll_at - timedelta(seconds=1)) == []
    assert "subscription.poll" in _actions(bastion)


def test_unknown_kinds_without_an_exchange_client_are_refused(
    bastion: Bastion, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "bastion.share.exchanges", None)  # as if not installed
    with bastion.db.session() as session:
        bastion.banks.create(session, name="fed", actor="test")
        partner = bastion.partners.create(session, name="file-feed", kind="file", actor="t")
        sub = bastion.subscriptions.create(
            session, partner="file-feed", bank="fed", remote_collection="list.csv", actor="t"
        )
        row = session.get(SubscriptionRow, sub.id)
        assert row is not None
        with pytest.raises(InvalidInput, match="no exchange client for kind 'file'"):
            source_for(partner, {}, row, bastion.settings)


def test_feedback_is_queued_and_delivered(bastion: Bastion, stub: Stub) -> None:
    _setup(bastion, stub.api_root)
    stub.pages(envelope([indicator(1)]))
    posted: list[dict[str, object]] = []

    def accept(_query: dict[str, str], body: bytes) -> Answer:
        posted.extend(json.loads(body)["objects"])
        return Answer(202, json.dumps({"id": "s-1", "status": "complete"}).encode())

    stub.routes[("POST", stub.objects_path)] = accept
    with bastion.db.session() as session:
        sub = bastion.subscriptions.create(
            session, partner="peer", bank="fed", remote_collection=COLLECTION, actor="t"
        )
    bastion.subscriptions.poll(sub.id, actor="t")
    with bastion.db.session() as session:
        entry = session.scalars(select(BankEntryRow)).one()
        entry_id = entry.id
        own = bastion.banks.add_entries(
            session, "own", [NewEntry("md5", "f" * 32)], actor="t"
        ).added[0]
        assert (
            bastion.feedback.queue_feedback(session, entry_id=own.id, kind="sighting", actor="t")
            is None
        )  # our own entry: no one to tell
        with pytest.raises(EntryNotFound):
            bastion.feedback.queue_feedback(
                session, bank="own", entry_id=entry_id, kind="sighting", actor="t"
            )
        with pytest.raises(InvalidInput):
            bastion.feedback.queue_feedback(
                session, entry_id=entry_id, kind="opinion", opinion="meh", actor="t"
            )
        sighting = bastion.feedback.queue_feedback(
            session, bank="fed", entry_id=entry_id, kind="sighting", count=2, actor="t"
        )
        dispute = bastion.feedback.queue_feedback(
            session, entry_id=entry_id, kind="opinion", explanation="a logo", actor="t"
        )
        assert sighting is not None and dispute is not None
        assert (sighting.status, dispute.opinion) == ("pending", "disagree")
        queued_ids = (sighting.stix_id, dispute.stix_id)
    assert bastion.feedback.deliver_feedback() == {"sent": 2, "failed": 0}
    assert [o["id"] for o in posted] == list(queued_ids)  # the ids queued are the ids sent
    assert posted[1]["opinion"] == "disagree" and posted[1]["explanation"] == "a logo"
    # A partner that refuses: the feedback fails with the error code.
    stub.routes[("POST", stub.objects_path)] = lambda _q, _b: Answer(401, b"{}")
    with bastion.db.session() as session:
        third = bastion.feedback.queue_feedback(
            session, entry_id=entry_id, kind="sighting", actor="t"
        )
        assert third is not None
    assert bastion.feedback.deliver_feedback() == {"sent": 0, "failed": 1}
    with bastion.db.session() as session:
        rows = session.scalars(select(FeedbackRow).order_by(FeedbackRow.id)).all()
        assert [r.status for r in rows] == ["sent", "sent", "failed"]
        assert rows[2].error.startswith("remote_refused")
        listed = bastion.feedback.list(session, direction="out", kind="sighting", bank="fed")
    assert [f["status"] for f in listed] == ["failed", "sent"]
    actions = _actions(bastion)
    assert actions.count("feedback.queue") == 3 and actions.count("feedback.send") == 3


def test_a_failing_partner_is_polled_later_and_later(bastion: Bastion, stub: Stub) -> None:
    _setup(bastion, stub.api_root)
    stub.pages(Answer(status=503), Answer(status=503), envelope([indicator(1)]), envelope([]))
    with bastion.db.session() as session:
        sub = bastion.subscriptions.create(
            session,
            partner="peer",
            bank="fed",
            remote_collection=COLLECTION,
            interval_seconds=60,
            actor="t",
        )

    def waited() -> float:
        with bastion.db.session() as session:
            info = bastion.subscriptions.get(session, sub.id)
        assert info.next_poll_at is not None and info.last_polled_at is not None
        return (info.next_poll_at - info.last_polled_at).total_seconds()

    assert bastion.subscriptions.poll(sub.id, actor="t").error_code == "remote_unavailable"
    assert waited() == 120
    assert bastion.subscriptions.poll(sub.id, actor="t").error_code == "remote_unavailable"
    assert waited() == 240
    assert bastion.subscriptions.poll(sub.id, actor="t").added == 1
    assert waited() == 60  # back to the interval once the partner answers
    # Failed polls and polls that changed the bank are audited; an empty poll is not.
    before = _actions(bastion).count("subscription.poll")
    assert bastion.subscriptions.poll(sub.id, actor="t").added == 0
    assert _actions(bastion).count("subscription.poll") == before == 3
