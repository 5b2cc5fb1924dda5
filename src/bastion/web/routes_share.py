"""Sharing pages: what this instance offers and to whom, subscriptions to partners' feeds, the
feedback partners send back, and what was shared with whom.

Who may do what (:data:`bastion.accounts.users.ROLE_PERMISSIONS`): ``share.read`` (admins,
analysts, auditors) sees everything here; ``share.write`` (admins, analysts) manages
subscriptions, polls them and sends feedback; ``share.manage`` (admins) manages partners, their
credentials and grants, and the trusted signers (:mod:`bastion.web.routes_share_partners`).

Nothing secret is rendered: partners' credentials appear only as the names of their fields, API
keys only by their prefix, and this instance's identity only by its public half.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.api.auth import BastionDep
from bastion.api.routers.taxii import collection_id, instance_of
from bastion.banks.records import BankInfo, Tlp
from bastion.errors import InvalidInput
from bastion.share.signing import InstanceIdentity
from bastion.storage.models import BankEntryRow, BankRow
from bastion.storage.share_models import (
    CollectionGrantRow,
    FeedbackRow,
    PartnerRow,
    ShareEventRow,
    SubscriptionRow,
)
from bastion.web.render import WebRoute, render
from bastion.web.session import Form, SignedIn

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)

RECENT: Final = 20
EVENTS_PAGE: Final = 100
ShortText = Annotated[str | None, Query(max_length=64)]


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def checked(form: Form, name: str) -> bool:
    """An HTML checkbox: present (any value but "false") when ticked, absent when not."""
    return form.get(name, "false") not in ("", "false", "0", "off")


def entry_link(bank: str | None, entry_id: int | None) -> str:
    """The bank page showing ``entry_id`` first (the page lists entries after ``after``)."""
    if not bank or entry_id is None:
        return ""
    return f"/ui/banks/{bank}?after={max(entry_id - 1, 0)}#entry-{entry_id}"


# --- what the overview shows ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Collection:
    bank: BankInfo
    collection_id: str
    readers: list[str]
    writers: list[str]

    @property
    def never_shared(self) -> bool:
        return self.bank.tlp == Tlp.RED

    @property
    def amber(self) -> bool:
        return self.bank.tlp in (Tlp.AMBER, Tlp.AMBER_STRICT)


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: int
    partner: str
    bank: str
    remote_collection: str
    api_root: str
    interval_seconds: int
    require_signature: bool
    enabled: bool
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error_code: str
    objects_received: int
    entries_added: int
    entries_revoked: int


@dataclass(frozen=True, slots=True)
class FeedbackView:
    id: int
    direction: str
    kind: str
    opinion: str
    count: int
    partner: str
    indicator_id: str
    entry_id: int | None
    bank: str | None
    status: str
    error: str
    created_at: datetime
    sent_at: datetime | None

    @property
    def what(self) -> str:
        if self.kind == "sighting":
            return "sighting" if self.count == 1 else f"{self.count} sightings"
        return f"dispute ({self.opinion})" if "disagree" in self.opinion else self.opinion

    @property
    def link(self) -> str:
        return entry_link(self.bank, self.entry_id)


@dataclass
class ShareSummary:
    who: str
    bank: str
    served_objects: int = 0
    served_pages: int = 0
    received_objects: int = 0
    received_pages: int = 0
    last_at: datetime | None = None


def collections(session: Session, banks: list[BankInfo], instance: str) -> list[Collection]:
    grants: dict[int, tuple[list[str], list[str]]] = {b.id: ([], []) for b in banks}
    rows = session.execute(
        select(CollectionGrantRow, PartnerRow.name)
        .join(PartnerRow, PartnerRow.id == CollectionGrantRow.partner_id)
        .order_by(PartnerRow.name)
    ).all()
    for grant, partner in rows:
        readers, writers = grants.setdefault(grant.bank_id, ([], []))
        if grant.can_read:
            readers.append(partner)
        if grant.can_write:
            writers.append(partner)
    return [
        Collection(b, collection_id(instance, b.name), *grants.get(b.id, ([], []))) for b in banks
    ]


def subscription_views(session: Session, partner: str | None = None) -> list[SubscriptionView]:
    query = (
        select(SubscriptionRow, PartnerRow.name, BankRow.name)
        .join(PartnerRow, PartnerRow.id == SubscriptionRow.partner_id)
        .join(BankRow, BankRow.id == SubscriptionRow.bank_id)
        .order_by(SubscriptionRow.id)
    )
    if partner is not None:
        query = query.where(PartnerRow.name == partner)
    return [
        SubscriptionView(
            id=row.id,
            partner=partner_name,
            bank=bank_name,
            remote_collection=row.remote_collection,
            api_root=row.api_root,
            interval_seconds=row.interval_seconds,
            require_signature=row.require_signature,
            enabled=row.enabled,
            next_poll_at=row.next_poll_at,
            last_polled_at=row.last_polled_at,
            last_success_at=row.last_success_at,
            last_error_code=row.last_error_code,
            objects_received=row.objects_received,
            entries_added=row.entries_added,
            entries_revoked=row.entries_revoked,
        )
        for row, partner_name, bank_name in session.execute(query).all()
    ]


def feedback_views(
    session: Session,
    *,
    direction: str | None = None,
    entry_id: int | None = None,
    partner: str | None = None,
    limit: int = RECENT,
) -> list[FeedbackView]:
    query = (
        select(FeedbackRow, BankRow.name)
        .outerjoin(BankRow, BankRow.id == FeedbackRow.bank_id)
        .order_by(FeedbackRow.id.desc())
        .limit(limit)
    )
    if direction is not None:
        query = query.where(FeedbackRow.direction == direction)
    if entry_id is not None:
        query = query.where(FeedbackRow.entry_id == entry_id)
    if partner is not None:
        query = query.where(FeedbackRow.partner_name == partner)
    return [
        FeedbackView(
            id=row.id,
            direction=row.direction,
            kind=row.kind,
            opinion=row.opinion,
            count=row.count,
            partner=row.partner_name,
            indicator_id=row.indicator_id,
            entry_id=row.entry_id,
            bank=bank,
            status=row.status,
            error=row.error,
            created_at=row.created_at,
            sent_at=row.sent_at,
        )
        for row, bank in session.execute(query).all()
    ]


def share_summary(session: Session, partner: str | None = None) -> list[ShareSummary]:
    """What was shared with whom: pages and objects served and received, per partner (or key)
    and bank, counted by the database."""
    query = (
        select(
            ShareEventRow.who,
            BankRow.name,
            ShareEventRow.direction,
            func.count(ShareEventRow.id),
            func.coalesce(func.sum(ShareEventRow.objects), 0),
            func.max(ShareEventRow.at),
        )
        .outerjoin(BankRow, BankRow.id == ShareEventRow.bank_id)
        .group_by(ShareEventRow.who, BankRow.name, ShareEventRow.direction)
    )
    if partner is not None:
        query = query.where(ShareEventRow.who == partner)
    found: dict[tuple[str, str], ShareSummary] = {}
    for who, bank, direction, pages, objects, last in session.execute(query).all():
        key = (str(who), str(bank or "(deleted bank)"))
        row = found.setdefault(key, ShareSummary(*key))
        if direction == "out":
            row.served_pages += int(pages)
            row.served_objects += int(objects)
        else:
            row.received_pages += int(pages)
            row.received_objects += int(objects)
        if isinstance(last, datetime) and (row.last_at is None or last > row.last_at):
            row.last_at = last
    return sorted(found.values(), key=lambda s: (s.who, s.bank))


def feedback_counts(session: Session, entry_ids: list[int]) -> dict[int, dict[str, int]]:
    """Feedback received per entry: sightings and disputes (disagreeing opinions)."""
    if not entry_ids:
        return {}
    rows = session.execute(
        select(FeedbackRow.entry_id, FeedbackRow.kind, FeedbackRow.opinion, func.count())
        .where(FeedbackRow.direction == "in", FeedbackRow.entry_id.in_(entry_ids))
        .group_by(FeedbackRow.entry_id, FeedbackRow.kind, FeedbackRow.opinion)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for entry_id, kind, opinion, number in rows:
        if entry_id is None:
            continue
        bucket = "sightings" if kind == "sighting" else "disputes"
        if kind != "sighting" and "disagree" not in opinion:
            bucket = "opinions"
        per = counts.setdefault(int(entry_id), {})
        per[bucket] = per.get(bucket, 0) + int(number)
    return counts


def fed_by_partners(session: Session, entry_ids: list[int]) -> set[int]:
    """Which of these entries a partner's feed brought: they carry the partner's indicator id,
    so there is someone to send a sighting or a dispute to."""
    if not entry_ids:
        return set()
    query = select(BankEntryRow.id).where(
        BankEntryRow.id.in_(entry_ids), BankEntryRow.external_id.is_not(None)
    )
    return set(session.scalars(query))


# --- pages ----------------------------------------------------------------------------------


@router.get("/sharing")
def sharing_page(
    request: Request,
    web: SignedIn,
    bastion: BastionDep,
    done: ShortText = None,
) -> Response:
    web.user.require("share.read")
    instance = instance_of(bastion).name
    identity = InstanceIdentity.load_or_create(bastion.settings.data_dir)
    with bastion.db.session() as session:
        banks = bastion.banks.list(session)
        offered = collections(session, banks, instance)
        partners = bastion.partners.list(session)
        subscriptions = subscription_views(session)
        received = feedback_views(session, direction="in")
        sent = feedback_views(session, direction="out")
        summary = share_summary(session)
    return render(
        request,
        "sharing.html",
        web=web,
        identity=identity,
        discovery=str(request.base_url).rstrip("/") + "/taxii2/",
        collections=offered,
        partners=partners,
        subscriptions=subscriptions,
        received=received,
        sent=sent,
        summary=summary,
        done=done,
        can_manage=web.user.can("share.manage"),
        can_write=web.user.can("share.write"),
    )


@router.get("/sharing/events")
def events_page(
    request: Request,
    web: SignedIn,
    bastion: BastionDep,
    who: ShortText = None,
    bank: ShortText = None,
    direction: ShortText = None,
    channel: ShortText = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    web.user.require("share.read")
    if direction not in (None, "", "in", "out"):
        raise InvalidInput("direction is 'in' (received) or 'out' (served)")
    query = (
        select(ShareEventRow, BankRow.name)
        .outerjoin(BankRow, BankRow.id == ShareEventRow.bank_id)
        .order_by(ShareEventRow.id.desc())
        .limit(EVENTS_PAGE + 1)
    )
    if who:
        query = query.where(ShareEventRow.who == who)
    if bank:
        query = query.where(BankRow.name == bank)
    if direction:
        query = query.where(ShareEventRow.direction == direction)
    if channel:
        query = query.where(ShareEventRow.channel == channel)
    if before:
        query = query.where(ShareEventRow.id < before)
    with bastion.db.session() as session:
        rows = session.execute(query).all()
        summary = share_summary(session, who or None)
    more = len(rows) > EVENTS_PAGE
    rows = rows[:EVENTS_PAGE]
    filters = {"who": who or "", "bank": bank or "", "direction": direction or ""}
    filters["channel"] = channel or ""
    next_query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "sharing_events.html",
        web=web,
        events=[(row, bank_name) for row, bank_name in rows],
        summary=summary,
        filters=filters,
        next_before=rows[-1][0].id if more and rows else None,
        next_query=next_query,
    )
