"""Law-enforcement escalations: one record per case with the reason, the threat, the evidence
references and who asked, audited once, kept without a webhook and delivered as
``case.escalated`` with one."""

from __future__ import annotations

import pytest

from bastion.act.escalation import ESCALATION_EVENT, Escalations
from bastion.errors import CaseNotFound, InvalidInput
from bastion.runtime import Bastion
from tests.act.helpers import Clock, ledger_for, make_case
from tests.act.test_webhook import receiver


def test_an_escalation_is_recorded_once_and_audited(bastion: Bastion) -> None:
    ledger = ledger_for(bastion.audit, None, Clock())
    escalations = Escalations(ledger, bastion.audit)
    with bastion.db.session() as session:
        case_id = make_case(session, with_matches=True)
    with bastion.db.session() as session:
        first = escalations.escalate(
            session,
            case_id=case_id,
            reason="credible threat to life",
            threat_summary="a named person and a place and time",
            requested_by="lead@example.org",
            references=["platform-report-17", " "],
        )
    with bastion.db.session() as session:
        again = escalations.escalate(
            session,
            case_id=case_id,
            reason="another reason",
            threat_summary="other words",
            requested_by="someone-else@example.org",
        )
        assert first.created and not again.created
        assert again.action.id == first.action.id
        assert again.reason == "credible threat to life"
        assert again.requested_by == "lead@example.org"
        assert first.action.kind == "escalation" and first.action.event == ESCALATION_EVENT
        evidence = first.evidence
        assert evidence["content_id"] is not None and evidence["bank"] == "tvec-test"
        assert [m["signal_type"] for m in evidence["matches"]] == ["pdq"]
        assert evidence["references"] == ["platform-report-17"]
        events = bastion.audit.list(session, action="escalation.create")
        assert len(events) == 1 and events[0].target_id == str(case_id)
        assert events[0].actor == "lead@example.org"
        assert len(bastion.audit.list(session, action="action.enqueue")) == 1
        got = escalations.get(session, case_id)
        assert got is not None and got.requested_at == first.requested_at
        assert [e.case_id for e in escalations.list(session)] == [case_id]
        # Without a webhook it stays on record, waiting for one.
        assert ledger.deliver_due(bastion.db).claimed == 0
        assert ledger.get(session, first.action.id).status == "pending"


def test_an_escalation_needs_a_case_a_reason_and_a_summary(bastion: Bastion) -> None:
    escalations = Escalations(ledger_for(bastion.audit, None, Clock()), bastion.audit)
    with bastion.db.session() as session:
        case_id = make_case(session)
        with pytest.raises(CaseNotFound):
            escalations.escalate(
                session, case_id=999, reason="r", threat_summary="t", requested_by="u"
            )
        with pytest.raises(InvalidInput, match="reason"):
            escalations.escalate(
                session, case_id=case_id, reason=" ", threat_summary="t", requested_by="u"
            )
        with pytest.raises(InvalidInput, match="threat summary"):
            escalations.escalate(
                session, case_id=case_id, reason="r", threat_summary="", requested_by="u"
            )
        assert escalations.get(session, case_id) is None


def test_an_escalation_is_delivered_as_case_escalated(bastion: Bastion) -> None:
    with receiver() as platform:
        ledger = ledger_for(bastion.audit, platform.url, Clock())
        with bastion.db.session() as session:
            case_id = make_case(session)
            record = Escalations(ledger, bastion.audit).escalate(
                session,
                case_id=case_id,
                reason="threat to life",
                threat_summary="summary",
                requested_by="lead@example.org",
            )
        assert ledger.deliver_due(bastion.db).delivered == [record.action.id]
    [delivery] = platform.deliveries
    assert delivery.verified and delivery.event == "case.escalated"
    data = delivery.json()["data"]
    assert isinstance(data, dict)
    assert data["idempotency_key"] == f"escalation:case:{case_id}"
    assert data["case_id"] == case_id
    assert data["payload"]["reason"] == "threat to life"
    assert data["payload"]["requested_by"] == "lead@example.org"
