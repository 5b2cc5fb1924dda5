"""People who sign in to the review workbench: accounts, roles and what each role may do.

Passwords are argon2id hashes (:mod:`bastion.accounts.passwords`). Every change to an account and
every sign-in attempt is an audit event; people appear in the log as ``user:<username>``.

Sign-in never tells an attacker which usernames exist: an unknown username, a wrong password, a
disabled account and a locked-out account all raise the same :class:`LoginFailed`, after the same
amount of hashing work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NoReturn

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bastion.accounts.passwords import (
    burn_verification,
    check_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from bastion.audit import AuditLog
from bastion.errors import Conflict, Forbidden, InvalidInput, LoginFailed, UserExists, UserNotFound
from bastion.storage.models import UserRow, UserSessionRow, utcnow

Clock = Callable[[], datetime]


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    MODERATOR = "moderator"
    AUDITOR = "auditor"


PERMISSIONS: dict[str, str] = {
    "cases.read": "see review queues, cases and their (blurred) evidence",
    "cases.decide": "decide cases and appeals",
    "banks.read": "list banks and their entries",
    "banks.write": "create, change and delete banks and entries",
    "streams.read": "see watched streams, incidents and alerts",
    "streams.write": "start and stop watching streams, declare and close incidents",
    "policy.read": "see the moderation policy (thresholds, routing, actions)",
    "policy.write": "change the moderation policy",
    "audit.read": "read the audit log",
    "share.read": "see partners, grants, subscriptions, trusted signers, feedback and what was "
    "shared with whom",
    "share.write": "manage subscriptions to partners' feeds, poll them, send partners feedback",
    "share.manage": "create, change and delete partners, their credentials and grants; trust and "
    "revoke partners' signing keys",
    "finance.read": "see sanctions lists and listed entities, screen names and wallets, take a "
    "case's financial evidence report",
    "finance.manage": "import and remove sanctions lists",
    "users.manage": "create and change user accounts",
}

_READ = frozenset(p for p in PERMISSIONS if p.endswith(".read"))
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(PERMISSIONS),
    # Analysts run the day-to-day exchange (subscriptions, feedback); who we share with, and with
    # which credentials and keys, is an admin's decision (share.manage).
    Role.ANALYST: _READ
    | {"cases.decide", "banks.write", "streams.write", "share.write", "finance.manage"},
    # Moderators review content; which organisations we exchange with is not theirs to need.
    Role.MODERATOR: frozenset({"cases.read", "cases.decide", "banks.read", "streams.read"}),
    # Auditors oversee: they may read everything and change nothing.
    Role.AUDITOR: _READ,
}

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
_USERNAME_HELP = (
    "2 to 64 characters: lower-case letters, digits and . _ @ -, starting with a letter or digit"
)


def parse_role(value: str | Role) -> Role:
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput(
            f"unknown role {value!r}; known: {known}", known_roles=list(Role)
        ) from None


def can(role: Role | str, permission: str) -> bool:
    """Whether ``role`` grants ``permission``. An unknown permission is a programming error
    (a typo would otherwise silently deny), so it raises ValueError."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return permission in ROLE_PERMISSIONS[parse_role(role)]


def normalize_username(username: str) -> str:
    """Usernames are compared in lower case: "Alice" and "alice" are one person."""
    return username.strip().lower()


def actor_for(username: str) -> str:
    """How a person appears in audit events."""
    return f"user:{username}"


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    languages: list[str]
    active: bool
    failed_logins: int
    locked_until: datetime | None
    created_by: str
    created_at: datetime
    password_changed_at: datetime
    last_login_at: datetime | None

    @property
    def actor(self) -> str:
        return actor_for(self.username)

    def can(self, permission: str) -> bool:
        return self.active and can(self.role, permission)

    def require(self, permission: str) -> None:
        """Raise :class:`Forbidden` unless this user's role grants ``permission``."""
        if not self.can(permission):
            raise Forbidden(
                f"the {self.role.value} role lacks the {permission!r} permission",
                required_permission=permission,
            )

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def user_info(row: UserRow) -> UserInfo:
    return UserInfo(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        languages=list(row.languages),
        active=row.active,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        created_by=row.created_by,
        created_at=row.created_at,
        password_changed_at=row.password_changed_at,
        last_login_at=row.last_login_at,
    )


