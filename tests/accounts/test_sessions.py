"""Sign-in sessions: expiry, idle timeout, logout, forged and replayed tokens, CSRF."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from bastion.accounts.sessions import Sessions, StartedSession, check_csrf, csrf_token
from bastion.accounts.users import UserInfo, Users
from bastion.errors import CsrfFailed, LoginFailed, SessionExpired
from bastion.runtime import Bastion
from bastion.storage.models import UserSessionRow

from .conftest import IDLE, LIFETIME, PASSWORD, FakeClock


@pytest.fixture
def alice(bastion: Bastion, users: Users) -> UserInfo:
    with bastion.db.session() as session:
        return users.create(
            session, username="alice", password=PASSWORD, role="moderator", actor="cli:t"
        )


def start(bastion: Bastion, sessions: Sessions, user: UserInfo) -> StartedSession:
    with bastion.db.session() as session:
        return sessions.start(session, user, user_agent="Firefox")


def resolve(bastion: Bastion, sessions: Sessions, token: str | None) -> UserInfo:
    with bastion.db.session() as session:
        return sessions.resolve(session, token)


def refused(bastion: Bastion, sessions: Sessions, token: str | None) -> SessionExpired:
    with pytest.raises(SessionExpired) as raised:
        resolve(bastion, sessions, token)
    assert raised.value.code == "session_expired" and raised.value.status == 401
    return raised.value


def test_start_and_resolve(
    bastion: Bastion, sessions: Sessions, alice: UserInfo, clock: FakeClock
) -> None:
    started = start(bastion, sessions, alice)
    with bastion.db.session() as session:
        row = session.scalars(select(UserSessionRow)).one()

    assert resolve(bastion, sessions, started.token) == alice
    assert started.expires_at == clock.now + LIFETIME and started.user == alice
    assert len(started.token) >= 43 and started.csrf_token == csrf_token(started.token)
    # Only the token's SHA-256 is stored: the database cannot be replayed as a sign-in.
    assert row.token_hash == hashlib.sha256(started.token.encode()).hexdigest()
    assert started.token not in (row.token_hash, row.user_agent) and row.user_agent == "Firefox"
    assert start(bastion, sessions, alice).token != started.token


def test_session_ends_at_its_lifetime_however_active(
    bastion: Bastion, sessions: Sessions, alice: UserInfo, clock: FakeClock
) -> None:
    token = start(bastion, sessions, alice).token
    for _ in range(int(LIFETIME / IDLE) * 2 - 1):
        clock.advance(seconds=IDLE.total_seconds() / 2)
        resolve(bastion, sessions, token)
    clock.advance(seconds=IDLE.total_seconds() / 2)
    refused(bastion, sessions, token)


def test_idle_session_ends(
    bastion: Bastion, sessions: Sessions, alice: UserInfo, clock: FakeClock
) -> None:
    token = start(bastion, sessions, alice).token
    clock.advance(seconds=IDLE.total_seconds())
    resolve(bastion, sessions, token)  # exactly the idle limit: still alive, and touched
    clock.advance(seconds=IDLE.total_seconds() + 1)
    refused(bastion, sessions, token)


def test_last_seen_written_at_most_once_a_minute(
    bastion: Bastion, sessions: Sessions, alice: UserInfo, clock: FakeClock
) -> None:
    token = start(bastion, sessions, alice).token
    started_at = clock.now

    def last_seen() -> object:
        with bastion.db.session() as session:
            return session.scalars(select(UserSessionRow.last_seen_at)).one()

    clock.advance(seconds=30)
    resolve(bastion, sessions, token)
    assert last_seen() == started_at
    clock.advance(seconds=31)
    resolve(bastion, sessions, token)
    assert last_seen() == clock.now


def test_logout_is_audited_and_the_token_cannot_be_replayed(
    bastion: Bastion, sessions: Sessions, alice: UserInfo
) -> None:
    first = start(bastion, sessions, alice)
    second = start(bastion, sessions, alice)
    with bastion.db.session() as session:
        assert sessions.revoke(session, first.token)
        assert not sessions.revoke(session, first.token)  # twice is harmless
        assert not sessions.revoke(session, "never-issued")
        events = bastion.audit.list(session, action="user.logout")

    refused(bastion, sessions, first.token)
    assert resolve(bastion, sessions, second.token) == alice  # other sign-ins live on
    assert len(events) == 1 and events[0].actor == "user:alice"


def test_sign_out_everywhere(bastion: Bastion, sessions: Sessions, alice: UserInfo) -> None:
    tokens = [start(bastion, sessions, alice).token for _ in range(3)]
    with bastion.db.session() as session:
        assert sessions.revoke_all(session, alice, actor=alice.actor) == 3
    for token in tokens:
        refused(bastion, sessions, token)


def test_forged_tokens_are_refused(bastion: Bastion, sessions: Sessions, alice: UserInfo) -> None:
    started = start(bastion, sessions, alice)
    stored_hash = hashlib.sha256(started.token.encode()).hexdigest()
    forged = [None, "", "   ", "x" * 10_000, stored_hash, started.token[:-1], started.token + "A"]
    errors = [refused(bastion, sessions, token) for token in forged]
    assert len({e.detail for e in errors}) == 1


def test_disabled_users_sessions_refused_and_not_started(
    bastion: Bastion, users: Users, sessions: Sessions, alice: UserInfo
) -> None:
    with bastion.db.session() as session:
        users.disable(session, "alice", actor="cli:t")
    with bastion.db.session() as session, pytest.raises(LoginFailed):
        sessions.start(session, alice)


def test_csrf_token_is_bound_to_its_session(
    bastion: Bastion, sessions: Sessions, alice: UserInfo
) -> None:
    mine = start(bastion, sessions, alice)
    other = start(bastion, sessions, alice)

    check_csrf(mine.token, mine.csrf_token)
    check_csrf(mine.token, f" {mine.csrf_token}\n")
    assert mine.csrf_token != other.csrf_token
    assert csrf_token(mine.token) == mine.csrf_token  # stable for the session's life
    last = "1" if mine.csrf_token.endswith("0") else "0"  # always a different last character
    altered = mine.csrf_token[:-1] + last
    for presented in [None, "", other.csrf_token, mine.token, altered, "é" * 64]:
        with pytest.raises(CsrfFailed) as raised:
            check_csrf(mine.token, presented)
        assert raised.value.code == "csrf_failed" and raised.value.status == 403
    with pytest.raises(CsrfFailed):
        check_csrf(None, mine.csrf_token)
    with pytest.raises(CsrfFailed):
        check_csrf("", csrf_token(""))


def test_ended_sign_ins_are_dropped_at_the_next_sign_in(
    bastion: Bastion, sessions: Sessions, alice: UserInfo
) -> None:
    ended = start(bastion, sessions, alice)
    with bastion.db.session() as session:
        assert sessions.revoke(session, ended.token)
    live = start(bastion, sessions, alice)
    with bastion.db.session() as session:
        rows = session.scalars(
            select(UserSessionRow).where(UserSessionRow.user_id == alice.id)
        ).all()
    assert len(rows) == 1  # only the live sign-in is kept
    refused(bastion, sessions, ended.token)
    assert resolve(bastion, sessions, live.token) == alice
