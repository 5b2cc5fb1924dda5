"""Accounts: creation, roles, lock-out, no account enumeration, audit events."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select

from bastion.accounts import users as users_module
from bastion.accounts.passwords import needs_rehash
from bastion.accounts.sessions import Sessions
from bastion.accounts.users import (
    PERMISSIONS,
    ROLE_PERMISSIONS,
    Role,
    UserInfo,
    Users,
    can,
)
from bastion.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    LoginFailed,
    UserExists,
    UserNotFound,
    WeakPassword,
)
from bastion.runtime import Bastion
from bastion.storage.models import UserRow

from .conftest import LOCKOUT, MAX_FAILURES, PASSWORD, FakeClock

ADMIN = "cli:tester"


def make(bastion: Bastion, users: Users, name: str = "alice", role: str = "moderator") -> UserInfo:
    with bastion.db.session() as session:
        return users.create(session, username=name, password=PASSWORD, role=role, actor=ADMIN)


def login(bastion: Bastion, users: Users, name: str, password: str) -> UserInfo:
    with bastion.db.session() as session:
        return users.authenticate(session, name, password)


def refusal(bastion: Bastion, users: Users, name: str, password: str) -> LoginFailed:
    with pytest.raises(LoginFailed) as raised:
        login(bastion, users, name, password)
    return raised.value


def actions(bastion: Bastion) -> list[str]:
    with bastion.db.session() as session:
        return [e.action for e in reversed(bastion.audit.list(session, limit=1000))]


def test_create_get_list(bastion: Bastion, users: Users) -> None:
    created = make(bastion, users, "Alice", "analyst")
    make(bastion, users, "bob", "auditor")
    with bastion.db.session() as session:
        got = users.get(session, "ALICE")
        listed = users.list(session)
        stored = session.scalars(select(UserRow.password_hash)).all()

    assert created.username == "alice" and created.role is Role.ANALYST
    assert got == created and got.actor == "user:alice" and got.active
    assert [u.username for u in listed] == ["alice", "bob"]
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)
    assert actions(bastion) == ["user.create", "user.create"]


def test_create_refuses_bad_input(bastion: Bastion, users: Users) -> None:
    make(bastion, users, "alice")
    with bastion.db.session() as session:
        with pytest.raises(UserExists):
            users.create(session, username=" ALICE ", password=PASSWORD, role="admin", actor=ADMIN)
        with pytest.raises(InvalidInput, match="bad username"):
            users.create(session, username="a b", password=PASSWORD, role="admin", actor=ADMIN)
        with pytest.raises(InvalidInput, match="unknown role"):
            users.create(session, username="carol", password=PASSWORD, role="root", actor=ADMIN)
        with pytest.raises(WeakPassword):
            users.create(
                session, username="carol", password="carol-secret-1", role="admin", actor=ADMIN
            )
        with pytest.raises(UserNotFound):
            users.get(session, "nobody")


def test_login_succeeds_and_is_audited(bastion: Bastion, users: Users, clock: FakeClock) -> None:
    make(bastion, users)
    refusal(bastion, users, "alice", "wrong password 1")
    with bastion.db.session() as session:
        user = users.authenticate(session, " Alice ", PASSWORD, client="203.0.113.9")
        events = bastion.audit.list(session, action="user.login")

    assert user.username == "alice" and user.last_login_at == clock.now
    assert user.failed_logins == 0  # success resets the count
    assert events[0].actor == "user:alice" and events[0].details == {"client": "203.0.113.9"}


def test_lock_out_after_repeated_failures_then_unlock_by_time(
    bastion: Bastion, users: Users, clock: FakeClock
) -> None:
    make(bastion, users)
    for _ in range(MAX_FAILURES):
        refusal(bastion, users, "alice", "not the password")
    locked = refusal(bastion, users, "alice", PASSWORD)  # the right password, while locked
    with bastion.db.session() as session:
        info = users.get(session, "alice")

    assert info.locked(clock.now) and info.locked_until == clock.now + LOCKOUT
    assert actions(bastion).count("user.login_failed") == MAX_FAILURES + 1
    assert actions(bastion).count("user.locked") == 1
    assert locked.code == "login_failed"

    clock.advance(minutes=14)
    refusal(bastion, users, "alice", PASSWORD)
    clock.advance(minutes=1, seconds=1)
    assert login(bastion, users, "alice", PASSWORD).locked_until is None
    assert actions(bastion)[-1] == "user.login"


def test_after_a_lock_out_expires_the_count_starts_over(
    bastion: Bastion, users: Users, clock: FakeClock
) -> None:
    make(bastion, users)
    for _ in range(MAX_FAILURES):
        refusal(bastion, users, "alice", "not the password")
    clock.advance(minutes=16)
    for _ in range(MAX_FAILURES - 1):
        refusal(bastion, users, "alice", "not the password")
    with bastion.db.session() as session:
        info = users.get(session, "alice")
    assert not info.locked(clock.now) and info.failed_logins == MAX_FAILURES - 1
    refusal(bastion, users, "alice", "not the password")
    with bastion.db.session() as session:
        assert users.get(session, "alice").locked(clock.now)


def test_admin_unlock(bastion: Bastion, users: Users) -> None:
    make(bastion, users)
    for _ in range(MAX_FAILURES):
        refusal(bastion, users, "alice", "not the password")
    with bastion.db.session() as session:
        users.unlock(session, "alice", actor=ADMIN)
    assert login(bastion, users, "alice", PASSWORD).username == "alice"
    assert "user.unlock" in actions(bastion)


def test_no_account_enumeration(
    bastion: Bastion, users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(bastion, users, "alice")
    make(bastion, users, "dora")
    make(bastion, users, "erin")
    with bastion.db.session() as session:
        users.disable(session, "dora", actor=ADMIN)
    for _ in range(MAX_FAILURES):
        refusal(bastion, users, "erin", "not the password")

    hashings: list[str] = []
    real_verify, real_burn = users_module.verify_password, users_module.burn_verification
    monkeypatch.setattr(
        users_module, "verify_password", lambda h, p: hashings.append("v") or real_verify(h, p)
    )
    monkeypatch.setattr(
        users_module, "burn_verification", lambda p: hashings.append("b") or real_burn(p)
    )
    errors = [
        refusal(bastion, users, "nobody", PASSWORD),  # unknown user
        refusal(bastion, users, "alice", "not the password"),  # wrong password
        refusal(bastion, users, "dora", PASSWORD),  # disabled, right password
        refusal(bastion, users, "erin", PASSWORD),  # locked, right password
        refusal(bastion, users, "", PASSWORD),  # empty username
    ]

    assert len({(e.code, e.status, e.detail, str(e.context)) for e in errors}) == 1
    assert len(hashings) == len(errors)  # one argon2 verification each, whatever the reason
    with bastion.db.session() as session:
        failed = bastion.audit.list(session, action="user.login_failed", limit=5)
    reasons = [e.details["reason"] for e in reversed(failed)]
    assert reasons == ["unknown_user", "wrong_password", "disabled", "locked", "unknown_user"]


def test_set_role_and_last_admin_guard(bastion: Bastion, users: Users) -> None:
    make(bastion, users, "root", "admin")
    make(bastion, users, "alice", "moderator")
    with bastion.db.session() as session:
        changed = users.set_role(session, "alice", "ADMIN", actor=ADMIN)
        users.set_role(session, "alice", Role.ADMIN, actor=ADMIN)  # no change, no event
        users.set_role(session, "root", "auditor", actor=ADMIN)
        with pytest.raises(Conflict, match="last active admin"):
            users.set_role(session, "alice", "analyst", actor=ADMIN)
        with pytest.raises(Conflict, match="last active admin"):
            users.disable(session, "alice", actor=ADMIN)
        events = bastion.audit.list(session, action="user.set_role")

    assert changed.role is Role.ADMIN
    assert [e.details for e in reversed(events)] == [
        {"from": "moderator", "to": "admin"},
        {"from": "admin", "to": "auditor"},
    ]


def test_set_password_ends_sessions(bastion: Bastion, users: Users, sessions: Sessions) -> None:
    user = make(bastion, users)
    with bastion.db.session() as session:
        token = sessions.start(session, user).token
    with bastion.db.session() as session:
        with pytest.raises(WeakPassword):
            users.set_password(session, "alice", "too short", actor=ADMIN)
        users.set_password(session, "alice", "a brand new passphrase", actor=user.actor)

    refusal(bastion, users, "alice", PASSWORD)
    assert login(bastion, users, "alice", "a brand new passphrase").username == "alice"
    with bastion.db.session() as session, pytest.raises(Exception, match="sign in again"):
        sessions.resolve(session, token)
    with bastion.db.session() as session:
        event = bastion.audit.list(session, action="user.set_password")[0]
    assert event.actor == "user:alice" and event.details == {"sessions_ended": 1}


def test_disable_ends_sessions_and_enable_restores(
    bastion: Bastion, users: Users, sessions: Sessions
) -> None:
    user = make(bastion, users)
    with bastion.db.session() as session:
        token = sessions.start(session, user).token
    with bastion.db.session() as session:
        disabled = users.disable(session, "alice", actor=ADMIN)
        users.disable(session, "alice", actor=ADMIN)  # idempotent, one event
    with bastion.db.session() as session, pytest.raises(Exception, match="sign in again"):
        sessions.resolve(session, token)
    refusal(bastion, users, "alice", PASSWORD)
    with bastion.db.session() as session:
        enabled = users.enable(session, "alice", actor=ADMIN)
        active = users.list(session, include_disabled=False)

    assert not disabled.active and enabled.active and [u.username for u in active] == ["alice"]
    assert login(bastion, users, "alice", PASSWORD).active
    assert [a for a in actions(bastion) if a in {"user.disable", "user.enable"}] == [
        "user.disable",
        "user.enable",
    ]


def test_login_upgrades_an_old_hash(bastion: Bastion, users: Users) -> None:
    make(bastion, users)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    with bastion.db.session() as session:
        row = session.scalars(select(UserRow).where(UserRow.username == "alice")).one()
        row.password_hash = weak.hash(PASSWORD)
    login(bastion, users, "alice", PASSWORD)
    with bastion.db.session() as session:
        upgraded = session.scalars(select(UserRow.password_hash)).one()
    assert not needs_rehash(upgraded)
    assert login(bastion, users, "alice", PASSWORD).username == "alice"


def test_role_permission_map() -> None:
    assert ROLE_PERMISSIONS[Role.ADMIN] == set(PERMISSIONS)
    assert all(p.endswith(".read") for p in ROLE_PERMISSIONS[Role.AUDITOR])
    assert can("auditor", "audit.read") and not can("auditor", "cases.decide")
    assert can(Role.MODERATOR, "cases.decide") and not can(Role.MODERATOR, "banks.write")
    assert not can(Role.MODERATOR, "audit.read")
    assert can("analyst", "banks.write") and not can("analyst", "users.manage")
    assert not can("analyst", "policy.write") and can("admin", "policy.write")
    for role in Role:
        assert ROLE_PERMISSIONS[role] <= ROLE_PERMISSIONS[Role.ADMIN]
    with pytest.raises(ValueError, match="unknown permission"):
        can("admin", "cases.destroy")
    with pytest.raises(InvalidInput):
        can("root", "cases.read")


def test_user_require(bastion: Bastion, users: Users) -> None:
    auditor = make(bastion, users, "olga", "auditor")
    auditor.require("cases.read")
    with pytest.raises(Forbidden) as raised:
        auditor.require("cases.decide")
    assert raised.value.context == {"required_permission": "cases.decide"}
