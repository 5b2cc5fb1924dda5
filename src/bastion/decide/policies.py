"""Policy versions: stored in the ``policy`` table, one active, every change audited.

A version is immutable once created: changing the rules means creating a new version and
activating it, so any past verdict can be explained with the rules it was made under. The stored
rules are the *full* policy (every default written out), so a later change of a built-in default
never silently changes a stored version. With no active version, the built-in
:data:`~bastion.decide.policy.DEFAULT_POLICY` applies (reported as version 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.decide.policy import DEFAULT_POLICY, Policy, parse_policy
from bastion.errors import InvalidInput, PolicyNotFound
from bastion.storage.models import PolicyRow

MAX_NOTE_CHARS = 2000
BUILT_IN_VERSION = 0


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version: int  # 0: the built-in default (nothing stored is active)
    policy: Policy
    active: bool
    created_by: str
    created_at: datetime | None
    note: str


def _version(row: PolicyRow) -> PolicyVersion:
    return PolicyVersion(
        version=row.version,
        policy=parse_policy(row.rules),
        active=row.active,
        created_by=row.created_by,
        created_at=row.created_at,
        note=row.note,
    )


class Policies:
    """Create, list and activate policy versions inside the caller's session (one unit of work)."""

    def __init__(self, audit: AuditLog) -> None:
        self._audit = audit

    def create(
        self,
        session: Session,
        rules: dict[str, Any] | Policy,
        *,
        actor: str,
        note: str = "",
        activate: bool = False,
    ) -> PolicyVersion:
        """Validate ``rules`` and store them as the next version (audited ``policy.create``).

        ``InvalidInput`` with the field path when the rules are not a valid policy. The new
        version is inactive unless ``activate`` (then also audited ``policy.activate``).
        """
        policy = rules if isinstance(rules, Policy) else parse_policy(rules)
        if len(note) > MAX_NOTE_CHARS:
            raise InvalidInput(
                f"note is {len(note)} characters, more than the limit of {MAX_NOTE_CHARS}",
                field="note",
            )
        latest = session.scalar(select(func.max(PolicyRow.version)))
        row = PolicyRow(
            version=int(latest or 0) + 1,
            rules=policy.to_json(),
            active=False,
            created_by=actor,
            note=note,
        )
        session.add(row)
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="policy.create",
            target_type="policy",
            target_id=row.version,
            details={"version": row.version, "note": note, "rules": row.rules},
        )
        if activate:
            return self.activate(session, row.version, actor=actor)
        return _version(row)

    def _row(self, session: Session, version: int) -> PolicyRow:
        row = session.scalars(select(PolicyRow).where(PolicyRow.version == version)).first()
        if row is None:
            raise PolicyNotFound(f"no policy version {version}", version=version)
        return row

    def get(self, session: Session, version: int) -> PolicyVersion:
        return _version(self._row(session, version))

    def list(self, session: Session) -> list[PolicyVersion]:
        """Every stored version, newest first."""
        rows = session.scalars(select(PolicyRow).order_by(PolicyRow.version.desc()))
        return [_version(row) for row in rows]

    def activate(self, session: Session, version: int, *, actor: str) -> PolicyVersion:
        """Make ``version`` the one active policy (audited ``policy.activate``, with the
        version it replaced). ``PolicyNotFound`` when there is no such version."""
        row = self._row(session, version)
        previous = session.scalars(
            select(PolicyRow.version).where(PolicyRow.active.is_(True))
        ).all()
        session.execute(
            update(PolicyRow)
            .where(PolicyRow.active.is_(True), PolicyRow.id != row.id)
            .values(active=False)
        )
        row.active = True
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="policy.activate",
            target_type="policy",
            target_id=row.version,
            details={
                "version": row.version,
                "previous": [v for v in previous if v != row.version] or None,
            },
        )
        return _version(row)

    def active_version(self, session: Session) -> PolicyVersion:
        """The active version, or the built-in default as version 0 when none is active."""
        row = session.scalars(
            select(PolicyRow).where(PolicyRow.active.is_(True)).order_by(PolicyRow.version.desc())
        ).first()
        if row is None:
            return PolicyVersion(
                version=BUILT_IN_VERSION,
                policy=DEFAULT_POLICY,
                active=True,
                created_by="built-in",
                created_at=None,
                note="the built-in default policy",
            )
        return _version(row)

    def active(self, session: Session) -> Policy:
        """The policy verdicts are made under now."""
        return self.active_version(session).policy
