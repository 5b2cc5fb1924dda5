"""Policy versions in the database: create, activate (exactly one active), audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from bastion.decide import DEFAULT_POLICY, Policies, parse_policy
from bastion.errors import InvalidInput, PolicyNotFound
from bastion.storage.models import PolicyRow

if TYPE_CHECKING:
    from bastion.runtime import Bastion


def test_built_in_default_when_nothing_is_stored(bastion: Bastion) -> None:
    policies = Policies(bastion.audit)
    with bastion.db.session() as session:
        current = policies.active_version(session)
        assert (current.version, current.created_by) == (0, "built-in")
        assert policies.active(session) == DEFAULT_POLICY
        assert policies.list(session) == []


def test_create_stores_the_full_policy_and_audits(bastion: Bastion) -> None:
    policies = Policies(bastion.audit)
    with bastion.db.session() as session:
        first = policies.create(
            session, {"auto_action": {"variants": True}}, actor="alice", note="allow variants"
        )
        second = policies.create(session, {}, actor="bob")
    assert (first.version, second.version) == (1, 2)
    assert not first.active and first.policy.auto_action.variants
    with bastion.db.session() as session:
        row = session.scalars(select(PolicyRow).where(PolicyRow.version == 1)).one()
        assert row.rules == parse_policy({"auto_action": {"variants": True}}).to_json()
        assert (row.created_by, row.note) == ("alice", "allow variants")
        # Created but not activated: the built-in policy still applies.
        assert policies.active_version(session).version == 0
        events = bastion.audit.list(session, action="policy.create")
    assert [(e.actor, e.target_type, e.target_id) for e in events] == [
        ("bob", "policy", "2"),
        ("alice", "policy", "1"),
    ]
    assert events[1].details["note"] == "allow variants"
    assert events[1].details["rules"]["auto_action"]["variants"] is True


def test_bad_policy_is_not_stored(bastion: Bastion) -> None:
    policies = Policies(bastion.audit)
    with bastion.db.session() as session:
        with pytest.raises(InvalidInput) as caught:
            policies.create(session, {"threat_to_life": {"codes": ["tvec9"]}}, actor="alice")
        assert caught.value.context["field"] == "threat_to_life.codes[0]"
        with pytest.raises(InvalidInput):
            policies.create(session, {}, actor="alice", note="x" * 2001)
        assert policies.list(session) == []
        assert bastion.audit.list(session, action="policy.create") == []


def test_activate_keeps_exactly_one_active_and_audits(bastion: Bastion) -> None:
    policies = Policies(bastion.audit)
    with bastion.db.session() as session:
        policies.create(session, {"threat_to_life": {"priority": 95}}, actor="alice")
        policies.create(session, {"threat_to_life": {"priority": 90}}, actor="alice")
        policies.activate(session, 1, actor="carol")
    with bastion.db.session() as session:
        assert policies.active(session).threat_to_life.priority == 95
        policies.activate(session, 2, actor="dave")
    with bastion.db.session() as session:
        active = session.scalars(select(PolicyRow.version).where(PolicyRow.active)).all()
        assert active == [2]
        assert policies.active_version(session).version == 2
        assert policies.active(session).threat_to_life.priority == 90
        assert [v.version for v in policies.list(session)] == [2, 1]
        events = bastion.audit.list(session, action="policy.activate")
        assert bastion.audit.verify(session).intact
    assert [(e.actor, e.target_id, e.details) for e in events] == [
        ("dave", "2", {"version": 2, "previous": [1]}),
        ("carol", "1", {"version": 1, "previous": None}),
    ]


def test_create_and_activate_in_one_step(bastion: Bastion) -> None:
    policies = Policies(bastion.audit)
    with bastion.db.session() as session:
        created = policies.create(session, DEFAULT_POLICY, actor="alice", activate=True)
        assert created.active and created.version == 1
        actions = [e.action for e in bastion.audit.list(session, target_type="policy")]
    assert actions == ["policy.activate", "policy.create"]


def test_unknown_version(bastion: Bastion) -> None:
    policies = Policies(bastion.audit)
    with bastion.db.session() as session:
        with pytest.raises(PolicyNotFound) as caught:
            policies.activate(session, 7, actor="alice")
        assert caught.value.code == "policy_not_found"
        assert caught.value.status == 404
        with pytest.raises(PolicyNotFound):
            policies.get(session, 7)
