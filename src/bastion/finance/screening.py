"""Screening: wallets by exact match, names by multi-script fuzzy match, against active lists.

Wallets compare by one indexed equality on the ``crypto_address`` signal form, so a wallet found
in content (whatever look-alike characters it was written with: extraction folds them first)
hits the list entry whatever its case or URI wrapping. Names go through
:class:`bastion.finance.name_index.NameIndex`, built from the active lists' names and rebuilt
when the set of active lists changes (an import, a removal); each hit carries the index's
explanation of its score.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.errors import InvalidInput
from bastion.finance.list_store import ACTIVE, list_name
from bastion.finance.name_index import MAX_TEXT_CHARS, NameIndex, NameMatch
from bastion.storage.finance_models import (
    SanctionsEntityRow,
    SanctionsListRow,
    SanctionsNameRow,
    SanctionsWalletRow,
)

WALLET = "wallet"
NAME = "name"
MAX_SCREEN_NAME_CHARS = 500
# Windows of a long text overlap by more than any listed name is long, so none is cut in two.
_WINDOW_OVERLAP = 1000


@dataclass(frozen=True, slots=True)
class ScreeningHit:
    """One list entity matched by a wallet or a name, with what matched and why."""

    match_kind: str  # wallet | name
    matched: str  # the wallet's signal value, or the name as found
    listed: str  # the list's wallet (as written) or name
    score: float
    explanation: str
    list_id: int
    list_source: str
    list_name: str
    list_published: str | None
    entity_id: int
    external_id: str
    caption: str
    schema: str
    programs: list[str]
    start: int | None = None  # a name found in text: where
    end: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        """How a moderator names the entry: ``OFAC SDN 12345 (NAME)``."""
        return f"{self.list_name} {self.external_id} ({self.caption})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "match_kind": self.match_kind,
            "matched": self.matched,
            "listed": self.listed,
            "score": round(self.score, 4),
            "explanation": self.explanation,
            "list": {
                "id": self.list_id,
                "source": self.list_source,
                "name": self.list_name,
                "published": self.list_published,
            },
            "entity": {
                "id": self.entity_id,
                "external_id": self.external_id,
                "caption": self.caption,
                "schema": self.schema,
                "programs": list(self.programs),
            },
            "start": self.start,
            "end": self.end,
            "details": dict(self.details),
            "reference": self.reference,
        }


def _entity_facts(
    session: Session, entity_ids: Iterable[int]
) -> dict[int, tuple[SanctionsEntityRow, SanctionsListRow]]:
    wanted = sorted(set(entity_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(SanctionsEntityRow, SanctionsListRow)
        .join(SanctionsListRow, SanctionsListRow.id == SanctionsEntityRow.list_id)
        .where(SanctionsEntityRow.id.in_(wanted))
    ).all()
    return {entity.id: (entity, listed) for entity, listed in rows}


def _hit(
    entity: SanctionsEntityRow,
    listed: SanctionsListRow,
    *,
    match_kind: str,
    matched: str,
    listed_value: str,
    score: float,
    explanation: str,
    start: int | None = None,
    end: int | None = None,
    details: dict[str, Any] | None = None,
) -> ScreeningHit:
    return ScreeningHit(
        match_kind=match_kind,
        matched=matched,
        listed=listed_value,
        score=score,
        explanation=explanation,
        list_id=listed.id,
        list_source=listed.source,
        list_name=list_name(listed.source),
        list_published=listed.published.isoformat() if listed.published else None,
        entity_id=entity.id,
        external_id=entity.external_id,
        caption=entity.caption,
        schema=entity.schema,
        programs=list(entity.programs or []),
        start=start,
        end=end,
        details=details or {},
    )


def screen_wallets(session: Session, signal_values: Sequence[str]) -> list[ScreeningHit]:
    """Active-list entities holding any of ``signal_values`` (``crypto_address`` form)."""
    wanted = sorted(set(signal_values))
    if not wanted:
        return []
    rows = session.execute(
        select(SanctionsWalletRow)
        .join(SanctionsListRow, SanctionsListRow.id == SanctionsWalletRow.list_id)
        .where(SanctionsWalletRow.signal_value.in_(wanted), SanctionsListRow.status == ACTIVE)
        .order_by(SanctionsWalletRow.id)
    ).scalars()
    wallets = list(rows)
    facts = _entity_facts(session, (wallet.entity_id for wallet in wallets))
    hits = []
    for wallet in wallets:
        entity, listed = facts[wallet.entity_id]
        called = list_name(listed.source)
        hits.append(
            _hit(
                entity,
                listed,
                match_kind=WALLET,
                matched=wallet.signal_value,
                listed_value=wallet.raw,
                score=1.0,
                explanation=(
                    f"Exact match: {wallet.signal_value} is listed as {wallet.currency} address "
                    f"{wallet.raw} of {entity.caption} ({called} {entity.external_id})"
                    + ("" if wallet.valid else "; the listed address fails its checksum")
                ),
                details={"currency": wallet.currency, "listed_valid": wallet.valid},
            )
        )
    return hits


class NameScreening:
    """The name index of the active lists, rebuilt when they change. Thread-safe: API requests
    share one instance, and a rebuild happens once while others wait."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[int, ...] | None = None
        self._index: NameIndex | None = None

    def index(self, session: Session) -> NameIndex:
        key = tuple(
            session.scalars(
                select(SanctionsListRow.id)
                .where(SanctionsListRow.status == ACTIVE)
                .order_by(SanctionsListRow.id)
            )
        )
        with self._lock:
            if self._index is None or key != self._key:
                self._index = self._build(session, key)
                self._key = key
            return self._index

    @staticmethod
    def _build(session: Session, list_ids: tuple[int, ...]) -> NameIndex:
        index = NameIndex()
        if list_ids:
            rows = session.execute(
                select(
                    SanctionsNameRow.id,
                    SanctionsNameRow.entity_id,
                    SanctionsNameRow.name,
                    SanctionsNameRow.kind,
                    SanctionsEntityRow.schema,
                )
                .join(SanctionsEntityRow, SanctionsEntityRow.id == SanctionsNameRow.entity_id)
                .where(SanctionsNameRow.list_id.in_(list_ids))
                .execution_options(yield_per=10_000)
            )
            for name_id, entity_id, name, kind, schema in rows:
                try:
                    index.add(name_id, entity_id, name, kind=kind, schema=schema)
                except InvalidInput:
                    continue  # a listed "name" with no letters or digits: nothing to compare

        index.freeze()
        return index

    def screen(
        self,
        session: Session,
        name: str,
        *,
        threshold: float,
        limit: int = 10,
        schema: str | None = None,
        birth_year: int | None = None,
    ) -> list[ScreeningHit]:
        """Listed names like ``name``, best first. With ``birth_year`` (a person's), each hit
        says whether the listed birth dates corroborate it, and corroborated hits come first,
        contradicted ones last (a namesake born in another year): a lead is never dropped."""
        if not name.strip():
            raise InvalidInput("a name to screen cannot be empty", field="name")
        if len(name) > MAX_SCREEN_NAME_CHARS:
            raise InvalidInput(
                f"a name to screen is at most {MAX_SCREEN_NAME_CHARS} characters", field="name"
            )
        matches = self.index(session).screen(name, threshold=threshold, limit=limit, schema=schema)
        hits = self._hits(session, matches, in_text=False)
        if birth_year is None:
            return hits
        return corroborate_birth_year(session, hits, birth_year)

    def find_in_text(self, session: Session, text: str, *, threshold: float) -> list[ScreeningHit]:
        """Listed names written in ``text``, with their offsets. A long document is read in
        overlapping windows (the index reads at most ``MAX_TEXT_CHARS`` at once)."""
        index = self.index(session)
        if not len(index) or not text.strip():
            return []
        found: dict[tuple[int, int], NameMatch] = {}
        step = MAX_TEXT_CHARS - _WINDOW_OVERLAP
        for offset in range(0, len(text), step):
            window = text[offset : offset + MAX_TEXT_CHARS]
            for match in index.find_in_text(window, threshold=threshold):
                start = offset + (match.start or 0)
                shifted = replace(match, start=start, end=offset + (match.end or 0))
                found.setdefault((shifted.entity_id, start), shifted)
            if offset + MAX_TEXT_CHARS >= len(text):
                break
        return self._hits(session, list(found.values()), in_text=True)

    @staticmethod
    def _hits(session: Session, matches: list[NameMatch], *, in_text: bool) -> list[ScreeningHit]:
        facts = _entity_facts(session, (match.entity_id for match in matches))
        hits = []
        for match in matches:
            found = facts.get(match.entity_id)
            if found is None:
                continue  # removed since the index was built
            entity, listed = found
            hits.append(
                _hit(
                    entity,
                    listed,
                    match_kind=NAME,
                    matched=match.query,
                    listed_value=match.listed_name,
                    score=match.score,
                    explanation=match.explain_text(),
                    start=match.start if in_text else None,
                    end=match.end if in_text else None,
                    # The structured explanation (token pairs, similarities, formula) as JSON.
                    details={"name_kind": match.kind, "explanation": asdict(match.explanation)},
                )
            )
        return hits


