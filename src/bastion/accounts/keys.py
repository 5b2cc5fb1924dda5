"""Scoped API keys.

A key looks like ``bst_<prefix>_<secret>``. Only SHA-256 of the whole key is stored (keys are
long random strings, so a slow password hash adds nothing); the prefix finds the row and names the
key in logs and audit events without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.errors import Forbidden, InvalidInput, KeyNotFound, Unauthorized
from bastion.storage.models import ApiKeyRow, utcnow

SCOPES: dict[str, str] = {
    "scan": "hash and scan content, read scan results",
    "banks:read": "list banks and their entries",
    "banks:write": "create, change and delete banks and entries",
    "audit:read": "read the audit log",
    "streams:read": "list watched streams and their status, incidents",
    "streams:write": "start and stop watching streams, bank a range of a stream",
    "incidents:write": "declare and close incidents (crisis mode)",
    "cases:read": "list and read cases with their blurred evidence images, queues, decisions",
    "cases:write": "assign and decide cases (as the key), including bulk decisions",
    "appeals:write": "submit a user's appeal against a decision (the platform does)",
    "actions:read": "list platform actions and the dead-letter queue",
    "actions:write": "replay failed or dead actions",
    "policy:read": "read verdict policy versions",
    "policy:write": "create and activate verdict policy versions",
    "taxii:read": "read shared banks (TLP clear and green) over TAXII 2.1",
    "taxii:amber": "with taxii:read, also read TLP amber and amber+strict banks (a named partner)",
    "taxii:write": "with a partner's write grant, add objects (sightings, opinions, indicators) "
    "to its collections over TAXII 2.1",
    "share:read": "list partners, subscriptions, feedback and what was shared with whom",
    "share:write": "manage partners, grants and subscriptions; poll feeds; send feedback",
    "finance:read": "extract payment instruments, screen names and wallets, read sanctions "
    "lists and listed entities, take a case's financial evidence report",
    "finance:write": "import and remove sanctions lists, put a list's wallets into a bank",
    "admin": "everything, including managing API keys",
}
KEY_PREFIX = "bst"
# Writing last_used_at on every request would turn each read into a write; once a minute is enough.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def actor(self) -> str:
        """How this key appears in audit events."""
        return f"key:{self.prefix}"

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


@dataclass(frozen=True, slots=True)
class CreatedKey:
    info: ApiKeyInfo
    secret: str  # shown once, never stored


def normalize_scopes(scopes: list[str]) -> list[str]:
    cleaned = sorted({s.strip() for s in scopes if s.strip()})
    if not cleaned:
        raise InvalidInput("a key needs at least one scope", known_scopes=sorted(SCOPES))
    unknown = [s for s in cleaned if s not in SCOPES]
    if unknown:
        raise InvalidInput(
            f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(SCOPES))}"
        )
    return cleaned


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=list(row.scopes),
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class ApiKeys:
    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def create(
        self,
        session: Session,
        *,
        name: str,
        scopes: list[str],
        actor: str,
        expires_at: datetime | None = None,
    ) -> CreatedKey:
        if not name.strip():
            raise InvalidInput("a key needs a name")
        prefix = secrets.token_hex(4)
        secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        row = ApiKeyRow(
            name=name.strip(),
            prefix=prefix,
            secret_hash=_digest(secret),
            scopes=normalize_scopes(scopes),
            created_by=actor,
            expires_at=expires_at,
        )
        session.add(row)
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="key.create",
            target_type="api_key",
            target_id=prefix,
            details={"name": row.name, "scopes": row.scopes},
        )
        return CreatedKey(info=_info(row), secret=secret)

    def list(self, session: Session, *, include_revoked: bool = False) -> list[ApiKeyInfo]:
        query = select(ApiKeyRow).order_by(ApiKeyRow.id)
        if not include_revoked:
            query = query.where(ApiKeyRow.revoked_at.is_(None))
        return [_info(row) for row in session.scalars(query)]

    def revoke(self, session: Session, prefix: str, *, actor: str) -> ApiKeyInfo:
        row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix)).first()
        if row is None:
            raise KeyNotFound(f"no API key with prefix {prefix!r}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            self._audit.record(
                session, actor=actor, action="key.revoke", target_type="api_key", target_id=prefix
            )
        return _info(row)

    def authenticate(self, session: Session, presented: str) -> ApiKeyInfo:
        """The key's info if ``presented`` is a live key; Unauthorized otherwise (one message)."""
        parts = presented.strip().split("_", 2)
        refusal = Unauthorized("missing, unknown, revoked or expired API key")
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            raise refusal
        row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.prefix == parts[1])).first()
        if row is None or not hmac.compare_digest(row.secret_hash, _digest(presented.strip())):
            raise refusal
        now = utcnow()
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            raise refusal
        if row.last_used_at is None or now - row.last_used_at > _LAST_USED_RESOLUTION:
            row.last_used_at = now
        return _info(row)


def require_scope(key: ApiKeyInfo, scope: str) -> None:
    if not key.allows(scope):
        raise Forbidden(f"this API key lacks the {scope!r} scope", required_scope=scope)
