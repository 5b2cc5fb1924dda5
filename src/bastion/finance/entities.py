"""Listed entities as analysts see them, and list wallets turned into a shareable bank."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.banks.records import AddReport
from bastion.banks.service import Banks
from bastion.errors import SanctionsEntityNotFound
from bastion.finance.list_store import ACTIVE, UNVALIDATED_PREFIX, list_name, list_summary
from bastion.finance.wallet_bank import ListedWallet, bank_listed_wallets
from bastion.storage.finance_models import (
    FinanceHitRow,
    SanctionsEntityRow,
    SanctionsListRow,
    SanctionsWalletRow,
)


def entity_details(session: Session, entity_id: int) -> dict[str, Any]:
    """One listed entity with its list version, names, identifiers, wallets and hits."""
    row = session.get(SanctionsEntityRow, entity_id)
    if row is None:
        raise SanctionsEntityNotFound(f"no listed entity {entity_id}", entity_id=entity_id)
    listed = session.get(SanctionsListRow, row.list_id)
    assert listed is not None  # a foreign key with cascade: the list exists
    wallets = session.scalars(
        select(SanctionsWalletRow).where(SanctionsWalletRow.entity_id == entity_id)
    ).all()
    hits = session.scalars(
        select(FinanceHitRow)
        .where(FinanceHitRow.entity_id == entity_id)
        .order_by(FinanceHitRow.id.desc())
        .limit(100)
    ).all()
    data = row.data or {}
    return {
        "id": row.id,
        "external_id": row.external_id,
        "schema": row.schema,
        "caption": row.caption,
        "programs": list(row.programs or []),
        "listed_on": row.listed_on.isoformat() if row.listed_on else None,
        "list": list_summary(listed),
        "names": data.get("names", []),
        "identifiers": data.get("identifiers", []),
        "birth_dates": data.get("birth_dates", []),
        "nationalities": data.get("nationalities", []),
        "countries": data.get("countries", []),
        "remarks": data.get("remarks", ""),
        "wallets": [
            {
                "currency": wallet.currency,
                "address": wallet.raw,
                "signal": wallet.signal_value,
                "valid": wallet.valid,
            }
            for wallet in wallets
        ],
        "hits": [
            {
                "id": hit.id,
                "content_id": hit.content_id,
                "case_id": hit.case_id,
                "match_kind": hit.match_kind,
                "matched": hit.matched,
                "score": hit.score,
                "created_at": hit.created_at.isoformat(),
            }
            for hit in hits
        ],
    }


def bank_list_wallets(
    session: Session,
    banks: Banks,
    *,
    source: str,
    bank: str,
    actor: str,
    tlp: str = "green",
) -> AddReport:
    """Every valid wallet of the active version of list ``source`` into ``bank`` (created when
    missing), each entry naming its list entity: a wallet bank partners can subscribe to.
    Addresses that fail their checksum are left out (a bank holds valid signals only)."""
    rows = session.execute(
        select(SanctionsWalletRow, SanctionsEntityRow)
        .join(SanctionsEntityRow, SanctionsEntityRow.id == SanctionsWalletRow.entity_id)
        .join(SanctionsListRow, SanctionsListRow.id == SanctionsWalletRow.list_id)
        .where(SanctionsListRow.source == source, SanctionsListRow.status == ACTIVE)
        .order_by(SanctionsWalletRow.id)
    ).all()
    called = list_name(source)
    wallets = [
        ListedWallet(wallet.signal_value, source, called, entity.external_id, entity.caption)
        for wallet, entity in rows
        if wallet.valid and not wallet.signal_value.startswith(UNVALIDATED_PREFIX)
    ]
    return bank_listed_wallets(
        session,
        banks,
        wallets,
        bank=bank,
        actor=actor,
        description=f"Wallets listed by {called}.",
        tlp=tlp,
    )
