"""Queues, assignment, decisions and their effects, bulk decisions, appeals: nothing decided
twice, nothing lost, every step audited."""

from __future__ import annotations

import threading

import pytest

from bastion.errors import (
    BastionError,
    CaseClosed,
    CaseNotFound,
    DecisionConflict,
    InvalidInput,
    SameReviewer,
)
from bastion.review.cases import NewCase
from bastion.review.decisions import FALSE_POSITIVE_BANK, Decisions
from bastion.review.queue import Queue, QueueFilter
from bastion.runtime import Bastion
from bastion.storage.models import ContentRow, SignalRow

PDQ = "f" * 32 + "0" * 32


def _services(bastion: Bastion) -> tuple[Queue, Decisions]:
    return (
        Queue(bastion.audit, bastion.cases),
        Decisions(bastion.audit, bastion.cases, bastion.banks),
    )


def _case(
    bastion: Bastion,
    *,
    priority: int = 60,
    language: str | None = "en",
    category: str = "tvec3",
    group: str | None = None,
    pdq: str | None = PDQ,
    entry_id: int | None = None,
) -> int:
    with bastion.db.session() as session:
        content_id = None
        if pdq is not None:
            content = ContentRow(kind="photo", source="upload", name="post.jpg")
            session.add(content)
            session.flush()
            session.add(SignalRow(content_id=content.id, signal_type="pdq", value=pdq, quality=90))
            content_id = content.id
        case = bastion.cases.open(
            session,
            NewCase(
                kind="scan_match",
                priority=priority,
                severity="high",
                title="a post matched",
                labels=[category],
                content_id=content_id,
                language=language,
                group_key=group,
                entry_id=entry_id,
            ),
            actor="test",
        )
    return case.id


def _version(bastion: Bastion, case_id: int) -> int:
    with bastion.db.session() as session:
        return bastion.cases.get(session, case_id).version


def test_the_queue_orders_by_priority_then_deadline_and_hands_out_each_case_once(
    bastion: Bastion,
) -> None:
    queue, _ = _services(bastion)
    low = _case(bastion, priority=40)
    urgent = _case(bastion, priority=95, language="ar")
    high = _case(bastion, priority=60)
    with bastion.db.session() as session:
        listed = queue.list(session, QueueFilter())
        assert [c.id for c in listed] == [urgent, high, low]
        assert listed[0].due_at is not None and listed[0].due_at < listed[1].due_at  # type: ignore[operator]
        english = queue.list(session, QueueFilter(languages=["en"]))
        assert [c.id for c in english] == [high, low]
        stats = queue.stats(session, QueueFilter())
        assert (stats.open, stats.unassigned, stats.overdue) == (3, 3, 0)
    with bastion.db.session() as session:
        first = queue.next(session, QueueFilter(), reviewer="user:amira")
    with bastion.db.session() as session:
        second = queue.next(session, QueueFilter(), reviewer="user:ben")
    assert first is not None and second is not None
    assert (first.id, first.assigned_to) == (urgent, "user:amira")
    assert (second.id, second.assigned_to) == (high, "user:ben")


