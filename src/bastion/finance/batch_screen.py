"""Screening many names and wallets at once: a platform's fundraising-campaign owners, a payout
list, an NGO's partner list.

Items come as ``{"id", "name"}`` or ``{"id", "wallet"}`` records (from JSON, or a CSV file with a
``name`` or ``wallet`` column and an optional ``id``). Each item is screened on its own: an item
that is not a valid address, or a name with nothing to compare, gets its error code and the
others go on. One name index serves the whole batch.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.orm import Session

from bastion.errors import BastionError, InvalidInput
from bastion.finance.screening import NameScreening, ScreeningHit, screen_wallets
from bastion.signals.payment import CryptoAddressSignal

MAX_ITEMS: Final = 10_000
MAX_FIELD_CHARS: Final = 4_000


@dataclass(frozen=True, slots=True)
class ScreenItem:
    id: str
    name: str | None = None
    wallet: str | None = None


@dataclass(slots=True)
class ScreenResult:
    item: ScreenItem
    hits: list[ScreeningHit] = field(default_factory=list)
    error: BastionError | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "name": self.item.name,
            "wallet": self.item.wallet,
            "hits": [hit.to_dict() for hit in self.hits],
            "error": self.error.to_dict()["error"] if self.error else None,
        }


def items_from_csv(text: str) -> list[ScreenItem]:
    """Items of a CSV file with a header naming a ``name`` or ``wallet`` column (and ``id``);
    ``InvalidInput`` naming the line for a file that cannot be read that way."""
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        header = [column.strip().lower() for column in reader.fieldnames or []]
    except csv.Error as error:
        raise InvalidInput(f"the CSV header cannot be read: {error}", line=1) from None
    if "name" not in header and "wallet" not in header:
        raise InvalidInput("the CSV needs a header with a 'name' or 'wallet' column", line=1)
    reader.fieldnames = header
    items: list[ScreenItem] = []
    try:
        for row in reader:
            if len(items) >= MAX_ITEMS:
                raise InvalidInput(f"at most {MAX_ITEMS} rows per batch", line=reader.line_num)
            name = (row.get("name") or "").strip() or None
            wallet = (row.get("wallet") or "").strip() or None
            if name is None and wallet is None:
                continue  # a blank row
            if len(name or "") > MAX_FIELD_CHARS or len(wallet or "") > MAX_FIELD_CHARS:
                raise InvalidInput("a field is too long", line=reader.line_num)
            ident = (row.get("id") or "").strip() or str(reader.line_num)
            items.append(ScreenItem(ident[:255], name, wallet))
    except csv.Error as error:
        raise InvalidInput(f"line {reader.line_num}: {error}", line=reader.line_num) from None
    return items


def screen_batch(
    session: Session,
    names: NameScreening,
    items: Sequence[ScreenItem],
    *,
    threshold: float,
    limit: int = 3,
) -> list[ScreenResult]:
    """Each item screened: a wallet exactly, a name by the name index (best ``limit`` hits)."""
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"at most {MAX_ITEMS} items per batch", max_items=MAX_ITEMS)
    results: list[ScreenResult] = []
    for item in items:
        result = ScreenResult(item)
        try:
            if item.wallet:
                result.hits = screen_wallets(session, [CryptoAddressSignal.normalize(item.wallet)])
            if item.name:
                result.hits.extend(
                    names.screen(session, item.name, threshold=threshold, limit=limit)
                )
        except BastionError as error:
            result.error = error
        results.append(result)
    return results
