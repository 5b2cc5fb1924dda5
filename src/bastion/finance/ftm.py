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


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}


def iso_date(value: str) -> str:
    """A list's date as FtM wants it (``1971``, ``1971-05``, ``1971-05-03``); lists write
    ``03 May 1971``, ``May 1971``, ``03/05/1971`` (day first) or ISO. Unknown forms are kept as
    written: FtM consumers drop what they cannot read rather than guess."""
    text = value.strip().replace(",", " ")
    parts = text.replace("/", " ").replace(".", " ").split()
    if len(parts) == 1 and len(text) in (4, 7, 10) and text[:4].isdigit():
        return text
    if len(parts) == 3 and parts[1].lower() in _MONTHS and parts[0].isdigit():
        day, month, year = int(parts[0]), _MONTHS[parts[1].lower()], parts[2]
        return f"{year}-{month:02d}-{day:02d}" if year.isdigit() else value
    if len(parts) == 2 and parts[0].lower() in _MONTHS and parts[1].isdigit():
        return f"{parts[1]}-{_MONTHS[parts[0].lower()]:02d}"
    if len(parts) == 3 and all(p.isdigit() for p in parts) and len(parts[2]) == 4:
        day, month = int(parts[0]), int(parts[1])
        if 1 <= month <= 12 and 1 <= day <= 31:
            return f"{parts[2]}-{month:02d}-{day:02d}"
    return value


def entity_id(source: str, external_id: str) -> str:
    """A stable FtM id for a listed entity: the list and its own id, in the characters FtM
    allows in ids (letters, digits, ``.`` and ``-``)."""
    raw = f"{source}-{external_id}"
    return "".join(c if c.isascii() and (c.isalnum() or c in ".-") else "-" for c in raw)


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
            _add(properties, "birthDate", iso_date(birth))
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
