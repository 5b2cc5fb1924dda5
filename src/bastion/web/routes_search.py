"""Search for people with ``cases.read``: one box for a case id, a content id, a hash or words.

What is typed is tried every way at once, and each hit says why it matched:

- a number (``123`` or ``#123``): the case with that id;
- a content external id (``ContentRow.external_id``, the platform's own id for a post): the
  cases about that content;
- a hash value: the bank entries holding it, looked up by ``value_key`` like the matcher does
  (exactly as typed and in lower case), and cases about content with that SHA-256;
- words: cases whose title holds all of them (case-insensitive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.api.auth import BastionDep
from bastion.banks.service import value_key
from bastion.storage.models import BankEntryRow, BankRow, CaseRow, ContentRow
from bastion.web.render import WebRoute, render
from bastion.web.routes_banks import short_value
from bastion.web.session import SignedIn

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)

MAX_QUERY_CHARS: Final = 512
MAX_RESULTS: Final = 50
MAX_WORDS: Final = 8


@dataclass(frozen=True, slots=True)
class CaseHit:
    id: int
    title: str
    status: str
    kind: str
    why: str


@dataclass(frozen=True, slots=True)
class EntryHit:
    id: int
    bank: str
    signal_type: str
    value: str
    added_by: str
    why: str


@dataclass
class Results:
    cases: list[CaseHit] = field(default_factory=list)
    entries: list[EntryHit] = field(default_factory=list)

    def add_cases(self, rows: list[CaseRow], why: str) -> None:
        seen = {hit.id for hit in self.cases}
        for row in rows:
            if row.id not in seen and len(self.cases) < MAX_RESULTS:
                seen.add(row.id)
                self.cases.append(CaseHit(row.id, row.title, row.status, row.kind, why))


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(session: Session, text: str) -> Results:
    results = Results()
    query = text.strip()
    if not query:
        return results
    number = query.removeprefix("#")
    if number.isdigit() and len(number) <= 18:
        row = session.get(CaseRow, int(number))
        if row is not None:
            results.add_cases([row], "case id")
    by_content = (
        select(CaseRow)
        .join(ContentRow, CaseRow.content_id == ContentRow.id)
        .order_by(CaseRow.id.desc())
        .limit(MAX_RESULTS)
    )
    results.add_cases(
        list(session.scalars(by_content.where(ContentRow.external_id == query))),
        "content external id",
    )
    keys = {value_key(query), value_key(query.lower())}
    entries = session.execute(
        select(BankEntryRow, BankRow.name)
        .join(BankRow, BankEntryRow.bank_id == BankRow.id)
        .where(BankEntryRow.value_key.in_(keys))
        .order_by(BankEntryRow.id)
        .limit(MAX_RESULTS)
    ).all()
    results.entries = [
        EntryHit(entry.id, bank, entry.signal_type, entry.value, entry.added_by, "hash value")
        for entry, bank in entries
    ]
    if len(query) == 64:
        results.add_cases(
            list(session.scalars(by_content.where(ContentRow.sha256 == query.lower()))),
            "content SHA-256",
        )
    words = query.split()[:MAX_WORDS]
    titled = select(CaseRow).order_by(CaseRow.id.desc()).limit(MAX_RESULTS)
    for word in words:
        titled = titled.where(CaseRow.title.ilike(_like(word), escape="\\"))
    results.add_cases(list(session.scalars(titled)), "words in the title")
    return results


@router.get("/search")
def search_page(
    request: Request,
    web: SignedIn,
    bastion: BastionDep,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
) -> Response:
    web.user.require("cases.read")
    with bastion.db.session() as session:
        results = search(session, q)
    if not web.user.can("banks.read"):
        results.entries = []
    return render(
        request,
        "search.html",
        web=web,
        q=q,
        results=results,
        short_value=short_value,
        max_chars=MAX_QUERY_CHARS,
    )
