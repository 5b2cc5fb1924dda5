"""The demo's sign-ins and cases: fresh passwords every run, cases opened once."""

from __future__ import annotations

import pytest

from bastion.demo.review import PEOPLE, ensure_cases, ensure_people
from bastion.errors import LoginFailed
from bastion.runtime import Bastion


def test_demo_people_get_fresh_passwords_and_the_queue_gets_cases_once(bastion: Bastion) -> None:
    first = ensure_people(bastion, actor="test")
    assert [(p.username, p.role) for p in first] == list(PEOPLE)
    second = ensure_people(bastion, actor="test")
    with bastion.db.session() as session:
        moderator = bastion.users.authenticate(session, "demo-moderator", second[1].password)
        assert moderator.role == "moderator"
    with bastion.db.session() as session, pytest.raises(LoginFailed):
        bastion.users.authenticate(session, "demo-moderator", first[1].password)

    opened = ensure_cases(bastion, actor="test")
    assert opened >= 4
    assert ensure_cases(bastion, actor="test") == 0
    with bastion.db.session() as session:
        cases = bastion.cases.list(session)
    assert len(cases) == opened and all(case.reasons for case in cases)
    assert {case.kind for case in cases} == {"scan_match", "scan_text"}