def revoke_user_sessions(session: Session, user_id: int, now: datetime) -> int:
    """End every live sign-in of one user; the number ended."""
    result = session.execute(
        update(UserSessionRow)
        .where(UserSessionRow.user_id == user_id, UserSessionRow.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class Users:
    """Accounts and sign-in. Methods work inside the caller's session (one unit of work), like
    every other service, except :meth:`authenticate`, which commits its own failures."""

    def __init__(
        self,
        audit: AuditLog,
        *,
        max_failures: int = 5,
        lockout: timedelta = timedelta(minutes=15),
        clock: Clock = utcnow,
    ) -> None:
        self._audit = audit
        self._max_failures = max_failures
        self._lockout = lockout
        self._clock = clock

    # --- administration ---------------------------------------------------------------------

    def create(
        self,
        session: Session,
        *,
        username: str,
        password: str,
        role: Role | str,
        actor: str,
        display_name: str = "",
        languages: list[str] | None = None,
    ) -> UserInfo:
        name = normalize_username(username)
        if not USERNAME_PATTERN.match(name):
            raise InvalidInput(f"bad username {username!r}: {_USERNAME_HELP}")
        parsed_role = parse_role(role)
        check_policy(password, username=name)
        if self._find(session, name) is not None:
            raise UserExists(f"a user named {name!r} exists")
        now = self._clock()
        row = UserRow(
            username=name,
            display_name=display_name.strip()[:255],
            password_hash=hash_password(password),
            role=parsed_role.value,
            languages=sorted({lang.strip().lower() for lang in languages or [] if lang.strip()}),
            active=True,
            failed_logins=0,
            created_by=actor,
            created_at=now,
            password_changed_at=now,
        )
        session.add(row)
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="user.create",
            target_type="user",
            target_id=name,
            details={"role": row.role, "display_name": row.display_name},
        )
        return user_info(row)

    def list(self, session: Session, *, include_disabled: bool = True) -> list[UserInfo]:
        query = select(UserRow).order_by(UserRow.username)
        if not include_disabled:
            query = query.where(UserRow.active.is_(True))
        return [user_info(row) for row in session.scalars(query)]

    def get(self, session: Session, username: str) -> UserInfo:
        return user_info(self._require(session, username))

    def set_role(
        self, session: Session, username: str, role: Role | str, *, actor: str
    ) -> UserInfo:
        row = self._require(session, username)
        new_role = parse_role(role)
        old_role = row.role
        if old_role != new_role.value:
            if old_role == Role.ADMIN.value and row.active:
                self._keep_an_admin(session, row)
            row.role = new_role.value
            self._audit.record(
                session,
                actor=actor,
                action="user.set_role",
                target_type="user",
                target_id=row.username,
                details={"from": old_role, "to": new_role.value},
            )
        return user_info(row)

    def set_password(
        self, session: Session, username: str, password: str, *, actor: str
    ) -> UserInfo:
        """Change a password and end every sign-in of that user (a password change is what
        people do when they fear someone else knows it)."""
        row = self._require(session, username)
        check_policy(password, username=row.username)
        now = self._clock()
        row.password_hash = hash_password(password)
        row.password_changed_at = now
        ended = revoke_user_sessions(session, row.id, now)
        self._audit.record(
            session,
            actor=actor,
            action="user.set_password",
            target_type="user",
            target_id=row.username,
            details={"sessions_ended": ended},
        )
        return user_info(row)

    def disable(self, session: Session, username: str, *, actor: str) -> UserInfo:
        """Refuse the user's sign-ins from now on and end the live ones. The account (and the
        decisions it made) stays: the audit trail names it."""
        row = self._require(session, username)
        if row.active:
            if row.role == Role.ADMIN.value:
                self._keep_an_admin(session, row)
            row.active = False
            ended = revoke_user_sessions(session, row.id, self._clock())
            self._audit.record(
                session,
                actor=actor,
                action="user.disable",
                target_type="user",
                target_id=row.username,
                details={"sessions_ended": ended},
            )
        return user_info(row)

    def enable(self, session: Session, username: str, *, actor: str) -> UserInfo:
        row = self._require(session, username)
        if not row.active:
            row.active = True
            self._audit.record(
                session,
                actor=actor,
                action="user.enable",
                target_type="user",
                target_id=row.username,
            )
        return user_info(row)

    def unlock(self, session: Session, username: str, *, actor: str) -> UserInfo:
        """End a lock-out early and forget earlier failures."""
        row = self._require(session, username)
        if row.failed_logins or row.locked_until is not None:
            row.failed_logins = 0
            row.locked_until = None
            self._audit.record(
                session,
                actor=actor,
                action="user.unlock",
                target_type="user",
                target_id=row.username,
            )
        return user_info(row)

    # --- sign-in ----------------------------------------------------------------------------

    def authenticate(
        self, session: Session, username: str, password: str, *, client: str = ""
    ) -> UserInfo:
        """The user, if ``username`` and ``password`` match an active, unlocked account.

        Otherwise :class:`LoginFailed`, the same for every reason. Before raising, the failure
        (the counter, a lock-out, the audit event) is committed in ``session``: a refused login
        must be remembered even though the caller's unit of work ends in an error.
        ``client`` (an address, a browser) is recorded in the audit events when given.
        """
        name = normalize_username(username)
        now = self._clock()
        row = self._find(session, name, for_update=True) if name else None
        details: dict[str, object] = {"client": client[:255]} if client else {}
        if row is None:
            burn_verification(password)
            # The attempted name is attacker-chosen: keep it short in the log.
            self._refuse(session, name[:64] or "-", {**details, "reason": "unknown_user"})
        # Hash first, decide after: every path costs one argon2 verification.
        matches = verify_password(row.password_hash, password)
        if not row.active:
            self._refuse(session, row.username, {**details, "reason": "disabled"})
        if row.locked_until is not None and row.locked_until > now:
            reason = {"reason": "locked", "locked_until": row.locked_until.isoformat()}
            self._refuse(session, row.username, {**details, **reason})
        if not matches:
            row.failed_logins = (row.failed_logins or 0) + 1
            if row.locked_until is not None:
                row.locked_until = None  # an expired lock-out: a fresh count has begun
            failure = {**details, "reason": "wrong_password", "failures": row.failed_logins}
            self._audit.record(
                session,
                actor=actor_for(row.username),
                action="user.login_failed",
                target_type="user",
                target_id=row.username,
                details=failure,
            )
            if row.failed_logins >= self._max_failures:
                row.locked_until = now + self._lockout
                row.failed_logins = 0
                self._audit.record(
                    session,
                    actor=actor_for(row.username),
                    action="user.locked",
                    target_type="user",
                    target_id=row.username,
                    details={**details, "until": row.locked_until.isoformat()},
                )
            self._refuse(session, row.username, None)
        row.failed_logins = 0
        row.locked_until = None
        row.last_login_at = now
        if needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)
        self._audit.record(
            session,
            actor=actor_for(row.username),
            action="user.login",
            target_type="user",
            target_id=row.username,
            details=details,
        )
        return user_info(row)

    def get_by_id(self, session: Session, user_id: int) -> UserInfo | None:
        row = session.get(UserRow, user_id)
        return None if row is None else user_info(row)

    # --- helpers ----------------------------------------------------------------------------

    def _refuse(
        self, session: Session, username: str, details: dict[str, object] | None
    ) -> NoReturn:
        """Record (unless already recorded), commit, and raise the one sign-in error."""
        if details is not None:
            self._audit.record(
                session,
                actor=actor_for(username),
                action="user.login_failed",
                target_type="user",
                target_id=username,
                details=details,
            )
        session.commit()
        raise LoginFailed("wrong username or password, or the account is disabled or locked")

    def _find(self, session: Session, username: str, *, for_update: bool = False) -> UserRow | None:
        query = select(UserRow).where(UserRow.username == username)
        if for_update:
            # Concurrent attempts on one account must not lose failure counts.
            query = query.with_for_update()
        return session.scalars(query).first()

    def _require(self, session: Session, username: str) -> UserRow:
        row = self._find(session, normalize_username(username))
        if row is None:
            raise UserNotFound(f"no user named {normalize_username(username)!r}")
        return row

    def _keep_an_admin(self, session: Session, leaving: UserRow) -> None:
        """Refuse to demote or disable the last active admin: nobody could manage users then."""
        others = session.scalar(
            select(func.count())
            .select_from(UserRow)
            .where(
                UserRow.role == Role.ADMIN.value,
                UserRow.active.is_(True),
                UserRow.id != leaving.id,
            )
        )
        if not others:
            raise Conflict(f"{leaving.username!r} is the last active admin: make another first")
