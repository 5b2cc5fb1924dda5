"""The action ledger against a real loopback receiver: idempotent enqueue, signed delivery with the
idempotency key, back-off on 5xx and dead ports, the dead-letter queue, replay, and concurrent
deliverers that never send one action twice (SKIP LOCKED on PostgreSQL, conditional claims on
SQLite)."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import update

from bastion.act.ledger import ActionLedger, DeliveryReport, run_delivery_loop
from bastion.audit import AuditLog
from bastion.errors import ActionNotFound, ConfigurationError, Conflict, InvalidInput
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.storage.models import ActionRow
from tests.act.helpers import Clock, ledger_for
from tests.act.test_webhook import receiver


def _enqueue(bastion: Bastion, ledger: ActionLedger, key: str = "decision:1:remove") -> int:
    with bastion.db.session() as session:
        return ledger.enqueue(
            session,
            kind="webhook",
            idempotency_key=key,
            event="content.remove",
            payload={"content_ref": "post-9"},
            actor="reviewer@example.org",
        ).id


def _dead_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def test_enqueue_is_idempotent_and_audited(bastion: Bastion) -> None:
    ledger = ledger_for(bastion.audit, None, Clock())
    first = _enqueue(bastion, ledger)
    again = _enqueue(bastion, ledger)
    assert first == again
    with bastion.db.session() as session:
        [action] = ledger.list(session)
        assert action.status == "pending" and action.attempts == 0
        assert action.created_by == "reviewer@example.org"
        assert ledger.find(session, "decision:1:remove") == action
        events = bastion.audit.list(session, action="action.enqueue")
        assert len(events) == 1 and events[0].target_id == str(first)
        with pytest.raises(InvalidInput):
            ledger.enqueue(
                session, kind="webhook", idempotency_key=" ", event="x", payload={}, actor="a"
            )


def test_a_due_action_is_delivered_signed_with_its_idempotency_key(bastion: Bastion) -> None:
    clock = Clock()
    with receiver() as platform:
        ledger = ledger_for(bastion.audit, platform.url, clock)
        action_id = _enqueue(bastion, ledger)
        report = ledger.deliver_due(bastion.db)
        assert report.delivered == [action_id] and report.claimed == 1
        assert ledger.deliver_due(bastion.db).claimed == 0  # delivered once, never again
    [delivery] = platform.deliveries
    assert delivery.verified and delivery.event == "content.remove"
    data = delivery.json()["data"]
    assert isinstance(data, dict)
    assert data["idempotency_key"] == "decision:1:remove"
    assert data["action_id"] == action_id and data["attempt"] == 1
    assert data["payload"] == {"content_ref": "post-9"}
    with bastion.db.session() as session:
        action = ledger.get(session, action_id)
        assert action.status == "delivered" and action.attempts == 1
        assert action.last_error is None and action.completed_at == clock.now
        assert bastion.audit.list(session, action="action.delivered")


def test_failures_are_retried_with_exponential_backoff(bastion: Bastion) -> None:
    clock = Clock()
    with receiver([503, 502]) as platform:
        ledger = ledger_for(bastion.audit, platform.url, clock)
        action_id = _enqueue(bastion, ledger)
        assert ledger.deliver_due(bastion.db).failed == [action_id]
        with bastion.db.session() as session:
            action = ledger.get(session, action_id)
        assert action.status == "failed" and action.attempts == 1
        assert action.last_error == "webhook_rejected (HTTP 503)"
        assert action.next_attempt_at == clock.now + timedelta(seconds=30)
        # Not due yet: nothing is sent before the back-off ends.
        clock.advance(29)
        assert ledger.deliver_due(bastion.db).claimed == 0
        clock.advance(1)
        assert ledger.deliver_due(bastion.db).failed == [action_id]
        with bastion.db.session() as session:
            action = ledger.get(session, action_id)
        assert action.attempts == 2 and action.next_attempt_at == clock.now + timedelta(seconds=60)
        clock.advance(60)
        assert ledger.deliver_due(bastion.db).delivered == [action_id]
    assert [d.json()["data"]["attempt"] for d in platform.deliveries] == [1, 2, 3]  # type: ignore[index]
    assert {d.json()["data"]["idempotency_key"] for d in platform.deliveries} == {  # type: ignore[index]
        "decision:1:remove"
    }


def test_backoff_is_capped_and_jittered(bastion: Bastion) -> None:
    ledger = ActionLedger(
        bastion.audit, None, backoff_initial=30, backoff_max=100, jitter=lambda: 1.0
    )
    assert ledger._backoff(1) == 22.5
    assert ledger._backoff(10) == 75.0


def test_unreachable_target_ends_dead_then_replay_delivers(bastion: Bastion) -> None:
    clock = Clock()
    dead_ledger = ledger_for(bastion.audit, _dead_port(), clock, max_attempts=3)
    action_id = _enqueue(bastion, dead_ledger)
    outcomes: list[DeliveryReport] = []
    for _ in range(3):
        outcomes.append(dead_ledger.deliver_due(bastion.db))
        clock.advance(3600)
    assert [r.failed for r in outcomes[:2]] == [[action_id], [action_id]]
    assert outcomes[2].dead == [action_id]
    assert dead_ledger.deliver_due(bastion.db).claimed == 0  # the dead stay in their queue
    with bastion.db.session() as session:
        [dead] = dead_ledger.list(session, status="dead")
        assert dead.id == action_id and dead.attempts == 3
        assert dead.last_error == "webhook_unreachable" and dead.next_attempt_at is None
        [event] = bastion.audit.list(session, action="action.dead")
        assert event.details["last_error"] == "webhook_unreachable"
    with receiver() as platform:
        ledger = ledger_for(bastion.audit, platform.url, clock, max_attempts=3)
        with bastion.db.session() as session:
            replayed = ledger.replay(session, action_id, actor="operator@example.org")
        assert replayed.status == "pending" and replayed.attempts == 0
        assert ledger.deliver_due(bastion.db).delivered == [action_id]
    assert len(platform.deliveries) == 1
    with bastion.db.session() as session:
        [event] = bastion.audit.list(session, action="action.replay")
        assert event.actor == "operator@example.org"
        assert event.details["previous_status"] == "dead"
        # Delivered is final: replaying it would act twice.
        with pytest.raises(Conflict):
            ledger.replay(session, action_id, actor="operator@example.org")
        with pytest.raises(ActionNotFound):
            ledger.replay(session, 9999, actor="operator@example.org")


def test_a_refusal_goes_to_the_dead_letter_queue_at_once(bastion: Bastion) -> None:
    with receiver([404, 429]) as platform:
        ledger = ledger_for(bastion.audit, platform.url, Clock())
        first = _enqueue(bastion, ledger, "a")
        second = _enqueue(bastion, ledger, "b")
        report = ledger.deliver_due(bastion.db)
    assert report.dead == [first]  # 404: the platform understood and refused
    assert report.failed == [second]  # 429: not now, later
    with bastion.db.session() as session:
        assert ledger.get(session, first).last_error == "webhook_rejected (HTTP 404)"


def test_replay_of_a_failed_action_skips_its_backoff(bastion: Bastion) -> None:
    clock = Clock()
    with receiver([500]) as platform:
        ledger = ledger_for(bastion.audit, platform.url, clock)
        action_id = _enqueue(bastion, ledger)
        ledger.deliver_due(bastion.db)
        with bastion.db.session() as session:
            action = ledger.replay(session, action_id, actor="operator")
        assert action.status == "pending" and action.attempts == 1
        assert ledger.deliver_due(bastion.db).delivered == [action_id]
        with bastion.db.session() as session, pytest.raises(InvalidInput):
            ledger.list(session, status="nonsense")


def test_without_a_webhook_actions_wait_in_the_ledger(bastion: Bastion) -> None:
    ledger = ledger_for(bastion.audit, None, Clock())
    action_id = _enqueue(bastion, ledger)
    report = ledger.deliver_due(bastion.db)
    assert not report.configured and report.claimed == 0
    with bastion.db.session() as session:
        assert ledger.get(session, action_id).status == "pending"


def test_a_lapsed_claim_is_taken_up_again(bastion: Bastion) -> None:
    """A deliverer that died while sending: its lease runs out and another sends the action."""
    clock = Clock()
    with receiver() as platform:
        ledger = ledger_for(bastion.audit, platform.url, clock)
        action_id = _enqueue(bastion, ledger)
        with bastion.db.session() as session:
            session.execute(
                update(ActionRow)
                .where(ActionRow.id == action_id)
                .values(status="sending", next_attempt_at=clock.now + timedelta(seconds=120))
            )
        assert ledger.deliver_due(bastion.db).claimed == 0
        with bastion.db.session() as session, pytest.raises(Conflict):
            ledger.replay(session, action_id, actor="operator")  # in flight: not replayable
        clock.advance(121)
        assert ledger.deliver_due(bastion.db).delivered == [action_id]


def test_two_deliverers_never_send_the_same_action_twice(bastion: Bastion) -> None:
    clock = Clock()
    with receiver() as platform:
        ledgers = [ledger_for(bastion.audit, platform.url, clock) for _ in range(4)]
        ids = [_enqueue(bastion, ledgers[0], f"bulk:{n}") for n in range(40)]
        start = threading.Barrier(len(ledgers))
        errors: list[BaseException] = []

        def deliver(ledger: ActionLedger) -> None:
            try:
                start.wait()
                while ledger.deliver_due(bastion.db, limit=3).claimed:
                    pass
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=deliver, args=(ledger,)) for ledger in ledgers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not errors
    sent = Counter(d.json()["data"]["idempotency_key"] for d in platform.deliveries)  # type: ignore[index]
    assert sent == Counter({f"bulk:{n}": 1 for n in range(40)})
    with bastion.db.session() as session:
        delivered = ledgers[0].list(session, status="delivered", limit=1000)
        assert sorted(action.id for action in delivered) == sorted(ids)
        assert all(action.attempts == 1 for action in delivered)


def test_the_delivery_loop_delivers_until_stopped(bastion: Bastion) -> None:
    with receiver() as platform:
        ledger = ledger_for(bastion.audit, platform.url, Clock())
        action_id = _enqueue(bastion, ledger)
        stop = threading.Event()
        worker = threading.Thread(
            target=run_delivery_loop, args=(bastion, stop, 0.05), kwargs={"ledger": ledger}
        )
        worker.start()
        try:
            for _ in range(200):
                with bastion.db.session() as session:
                    if ledger.get(session, action_id).status == "delivered":
                        break
                stop.wait(0.05)
        finally:
            stop.set()
            worker.join(timeout=10)
    assert not worker.is_alive()
    assert len(platform.deliveries) == 1


def test_settings_build_the_ledger_and_refuse_a_url_without_secret() -> None:
    audit = AuditLog()
    settings = Settings(action_webhook_url="https://platform.example.org/hooks")
    with pytest.raises(ConfigurationError, match="BASTION_ACTION_WEBHOOK_SECRET"):
        ActionLedger.from_settings(settings, audit)
    assert not ActionLedger.from_settings(Settings(), audit).configured
    configured = Settings(
        action_webhook_url="https://platform.example.org/hooks",
        action_webhook_secret=SecretStr("s3cret"),
    )
    assert ActionLedger.from_settings(configured, audit).configured
