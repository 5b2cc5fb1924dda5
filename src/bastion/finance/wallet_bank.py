"""Listed wallets into a bank: what makes a sanctions hit match again and travel to partners.

Two paths lead here: the scan's finance step banks each wallet that hit a list
(``BASTION_FINANCE_HIT_BANK``), and an analyst banks a whole list's wallets to share them. Either
way each entry names the list entry it came from, in its note and provenance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from sqlalchemy.orm import Session

from bastion.banks.records import AddReport, NewEntry
from bastion.banks.service import Banks
from bastion.errors import BankNotFound

WALLET_SIGNAL: Final = "crypto_address"
MATERIAL_SUPPORT: Final = "tvec4"


@dataclass(frozen=True, slots=True)
class ListedWallet:
    signal_value: str  # ``scheme:address``
    list_source: str
    list_name: str
    external_id: str
    caption: str


def bank_listed_wallets(
    session: Session,
    banks: Banks,
    wallets: Iterable[ListedWallet],
    *,
    bank: str,
    actor: str,
    description: str,
    tlp: str,
) -> AddReport:
    """Add ``wallets`` to ``bank`` (created when missing: ``tvec4``, severity high)."""
    try:
        banks.get(session, bank)
    except BankNotFound:
        banks.create(
            session,
            name=bank,
            actor=actor,
            description=description,
            labels=[MATERIAL_SUPPORT],
            severity="high",
            tlp=tlp,
        )
    entries = {
        wallet.signal_value: NewEntry(
            WALLET_SIGNAL,
            wallet.signal_value,
            labels=[MATERIAL_SUPPORT],
            note=f"Listed: {wallet.list_name} {wallet.external_id} ({wallet.caption})",
            added_from=f"sanctions:{wallet.list_source}:{wallet.external_id}",
        )
        for wallet in wallets
    }
    return banks.add_entries(session, bank, list(entries.values()), actor=actor)
