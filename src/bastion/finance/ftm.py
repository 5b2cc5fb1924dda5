"""FollowTheMoney (FtM) as the interchange format for list entities and screening hits.

FtM is the entity model of the investigative and sanctions-data community: one JSON object per
entity, ``{"id", "schema", "properties": {prop: [values]}}``. Exporting listed entities and their
wallets in it lets an analyst take Bastion's evidence into the tools FIUs and investigators
already use, and compare lists with each other. The schema and property names used here are
FtM's own (``Person``, ``Organization``, ``LegalEntity``, ``Vessel``, ``Airplane``,
``CryptoWallet`` with ``publicKey``, ``currency`` and ``holder``; ``name``, ``alias``,
``weakAlias``, ``previousName``, ``program``, ``birthDate``, ``nationality``, ``country``,
``idNumber``, ``notes``, ``topics``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.finance.list_store import UNVALIDATED_PREFIX
from bastion.storage.finance_models import SanctionsEntityRow, SanctionsWalletRow

_NAME_PROPERTY = {
    "primary": "name",
    "alias": "alias",
    "weak_alias": "weakAlias",
    "former": "previousName",
}


def entity_id(source: str, external_id: str) -> str:
    """A stable FtM id for a listed entity: the list and its own id."""
    return f"{source}-{external_id}".replace(" ", "-")


def _add(properties: dict[str, list[str]], key: str, value: str | None) -> None:
    if value:
        values = properties.setdefault(key, [])
        if value not in values:
            values.append(value)


def entity_to_ftm(entity: SanctionsEntityRow, source: str) -> dict[str, Any]:
    data = entity.data or {}
    properties: dict[str, list[str]] = {"topics": ["sanction"]}
    for name in data.get("names", []):
        _add(properties, _NAME_PROPERTY.get(str(name.get("kind")), "alias"), name.get("name"))
    _add(properties, "name", entity.caption)
    for program in entity.programs or []:
        _add(properties, "program", program)
    for identifier in data.get("identifiers", []):
        _add(properties, "idNumber", identifier.get("value"))
    if entity.schema == "Person":
        for birth in data.get("birth_dates", []):
            _add(properties, "birthDate", birth)
        for nationality in data.get("nationalities", []):
            _add(properties, "nationality", nationality)
    for country in data.get("countries", []):
        _add(properties, "country", country)
    if entity.listed_on is not None:
        _add(properties, "createdAt", entity.listed_on.isoformat())
    _add(properties, "notes", (data.get("remarks") or "")[:2000])
    return {
        "id": entity_id(source, entity.external_id),
        "schema": entity.schema,
        "properties": properties,
        "datasets": [source],
    }


def wallet_to_ftm(wallet: SanctionsWalletRow, holder_id: str, source: str) -> dict[str, Any]:
    value = wallet.signal_value
    public_key = (
        value.removeprefix(UNVALIDATED_PREFIX)
        if value.startswith(UNVALIDATED_PREFIX)
        else value.split(":", 1)[1]
    )
    digest = hashlib.sha1(f"{holder_id}:{value}".encode(), usedforsecurity=False).hexdigest()
    return {
        "id": f"wallet-{digest[:20]}",
        "schema": "CryptoWallet",
        "properties": {
            "publicKey": [public_key],
            "currency": [wallet.currency],
            "holder": [holder_id],
            "topics": ["sanction"],
        },
        "datasets": [source],
    }


def export_list(session: Session, list_id: int, source: str) -> Iterator[dict[str, Any]]:
    """Every entity of one list version, then its wallets, as FtM entities (streamed)."""
    holders: dict[int, str] = {}
    entities = session.scalars(
        select(SanctionsEntityRow)
        .where(SanctionsEntityRow.list_id == list_id)
        .order_by(SanctionsEntityRow.id)
        .execution_options(yield_per=2000)
    )
    for entity in entities:
        holders[entity.id] = entity_id(source, entity.external_id)
        yield entity_to_ftm(entity, source)
    wallets = session.scalars(
        select(SanctionsWalletRow)
        .where(SanctionsWalletRow.list_id == list_id)
        .order_by(SanctionsWalletRow.id)
    )
    for wallet in wallets:
        yield wallet_to_ftm(wallet, holders[wallet.entity_id], source)