def test_concurrent_reviewers_never_get_the_same_case(bastion: Bastion) -> None:
    queue, _ = _services(bastion)
    for _ in range(6):
        _case(bastion)
    got: list[int] = []
    lock = threading.Lock()

    def take(name: str) -> None:
        for _ in range(3):
            try:
                with bastion.db.session() as session:
                    case = queue.next(session, QueueFilter(), reviewer=name)
            except BastionError:
                continue
            if case is not None:
                with lock:
                    got.append(case.id)

    threads = [threading.Thread(target=take, args=(f"user:r{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == len(set(got))


def test_confirming_banks_the_content_and_closes_the_case_once(bastion: Bastion) -> None:
    _, decisions = _services(bastion)
    with bastion.db.session() as session:
        bastion.banks.create(session, name="confirmed", actor="test")
    case_id = _case(bastion)
    with bastion.db.session() as session:
        decision = decisions.decide(
            session,
            case_id,
            outcome="confirm",
            actor="user:amira",
            expected_version=_version(bastion, case_id),
            labels=["TVEC.3"],
            rationale="Recruitment video, logo of a designated group.",
            add_to_bank="confirmed",
        )
    assert decision.labels == ["tvec3"] and decision.effects["banked"]["bank"] == "confirmed"
    [entry_id] = decision.effects["banked"]["entry_ids"]
    with bastion.db.session() as session:
        entry = bastion.banks.get_entry(session, "confirmed", entry_id)
        assert entry.value == PDQ and entry.added_from == f"case:{case_id}"
        case = bastion.cases.get(session, case_id)
        assert case.status == "closed" and case.closed_at is not None
        with pytest.raises(CaseClosed):
            decisions.decide(
                session,
                case_id,
                outcome="false_positive",
                actor="user:ben",
                expected_version=case.version,
            )
        labels = decisions.training_labels(session)
        assert labels[0]["labels"] == ["tvec3"] and labels[0]["harmful"] is True


def test_two_reviewers_deciding_at_once_give_one_decision_and_one_conflict(
    bastion: Bastion,
) -> None:
    _, decisions = _services(bastion)
    case_id = _case(bastion)
    seen = _version(bastion, case_id)
    with bastion.db.session() as session:
        decisions.decide(
            session, case_id, outcome="confirm", actor="user:amira", expected_version=seen
        )
    with bastion.db.session() as session, pytest.raises((DecisionConflict, CaseClosed)):
        decisions.decide(
            session, case_id, outcome="false_positive", actor="user:ben", expected_version=seen
        )
    with bastion.db.session() as session:
        assert [d.decided_by for d in decisions.history(session, case_id)] == ["user:amira"]


def test_a_stale_version_is_refused_while_the_case_is_still_open(bastion: Bastion) -> None:
    queue, decisions = _services(bastion)
    case_id = _case(bastion)
    seen = _version(bastion, case_id)
    with bastion.db.session() as session:
        queue.assign(session, case_id, assignee="user:ben", actor="user:lead")
    with bastion.db.session() as session, pytest.raises(DecisionConflict) as caught:
        decisions.decide(
            session, case_id, outcome="confirm", actor="user:amira", expected_version=seen
        )
    assert caught.value.context["current_version"] == seen + 1


def test_a_false_positive_goes_to_the_negative_bank_and_counts_against_the_entry(
    bastion: Bastion,
) -> None:
    _, decisions = _services(bastion)
    confirmed = _case(bastion, entry_id=77, pdq="0" * 63 + "1")
    wrong = _case(bastion, entry_id=77, pdq="1" * 64)
    with bastion.db.session() as session:
        decisions.decide(
            session,
            confirmed,
            outcome="confirm",
            actor="user:a",
            expected_version=_version(bastion, confirmed),
        )
        decision = decisions.decide(
            session,
            wrong,
            outcome="false_positive",
            actor="user:a",
            expected_version=_version(bastion, wrong),
            rationale="A news report about the attack, not propaganda.",
        )
    assert decision.effects["negative_bank"]["bank"] == FALSE_POSITIVE_BANK
    assert decision.effects["counted_against_entry"] == 77
    with bastion.db.session() as session:
        bank = bastion.banks.get(session, FALSE_POSITIVE_BANK)
        assert bank.kind == "negative" and bank.entry_count == 1
        precision = decisions.precision(session, 77)
    assert (precision.confirmed, precision.false_positives, precision.precision) == (1, 1, 0.5)


def test_escalation_keeps_the_case_open_at_the_top_of_the_queue(bastion: Bastion) -> None:
    queue, decisions = _services(bastion)
    case_id = _case(bastion, category="tvec2")
    with bastion.db.session() as session:
        queue.assign(session, case_id, assignee="user:amira", actor="user:amira")
    with bastion.db.session() as session:
        decision = decisions.decide(
            session,
            case_id,
            outcome="escalate",
            actor="user:amira",
            expected_version=_version(bastion, case_id),
            labels=["tvec2"],
            rationale="Names a school and a date.",
        )
    assert decision.effects["escalation_requested"] is True
    with bastion.db.session() as session:
        case = bastion.cases.get(session, case_id)
        assert (case.status, case.priority, case.assigned_to) == ("open", 100, None)
        assert queue.list(session, QueueFilter())[0].id == case_id


def test_a_flood_is_decided_in_one_bulk_decision(bastion: Bastion) -> None:
    _, decisions = _services(bastion)
    flood = [_case(bastion, group="entry:12", pdq=None) for _ in range(5)]
    other = _case(bastion, group="entry:13", pdq=None)
    with bastion.db.session() as session:
        made = decisions.decide_group(
            session, "entry:12", outcome="confirm", actor="user:a", labels=["tvec1"]
        )
    assert sorted(d.case_id for d in made) == flood
    with bastion.db.session() as session:
        assert all(bastion.cases.get(session, c).status == "closed" for c in flood)
        assert bastion.cases.get(session, other).status == "open"
        with pytest.raises(InvalidInput):
            decisions.decide_group(session, "entry:13", outcome="escalate", actor="user:a")


def test_an_appeal_reopens_the_case_for_another_reviewer_who_may_reverse_it(
    bastion: Bastion,
) -> None:
    _, decisions = _services(bastion)
    case_id = _case(bastion)
    with bastion.db.session() as session:
        removed = decisions.decide(
            session,
            case_id,
            outcome="confirm",
            actor="user:amira",
            expected_version=_version(bastion, case_id),
        )
    with bastion.db.session() as session:
        appeal = decisions.appeal(
            session,
            case_id,
            complaint="This is my documentary about the war.",
            submitted_by="platform-user-991",
            actor="key:platform",
        )
        assert appeal.excluded_reviewer == "user:amira" and appeal.status == "open"
        assert bastion.cases.get(session, case_id).status == "open"
    with bastion.db.session() as session, pytest.raises(SameReviewer):
        decisions.decide(
            session,
            case_id,
            outcome="confirm",
            actor="user:amira",
            expected_version=_version(bastion, case_id),
        )
    with bastion.db.session() as session:
        reversal = decisions.decide(
            session,
            case_id,
            outcome="false_positive",
            actor="user:ben",
            expected_version=_version(bastion, case_id),
            labels=["tvec1"],
            rationale="Journalistic context: the exception applies.",
        )
    assert reversal.supersedes_id == removed.id and reversal.appeal_id == appeal.id
    assert reversal.effects["appeal"] == {
        "appeal_id": appeal.id,
        "status": "reversed",
        "reinstate": True,
    }
    with bastion.db.session() as session:
        assert decisions.get_appeal(session, appeal.id).status == "reversed"
        actions = [e.action for e in bastion.audit.list(session, limit=100)]
    assert {"case.decide", "appeal.open", "appeal.resolve"} <= set(actions)


def test_bad_decisions_get_stable_errors_and_change_nothing(bastion: Bastion) -> None:
    _, decisions = _services(bastion)
    case_id = _case(bastion)
    version = _version(bastion, case_id)
    with bastion.db.session() as session:
        with pytest.raises(InvalidInput):
            decisions.decide(
                session, case_id, outcome="delete", actor="user:a", expected_version=version
            )
        with pytest.raises(InvalidInput):
            decisions.decide(
                session,
                case_id,
                outcome="confirm",
                actor="user:a",
                expected_version=version,
                rationale="x" * 10_001,
            )
        with pytest.raises(InvalidInput):
            decisions.decide(
                session,
                case_id,
                outcome="confirm",
                actor="user:a",
                expected_version=version,
                labels=["not-a-code"],
            )
        with pytest.raises(CaseNotFound):
            decisions.decide(
                session, 999_999, outcome="confirm", actor="user:a", expected_version=1
            )
        with pytest.raises(DecisionConflict):
            decisions.appeal(session, case_id, complaint="why", submitted_by="u", actor="k")
    with bastion.db.session() as session:
        assert bastion.cases.get(session, case_id).status == "open"
        assert decisions.history(session, case_id) == []


def test_related_cases_share_an_account_a_stream_or_a_flood(bastion: Bastion) -> None:
    first = _case(bastion, group="entry:5", pdq=None)
    second = _case(bastion, group="entry:5", pdq=None)
    alone = _case(bastion, group="entry:6", pdq=None)
    with bastion.db.session() as session:
        assert [c.id for c in bastion.cases.related(session, first)] == [second]
        assert bastion.cases.related(session, alone) == []
