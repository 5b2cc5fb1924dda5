"""Partners: the organisations this instance shares with, their credentials and collection grants.

A partner is a peer Bastion or TAXII server (``bastion``, ``taxii``), or a hash programme reached
through its own API (``threatexchange``, ``tat``, ``ncmec``, ``stopncii``) or a ``file`` an
operator drops in. What the partner may read from us and write to us is a *grant* per bank; TLP
applies on top (red never leaves; amber only to partners marked ``amber``). Every change is
audited; credentials are sealed with :class:`bastion.share.secrets.SecretBox`.
"""

from __future__ import annotations

import builtins
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.errors import BankNotFound, InvalidInput, PartnerExists, PartnerNotFound
from bastion.share.secrets import SecretBox
from bastion.storage.models import ApiKeyRow, BankRow
from bastion.storage.share_models import CollectionGrantRow, PartnerRow

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_MAX_OPTIONS_BYTES = 8192


class PartnerKind(StrEnum):
    BASTION = "bastion"  # another Bastion: TAXII 2.1 with signed pages
    TAXII = "taxii"  # any TAXII 2.1 server
    THREATEXCHANGE = "threatexchange"  # Meta ThreatExchange (GIFCT members' hash sharing)
    TAT = "tat"  # Tech Against Terrorism's hash list
    NCMEC = "ncmec"
    STOPNCII = "stopncii"
    FILE = "file"  # a local file in a partner's list format


@dataclass(frozen=True, slots=True)
class GrantInfo:
    bank: str
    can_read: bool
    can_write: bool


@dataclass(frozen=True, slots=True)
class PartnerInfo:
    id: int
    name: str
    kind: PartnerKind
    url: str
    api_key_id: int | None
    amber: bool
    signer: str
    credential_fields: list[str]
    options: dict[str, Any]
    enabled: bool
    created_at: datetime
    grants: list[GrantInfo] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind.value,
            "url": self.url,
            "api_key_id": self.api_key_id,
            "amber": self.amber,
            "signer": self.signer,
            "credentials": self.credential_fields,  # which fields are set, never their values
            "options": self.options,
            "enabled": self.enabled,
            "created_at": self.created_at.isoformat(),
            "grants": [
                {"bank": g.bank, "can_read": g.can_read, "can_write": g.can_write}
                for g in self.grants
            ],
        }


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            "a partner name is 1 to 64 lower-case letters, digits, '.', '_' or '-'", name=name
        )
    return name


def check_kind(kind: str) -> PartnerKind:
    try:
        return PartnerKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in PartnerKind)
        raise InvalidInput(f"unknown partner kind {kind!r}; known: {known}") from None


def _check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(options, Mapping):
        raise InvalidInput("options must be a JSON object")
    if len(json.dumps(options, default=str)) > _MAX_OPTIONS_BYTES:
        raise InvalidInput(f"options are limited to {_MAX_OPTIONS_BYTES} bytes")
    return dict(options)


