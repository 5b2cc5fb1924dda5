"""Signed-in browsers: session tokens for a cookie, and CSRF tokens derived from them.

A session token is 32 random bytes (URL-safe text), handed to the browser once, by
:meth:`Sessions.start`; only its SHA-256 is stored, so a copy of the database holds nothing that
can be replayed as a sign-in (the same reasoning as API keys: a long random secret needs no slow
hash). A sign-in ends at a fixed lifetime, after an idle period, on logout, or when the user is
disabled or changes password.

CSRF tokens are HMAC-SHA256 of a fixed label, keyed with the session token itself. Why this
design: the session token is already a 256-bit secret that only the browser's (HttpOnly) cookie and
the request in hand carry, so a page on another site cannot compute the CSRF token, while the
server recomputes it from the cookie on every request. There is nothing to store, no server-wide
key to generate, protect or rotate, and the CSRF token dies with its session. Being a one-way
function of the session token, a CSRF token that leaks (it sits in every page's forms) does not
reveal the session token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bastion.accounts.users import (
    Clock,
    UserInfo,
    actor_for,
    revoke_user_sessions,
    user_info,
)
from bastion.audit import AuditLog
from bastion.errors import CsrfFailed, LoginFailed, SessionExpired
from bastion.storage.models import UserRow, UserSessionRow, utcnow

# Writing last_seen_at on every request would turn each page view into a write; once a minute
# is precise enough for an idle timeout counted in minutes.
_LAST_SEEN_RESOLUTION = timedelta(minutes=1)
_TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
_MAX_TOKEN_LENGTH = 128
_CSRF_LABEL = b"bastion-csrf-v1"


@dataclass(frozen=True, slots=True)
class StartedSession:
    token: str  # for the cookie: shown once, never stored
    csrf_token: str
    user: UserInfo
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """The CSRF token forms and scripts must send back with every state-changing request."""
    return hmac.new(session_token.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


def check_csrf(session_token: str | None, presented: str | None) -> None:
    """Raise :class:`CsrfFailed` unless ``presented`` is the CSRF token of ``session_token``.

    Compared in constant time. This checks the pairing only: the caller also resolves the
    session (:meth:`Sessions.resolve`), which refuses ended ones.
    """
    if not session_token or not presented:
        raise CsrfFailed("missing CSRF token: reload the page and try again")
    expected = csrf_token(session_token).encode()
    if not hmac.compare_digest(expected, presented.strip().encode("utf-8", "replace")):
        raise CsrfFailed("wrong CSRF token: reload the page and try again")


class Sessions:
    def __init__(
        self,
        audit: AuditLog,
        *,
        lifetime: timedelta = timedelta(hours=8),
        idle: timedelta = timedelta(minutes=30),
        clock: Clock = utcnow,
    ) -> None:
        self._audit = audit
        self._lifetime = lifetime
        self._idle = idle
        self._clock = clock

    def start(self, session: Session, user: UserInfo, *, user_agent: str = "") -> StartedSession:
        """A new sign-in for ``user`` (just authenticated: the login itself is audited there)."""
        row_user = session.get(UserRow, user.id)
        if row_user is None or not row_user.active:
            raise LoginFailed("wrong username or password, or the account is disabled or locked")
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        now = self._clock()
        # Ended sign-ins of this user are dropped here, so the table does not grow forever;
        # the audit log keeps the record of every login and logout.
        session.execute(
            delete(UserSessionRow).where(
                UserSessionRow.user_id == row_user.id,
                or_(UserSessionRow.expires_at < now, UserSessionRow.revoked_at.is_not(None)),
            )
        )
        row = UserSessionRow(
            token_hash=_digest(token),
            user_id=row_user.id,
            created_at=now,
            expires_at=now + self._lifetime,
            last_seen_at=now,
            user_agent=user_agent[:255],
        )
        session.add(row)
        session.flush()
        return StartedSession(
            token=token,
            csrf_token=csrf_token(token),
            user=user_info(row_user),
            expires_at=row.expires_at,
        )

    def resolve(self, session: Session, token: str | None) -> UserInfo:
        """The signed-in user; :class:`SessionExpired` for a missing, unknown, expired, idle or
        ended session, or a user disabled since."""
        row = self._find(session, token)
        refusal = SessionExpired("not signed in, or the sign-in has ended: sign in again")
        if row is None or row.revoked_at is not None:
            raise refusal
        now = self._clock()
        if row.expires_at <= now or now - row.last_seen_at > self._idle:
            raise refusal
        user = session.get(UserRow, row.user_id)
        if user is None or not user.active:
            raise refusal
        if now - row.last_seen_at >= _LAST_SEEN_RESOLUTION:
            row.last_seen_at = now
        return user_info(user)

    def revoke(self, session: Session, token: str | None) -> bool:
        """Sign out: the token is refused from now on. Whether a live session was ended (an
        unknown or already ended token is not an error: logging out twice is harmless)."""
        row = self._find(session, token)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = self._clock()
        user = session.get(UserRow, row.user_id)
        username = user.username if user is not None else str(row.user_id)
        self._audit.record(
            session,
            actor=actor_for(username),
            action="user.logout",
            target_type="user",
            target_id=username,
            details={"session_id": row.id},
        )
        return True

    def revoke_all(self, session: Session, user: UserInfo, *, actor: str) -> int:
        """End every sign-in of ``user`` ("sign out everywhere"); how many were live."""
        ended = revoke_user_sessions(session, user.id, self._clock())
        self._audit.record(
            session,
            actor=actor,
            action="user.logout_all",
            target_type="user",
            target_id=user.username,
            details={"sessions_ended": ended},
        )
        return ended

    def _find(self, session: Session, token: str | None) -> UserSessionRow | None:
        token = (token or "").strip()
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            return None
        return session.scalars(
            select(UserSessionRow).where(UserSessionRow.token_hash == _digest(token))
        ).first()
