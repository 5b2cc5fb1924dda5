"""Bank pages: every bank at a glance, and one bank's entries with their provenance.

An entry quarantined by flood control (:mod:`bastion.match.flood`) shows why, and the open alert
that says so; a role with ``banks.write`` releases it with a form (CSRF-checked, audited by
:meth:`Banks.release_quarantine`).
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from bastion.api.auth import BastionDep
from bastion.match.alerts import AlertInfo
from bastion.web.render import WebRoute, render
from bastion.web.routes_share import fed_by_partners, feedback_counts
from bastion.web.session import PostedForm, SignedIn

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)

PAGE_SIZE: Final = 50
FLOOD_KIND: Final = "flood_quarantine"
_SHOWN_CHARS: Final = 16


def short_value(value: str) -> str:
    """A hash as a table shows it: its first characters, enough to tell entries apart."""
    return value if len(value) <= _SHOWN_CHARS + 4 else f"{value[:_SHOWN_CHARS]}…"


@router.get("/banks")
def banks_page(request: Request, web: SignedIn, bastion: BastionDep) -> Response:
    web.user.require("banks.read")
    with bastion.db.session() as session:
        banks = bastion.banks.list(session)
    return render(request, "banks.html", web=web, banks=banks)


def _flood_alerts(alerts: list[AlertInfo], bank: str) -> dict[int, AlertInfo]:
    """The open flood-control alerts of ``bank``, by the entry they quarantined."""
    found: dict[int, AlertInfo] = {}
    for alert in alerts:
        if alert.kind == FLOOD_KIND and alert.bank == bank and alert.entry_id is not None:
            found.setdefault(alert.entry_id, alert)
    return found


@router.get("/banks/{name}")
def bank_page(
    request: Request,
    name: str,
    web: SignedIn,
    bastion: BastionDep,
    after: Annotated[int, Query(ge=0)] = 0,
    released: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    web.user.require("banks.read")
    with bastion.db.session() as session:
        bank = bastion.banks.get(session, name)
        entries = bastion.banks.list_entries(session, name, limit=PAGE_SIZE + 1, after_id=after)
        floods = _flood_alerts(bastion.alerts.list(session, open_only=True, limit=1000), name)
        more = len(entries) > PAGE_SIZE
        entries = entries[:PAGE_SIZE]
        # Partner feedback (sightings, disputes) per entry, for those who may see sharing.
        sharing = web.user.can("share.read")
        feedback = feedback_counts(session, [e.id for e in entries]) if sharing else {}
        answerable = (
            fed_by_partners(session, [e.id for e in entries])
            if web.user.can("share.write")
            else set()
        )
    return render(
        request,
        "bank.html",
        web=web,
        bank=bank,
        entries=entries,
        floods=floods,
        after=after,
        next_after=entries[-1].id if more and entries else None,
        released=released,
        can_release=web.user.can("banks.write"),
        short_value=short_value,
        sharing=sharing,
        feedback=feedback,
        answerable=answerable,
    )


@router.post("/banks/{name}/entries/{entry_id}/release")
def release_entry(
    name: str, entry_id: int, web: SignedIn, form: PostedForm, bastion: BastionDep
) -> Response:
    web.user.require("banks.write")
    with bastion.db.session() as session:
        bastion.banks.release_quarantine(session, name, entry_id, actor=web.user.actor)
    after = form.get("after")
    page = (
        f"&after={int(after)}"
        if after.isdigit() and 0 < len(after) <= 18 and int(after) > 0
        else ""
    )
    return RedirectResponse(f"/ui/banks/{name}?released={entry_id}{page}", status_code=303)