class Partners:
    """Create, change and look up partners and their grants."""

    def __init__(self, audit: AuditLog, data_dir: Path, secret_key: str | None = None) -> None:
        self._audit = audit
        self._data_dir = data_dir
        self._secret_key = secret_key
        self._box: SecretBox | None = None

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox.open_for(self._data_dir, self._secret_key)
        return self._box

    # --- reading ------------------------------------------------------------------------------

    def row(self, session: Session, name: str) -> PartnerRow:
        found = session.scalar(select(PartnerRow).where(PartnerRow.name == name))
        if found is None:
            raise PartnerNotFound(f"no partner {name[:64]!r}")
        return found

    def info(self, session: Session, row: PartnerRow) -> PartnerInfo:
        grants = session.execute(
            select(CollectionGrantRow, BankRow.name)
            .join(BankRow, BankRow.id == CollectionGrantRow.bank_id)
            .where(CollectionGrantRow.partner_id == row.id)
            .order_by(BankRow.name)
        ).all()
        return PartnerInfo(
            id=row.id,
            name=row.name,
            kind=PartnerKind(row.kind),
            url=row.url,
            api_key_id=row.api_key_id,
            amber=row.amber,
            signer=row.signer,
            credential_fields=SecretBox.field_names(self.box.unseal(row.credentials))
            if row.credentials
            else [],
            options=dict(row.options or {}),
            enabled=row.enabled,
            created_at=row.created_at,
            grants=[GrantInfo(name, g.can_read, g.can_write) for g, name in grants],
        )

    def get(self, session: Session, name: str) -> PartnerInfo:
        return self.info(session, self.row(session, name))

    def list(self, session: Session) -> builtins.list[PartnerInfo]:
        rows = session.scalars(select(PartnerRow).order_by(PartnerRow.name))
        return [self.info(session, row) for row in rows]

    def for_key(self, session: Session, api_key_id: int) -> PartnerRow | None:
        """The partner that calls us with this API key, if the key belongs to one."""
        return session.scalar(
            select(PartnerRow).where(PartnerRow.api_key_id == api_key_id, PartnerRow.enabled)
        )

    def grants_of(self, session: Session, partner_id: int) -> dict[int, CollectionGrantRow]:
        """The partner's grants by bank id."""
        rows = session.scalars(
            select(CollectionGrantRow).where(CollectionGrantRow.partner_id == partner_id)
        )
        return {row.bank_id: row for row in rows}

    def credentials(self, session: Session, name: str) -> dict[str, str]:
        """The partner's decrypted credentials, for a client about to call it. Never log them."""
        return self.box.unseal(self.row(session, name).credentials)

    # --- changing -----------------------------------------------------------------------------

    def _key_id(self, session: Session, api_key: str | None) -> int | None:
        """The id of the key named by its prefix (as ``bastion keys list`` shows it)."""
        if not api_key:
            return None
        key = session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == api_key))
        if key is None:
            raise InvalidInput(f"no API key with prefix {api_key[:32]!r}", field="api_key")
        return key.id

    def create(
        self,
        session: Session,
        *,
        name: str,
        kind: str,
        actor: str,
        url: str = "",
        api_key: str | None = None,
        amber: bool = False,
        signer: str = "",
        credentials: Mapping[str, object] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> PartnerInfo:
        row = PartnerRow(
            name=check_name(name),
            kind=check_kind(kind).value,
            url=url.strip(),
            api_key_id=self._key_id(session, api_key),
            amber=bool(amber),
            signer=signer,
            credentials=self.box.seal(credentials) if credentials else None,
            options=_check_options(options or {}),
            created_by=actor,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            if session.scalar(select(PartnerRow.id).where(PartnerRow.name == name)) is None:
                raise  # another constraint: a bug, not the user's doing
            raise PartnerExists(f"partner {name!r} already exists") from None
        self._audit.record(
            session,
            actor=actor,
            action="partner.create",
            target_type="partner",
            target_id=name,
            details={
                "kind": row.kind,
                "url": row.url,
                "amber": row.amber,
                "signer": signer,
                "credentials": sorted(credentials or {}),
                "api_key_id": row.api_key_id,
            },
        )
        return self.info(session, row)

    def update(
        self,
        session: Session,
        name: str,
        *,
        actor: str,
        url: str | None = None,
        api_key: str | None = None,
        amber: bool | None = None,
        signer: str | None = None,
        credentials: Mapping[str, object] | None = None,
        options: Mapping[str, Any] | None = None,
        enabled: bool | None = None,
    ) -> PartnerInfo:
        row = self.row(session, name)
        changes: dict[str, Any] = {}
        if url is not None:
            row.url = changes["url"] = url.strip()
        if api_key is not None:
            row.api_key_id = changes["api_key_id"] = self._key_id(session, api_key)
        if amber is not None:
            row.amber = changes["amber"] = bool(amber)
        if signer is not None:
            row.signer = changes["signer"] = signer
        if credentials is not None:
            row.credentials = self.box.seal(credentials) if credentials else None
            changes["credentials"] = sorted(credentials)  # names only, never values
        if options is not None:
            row.options = changes["options"] = _check_options(options)
        if enabled is not None:
            row.enabled = changes["enabled"] = bool(enabled)
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="partner.update",
            target_type="partner",
            target_id=name,
            details=changes,
        )
        return self.info(session, row)

    def delete(self, session: Session, name: str, *, actor: str) -> None:
        row = self.row(session, name)
        session.delete(row)
        session.flush()
        self._audit.record(
            session, actor=actor, action="partner.delete", target_type="partner", target_id=name
        )

    def grant(
        self,
        session: Session,
        name: str,
        bank: str,
        *,
        actor: str,
        can_read: bool = True,
        can_write: bool = False,
    ) -> PartnerInfo:
        """Let the partner read (and maybe write) ``bank``'s collection; replaces a grant."""
        partner = self.row(session, name)
        bank_row = session.scalar(select(BankRow).where(BankRow.name == bank))
        if bank_row is None:
            raise BankNotFound(f"bank {bank!r} does not exist")
        if bank_row.tlp == "red" and (can_read or can_write):
            raise InvalidInput(
                f"bank {bank!r} is TLP:RED: it never leaves this instance, so it cannot be granted"
            )
        grant = session.scalar(
            select(CollectionGrantRow).where(
                CollectionGrantRow.partner_id == partner.id,
                CollectionGrantRow.bank_id == bank_row.id,
            )
        )
        if not can_read and not can_write:
            if grant is not None:
                session.delete(grant)
        elif grant is None:
            session.add(
                CollectionGrantRow(
                    partner_id=partner.id,
                    bank_id=bank_row.id,
                    can_read=can_read,
                    can_write=can_write,
                    created_by=actor,
                )
            )
        else:
            grant.can_read, grant.can_write = can_read, can_write
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="partner.grant",
            target_type="partner",
            target_id=name,
            details={"bank": bank, "can_read": can_read, "can_write": can_write},
        )
        return self.info(session, partner)