_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_ORDER = {"same": 0, "unknown": 1, "differs": 2}


def corroborate_birth_year(
    session: Session, hits: Sequence[ScreeningHit], birth_year: int
) -> list[ScreeningHit]:
    """``hits`` annotated with ``details["birth_year"]`` (``same``, ``differs`` or ``unknown``,
    with the listed years), corroborated first; the order within each group is kept."""
    if not 1800 <= birth_year <= 2100:
        raise InvalidInput("birth_year is a year between 1800 and 2100", field="birth_year")
    facts = _entity_facts(session, (hit.entity_id for hit in hits))
    annotated: list[ScreeningHit] = []
    for hit in hits:
        entity, _ = facts[hit.entity_id]
        written = (entity.data or {}).get("birth_dates", [])
        years = sorted({int(y) for date in written for y in _YEAR.findall(str(date))})
        verdict = "unknown" if not years else ("same" if birth_year in years else "differs")
        listed = ", ".join(map(str, years)) or "none listed"
        annotated.append(
            replace(
                hit,
                explanation=f"{hit.explanation} Birth year {birth_year}: {verdict} "
                f"(listed: {listed}).",
                details={
                    **hit.details,
                    "birth_year": {"given": birth_year, "listed": years, "verdict": verdict},
                },
            )
        )
    return sorted(annotated, key=lambda hit: _ORDER[hit.details["birth_year"]["verdict"]])
