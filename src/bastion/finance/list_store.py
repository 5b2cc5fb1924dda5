"""Imported sanctions lists: read a file in streaming, store it as one version, supersede the last.

An import is all or nothing: the file is read record by record (:mod:`bastion.finance.lists`)
and written in batches inside one transaction, so a file that turns out truncated or hostile
halfway leaves nothing behind, and the error says where the file broke. Versions follow the date
the list gives itself: a newer file of the same list supersedes the active one, an older one is
kept as superseded; importing the same file twice is a no-op that returns the first import.

Wallets are stored in the ``crypto_address`` signal form (``scheme:value``), so a wallet found
in content matches by one indexed equality. An address on the list that fails its chain's
checksum (lists carry a few typos) is kept as ``unvalidated:<as written>``: it still matches the
same text exactly, and the import report counts it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.errors import BastionError, SanctionsListNotFound, SanctionsListTooLarge
from bastion.finance.crypto import LIST_CURRENCY_CHAINS, normalize_crypto_address
from bastion.finance.lists.read import open_list
from bastion.finance.lists.records import ListEntity, ListWallet
from bastion.storage.finance_models import (
    SanctionsEntityRow,
    SanctionsListRow,
    SanctionsNameRow,
    SanctionsWalletRow,
)
from bastion.storage.models import utcnow

IMPORTING: Final = "importing"
ACTIVE: Final = "active"
SUPERSEDED: Final = "superseded"
UNVALIDATED_PREFIX: Final = "unvalidated:"

# Entities written per round trip: large enough to amortise, small enough to keep memory flat.
_BATCH = 2000

LIST_NAMES: Final = {
    "ofac_sdn": "OFAC SDN",
    "un_sc": "UN Security Council consolidated list",
    "uk_sl": "UK Sanctions List",
    "eu_fsf": "EU consolidated financial sanctions list",
}


def list_name(source: str) -> str:
    """How people call a list: ``OFAC SDN`` for ``ofac_sdn``."""
    return LIST_NAMES.get(source, source)


def list_summary(row: SanctionsListRow) -> dict[str, Any]:
    """The list version a hit or an entity belongs to, as evidence names it."""
    return {
        "id": row.id,
        "source": row.source,
        "name": list_name(row.source),
        "published": row.published.isoformat() if row.published else None,
        "version": row.version,
        "status": row.status,
    }


@dataclass(frozen=True, slots=True)
class ListInfo:
    id: int
    source: str
    name: str
    format: str
    published: str | None
    version: str
    file_name: str
    file_sha256: str
    status: str
    entities: int
    names: int
    wallets: int
    wallets_unvalidated: int
    imported_by: str
    imported_at: datetime
    superseded_at: datetime | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["imported_at"] = self.imported_at.isoformat()
        data["superseded_at"] = self.superseded_at.isoformat() if self.superseded_at else None
        return data


def list_info(row: SanctionsListRow) -> ListInfo:
    return ListInfo(
        id=row.id,
        source=row.source,
        name=list_name(row.source),
        format=row.format,
        published=row.published.isoformat() if row.published else None,
        version=row.version,
        file_name=row.file_name,
        file_sha256=row.file_sha256,
        status=row.status,
        entities=row.entities,
        names=row.names,
        wallets=row.wallets,
        wallets_unvalidated=row.wallets_unvalidated,
        imported_by=row.imported_by,
        imported_at=row.imported_at,
        superseded_at=row.superseded_at,
        notes=list(row.notes or []),
    )


def wallet_signal_value(wallet: ListWallet) -> tuple[str, bool]:
    """A listed wallet as the ``crypto_address`` signal stores it, and whether it validated.

    The address's own format decides the scheme, as it does for addresses found in content (a
    ``BSV`` or ``BCH`` legacy address is written exactly like a Bitcoin one, and a post carrying
    it must hit the list); the list's currency code only helps an address no format names.
    """
    hint = LIST_CURRENCY_CHAINS.get(wallet.currency.strip().upper())
    for chain in (None, hint) if hint else (None,):
        try:
            scheme, value, _status = normalize_crypto_address(wallet.address, chain)
        except BastionError:
            continue
        return f"{scheme}:{value}", True
    return UNVALIDATED_PREFIX + wallet.address.strip(), False


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _entity_data(entity: ListEntity) -> dict[str, Any]:
    """What the entity row keeps besides its columns; built by hand (``asdict`` deep-copies,
    and it was a third of the import's database time)."""
    return {
        "names": [
            {"name": n.name, "kind": n.kind, "script": n.script, "language": n.language}
            for n in entity.names
        ],
        "identifiers": [
            {"type": i.type, "value": i.value, "country": i.country} for i in entity.identifiers
        ],
        "wallets": [{"currency": w.currency, "address": w.address} for w in entity.wallets],
        "birth_dates": entity.birth_dates,
        "nationalities": entity.nationalities,
        "countries": entity.countries,
        "remarks": entity.remarks[:10_000],
    }


class _Writer:
    """Writes entities of one list version in batches, counting what it wrote."""

    def __init__(self, session: Session, list_id: int) -> None:
        self._session = session
        self._list_id = list_id
        self.entities = 0
        self.names = 0
        self.wallets = 0
        self.unvalidated = 0

    def write(self, batch: list[ListEntity]) -> None:
        rows = [
            {
                "list_id": self._list_id,
                "external_id": entity.external_id[:128],
                "schema": entity.schema[:32],
                "caption": entity.caption,
                "programs": entity.programs,
                "listed_on": entity.listed_on,
                "data": _entity_data(entity),
            }
            for entity in batch
        ]
        ids = self._session.scalars(
            insert(SanctionsEntityRow).returning(
                SanctionsEntityRow.id, sort_by_parameter_order=True
            ),
            rows,
        ).all()
        names: list[dict[str, Any]] = []
        wallets: list[dict[str, Any]] = []
        for entity_id, entity in zip(ids, batch, strict=True):
            seen: set[str] = set()
            for name in entity.names:
                if name.name and name.name not in seen:
                    seen.add(name.name)
                    names.append(self._name_row(entity_id, name.name, name.kind, name.script))
            for wallet in entity.wallets:
                signal_value, valid = wallet_signal_value(wallet)
                self.unvalidated += 0 if valid else 1
                wallets.append(
                    {
                        "list_id": self._list_id,
                        "entity_id": entity_id,
                        "currency": wallet.currency[:32],
                        "raw": wallet.address,
                        "signal_value": signal_value[:255],
                        "valid": valid,
                    }
                )
        # Core inserts (the tables, not the ORM classes): no per-row ORM bookkeeping.
        if names:
            self._session.execute(insert(cast(Table, SanctionsNameRow.__table__)), names)
        if wallets:
            self._session.execute(insert(cast(Table, SanctionsWalletRow.__table__)), wallets)
        self.entities += len(batch)
        self.names += len(names)
        self.wallets += len(wallets)

    def _name_row(self, entity_id: int, name: str, kind: str, script: str) -> dict[str, Any]:
        return {
            "list_id": self._list_id,
            "entity_id": entity_id,
            "name": name,
            "kind": kind[:16],
            "script": script[:8],
        }


def _batches(entities: Iterable[ListEntity]) -> Iterator[list[ListEntity]]:
    batch: list[ListEntity] = []
    for entity in entities:
        batch.append(entity)
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class SanctionsLists:
    """Import, list and retire sanctions list versions."""

    def __init__(self, audit: AuditLog, *, max_bytes: int) -> None:
        self._audit = audit
        self._max_bytes = max_bytes

    def import_file(
        self,
        session: Session,
        path: Path,
        *,
        actor: str,
        format: str | None = None,
        file_name: str | None = None,
    ) -> tuple[ListInfo, bool]:
        """Import ``path``; returns the list version and whether it is new (False: this very
        file was imported before, and nothing changed)."""
        size = path.stat().st_size
        if size > self._max_bytes:
            raise SanctionsListTooLarge(
                f"the list file is {size} bytes, more than the limit of {self._max_bytes} "
                "(BASTION_FINANCE_MAX_LIST_BYTES)",
                size=size,
                max_bytes=self._max_bytes,
            )
        sha256 = _file_sha256(path)
        known = session.scalars(
            select(SanctionsListRow).where(
                SanctionsListRow.file_sha256 == sha256, SanctionsListRow.status != IMPORTING
            )
        ).first()
        if known is not None:
            return list_info(known), False
        reader = open_list(path, format=format, max_bytes=self._max_bytes)
        header = reader.header
        row = SanctionsListRow(
            source=header.source,
            format=header.format,
            published=header.published,
            version=header.version[:128],
            file_name=(file_name or path.name)[:255],
            file_sha256=sha256,
            file_size=size,
            status=IMPORTING,
            imported_by=actor,
        )
        session.add(row)
        session.flush()
        writer = _Writer(session, row.id)
        for batch in _batches(reader):
            writer.write(batch)
        row.entities, row.names = writer.entities, writer.names
        row.wallets, row.wallets_unvalidated = writer.wallets, writer.unvalidated
        if writer.unvalidated:
            row.notes = [
                f"{writer.unvalidated} listed address(es) fail their chain's checksum; they are "
                "matched exactly as written"
            ]
        self._activate(session, row)
        self._audit.record(
            session,
            actor=actor,
            action="sanctions_list.imported",
            target_type="sanctions_list",
            target_id=row.id,
            details={
                "source": row.source,
                "published": row.published.isoformat() if row.published else None,
                "status": row.status,
                "entities": row.entities,
                "wallets": row.wallets,
                "file_sha256": sha256,
            },
        )
        return list_info(row), True

    @staticmethod
    def _activate(session: Session, row: SanctionsListRow) -> None:
        """Make ``row`` the active version of its list unless an active one is newer."""
        active = session.scalars(
            select(SanctionsListRow).where(
                SanctionsListRow.source == row.source,
                SanctionsListRow.status == ACTIVE,
                SanctionsListRow.id != row.id,
            )
        ).all()
        newer = [
            other
            for other in active
            if other.published and row.published and other.published > row.published
        ]
        now = utcnow()
        if newer:
            row.status, row.superseded_at = SUPERSEDED, now
            row.notes = [*(row.notes or []), "older than the active version; kept as superseded"]
            return
        for other in active:
            other.status, other.superseded_at = SUPERSEDED, now
        row.status = ACTIVE

    def list(self, session: Session, *, include_superseded: bool = False) -> list[ListInfo]:
        query = select(SanctionsListRow).where(SanctionsListRow.status != IMPORTING)
        if not include_superseded:
            query = query.where(SanctionsListRow.status == ACTIVE)
        rows = session.scalars(query.order_by(SanctionsListRow.id.desc())).all()
        return [list_info(row) for row in rows]

    def get(self, session: Session, list_id: int) -> ListInfo:
        row = session.get(SanctionsListRow, list_id)
        if row is None or row.status == IMPORTING:
            raise SanctionsListNotFound(f"no sanctions list {list_id}", list_id=list_id)
        return list_info(row)

    def remove(self, session: Session, list_id: int, *, actor: str) -> None:
        """Delete one version with its entities (hits that named it go with it: removing a
        list is for a wrong import, not for retiring a version, which superseding does)."""
        row = session.get(SanctionsListRow, list_id)
        if row is None:
            raise SanctionsListNotFound(f"no sanctions list {list_id}", list_id=list_id)
        info = list_info(row)
        session.delete(row)
        session.flush()
        if info.status == ACTIVE:
            # The newest superseded version of the same list takes over.
            previous = session.scalars(
                select(SanctionsListRow)
                .where(
                    SanctionsListRow.source == info.source, SanctionsListRow.status == SUPERSEDED
                )
                .order_by(SanctionsListRow.published.desc(), SanctionsListRow.id.desc())
                .limit(1)
            ).first()
            if previous is not None:
                previous.status, previous.superseded_at = ACTIVE, None
        self._audit.record(
            session,
            actor=actor,
            action="sanctions_list.removed",
            target_type="sanctions_list",
            target_id=list_id,
            details={"source": info.source, "published": info.published},
        )

    @staticmethod
    def counts(session: Session) -> dict[str, int]:
        """Active lists, entities and wallets: the finance overview's figures."""
        active = select(SanctionsListRow).where(SanctionsListRow.status == ACTIVE).subquery()
        lists, entities, wallets = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(active.c.entities), 0),
                func.coalesce(func.sum(active.c.wallets), 0),
            ).select_from(active)
        ).one()
        return {"lists": int(lists), "entities": int(entities), "wallets": int(wallets)}
