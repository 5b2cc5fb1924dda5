"""Subscription and feedback pages: subscribe a local bank to a partner's collection, enable,
disable, poll now and delete subscriptions (``share.write``); send a partner a sighting or a
dispute about an entry its feed brought (``share.write``). Listing needs ``share.read``.

The work is done by :class:`bastion.share.subscriptions.Subscriptions` and
:class:`bastion.share.feedback.FeedbackQueue`, which check and audit it; these pages check what
a form can get wrong first, so a typing mistake is explained next to the form it came from.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query, Request, Response

from bastion.api.auth import BastionDep
from bastion.errors import BastionError, InvalidInput
from bastion.runtime import Bastion
from bastion.share.apply import PollReport
from bastion.share.feedback import MAX_EXPLANATION, OPINIONS
from bastion.share.subscriptions import MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS
from bastion.storage.models import BankEntryRow, BankRow
from bastion.web.render import WebRoute, render
from bastion.web.routes_share import (
    checked,
    entry_link,
    feedback_views,
    see_other,
    subscription_views,
)
from bastion.web.session import Form, PostedForm, SignedIn, WebSession

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)

MIN_INTERVAL: Final = MIN_INTERVAL_SECONDS
MAX_INTERVAL: Final = MAX_INTERVAL_SECONDS
MAX_COUNT: Final = 999_999_999
ShortText = Annotated[str | None, Query(max_length=64)]


def report_items(report: PollReport) -> list[tuple[str, str]]:
    """A poll report as name/value pairs: the counts, and at most ten rejections."""
    items = [(str(k), str(v)) for k, v in report.summary().items() if v not in ("", None)]
    for rejected in report.rejections[:10]:
        items.append(("rejected", str(rejected)[:300]))
    return items


# --- subscriptions --------------------------------------------------------------------------


def _subscriptions_page(
    request: Request,
    web: WebSession,
    bastion: Bastion,
    *,
    problem: BastionError | None = None,
    form: Form | None = None,
    done: str | None = None,
    report: list[tuple[str, str]] | None = None,
    polled: int | None = None,
) -> Response:
    with bastion.db.session() as session:
        subscriptions = subscription_views(session)
        partners = bastion.partners.list(session)
        banks = bastion.banks.list(session)
    return render(
        request,
        "sharing_subscriptions.html",
        status=problem.status if problem is not None else 200,
        web=web,
        subscriptions=subscriptions,
        partners=partners,
        banks=banks,
        problem=problem,
        form=form or Form({}),
        done=done,
        report=report,
        polled=polled,
        can_write=web.user.can("share.write"),
        min_interval=MIN_INTERVAL,
        max_interval=MAX_INTERVAL,
    )


@router.get("/sharing/subscriptions")
def subscriptions_page(
    request: Request, web: SignedIn, bastion: BastionDep, done: ShortText = None
) -> Response:
    web.user.require("share.read")
    return _subscriptions_page(request, web, bastion, done=done)


def _interval(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        seconds = int(text.strip())
    except ValueError:
        raise InvalidInput("the interval is a whole number of seconds") from None
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise InvalidInput(f"the interval is between {MIN_INTERVAL} and {MAX_INTERVAL} seconds")
    return seconds


@router.post("/sharing/subscriptions")
def create_subscription(
    request: Request, web: SignedIn, form: PostedForm, bastion: BastionDep
) -> Response:
    web.user.require("share.write")
    try:
        remote = form.get("remote_collection").strip()
        if not remote or len(remote) > 255:
            raise InvalidInput("the remote collection id is 1 to 255 characters")
        with bastion.db.session() as session:
            bastion.subscriptions.create(
                session,
                partner=form.get("partner"),
                bank=form.get("bank"),
                remote_collection=remote,
                api_root=form.get("api_root").strip()[:2048],
                interval_seconds=_interval(form.get("interval_seconds")),
                require_signature=checked(form, "require_signature"),
                actor=web.user.actor,
            )
    except BastionError as exc:
        return _subscriptions_page(request, web, bastion, problem=exc, form=form)
    return see_other("/ui/sharing/subscriptions?done=created")


def _subscription_action(
    request: Request, web: WebSession, bastion: Bastion, form: Form, action: str, sub_id: int
) -> Response:
    web.user.require("share.write")
    report = None
    try:
        service = bastion.subscriptions
        if action == "poll":
            report = report_items(service.poll(sub_id, actor=web.user.actor))
        else:
            with bastion.db.session() as session:
                if action == "delete":
                    if not checked(form, "confirm"):
                        raise InvalidInput("tick the box to confirm deleting the subscription")
                    service.delete(session, sub_id, actor=web.user.actor)
                else:
                    service.update(
                        session, sub_id, enabled=action == "enable", actor=web.user.actor
                    )
    except BastionError as exc:
        return _subscriptions_page(request, web, bastion, problem=exc)
    if report is not None:
        # Shown at once (not redirected): the report exists only as this poll's answer.
        return _subscriptions_page(request, web, bastion, report=report, polled=sub_id)
    return see_other(f"/ui/sharing/subscriptions?done={action}d")


@router.post("/sharing/subscriptions/{sub_id}/{action}")
def subscription_action(
    request: Request,
    sub_id: int,
    action: str,
    web: SignedIn,
    form: PostedForm,
    bastion: BastionDep,
) -> Response:
    if action not in ("enable", "disable", "delete", "poll"):
        raise InvalidInput(f"unknown subscription action {action[:16]!r}")
    return _subscription_action(request, web, bastion, form, action, sub_id)


# --- feedback -------------------------------------------------------------------------------


def _feedback_page(
    request: Request,
    web: WebSession,
    bastion: Bastion,
    entry_id: int | None,
    *,
    problem: BastionError | None = None,
    form: Form | None = None,
    done: str | None = None,
) -> Response:
    with bastion.db.session() as session:
        entry = None
        from_partner = False
        if entry_id is not None:
            row = session.get(BankEntryRow, entry_id)
            if row is not None:
                bank = session.get(BankRow, row.bank_id)
                bank_name = bank.name if bank is not None else ""
                entry = bastion.banks.get_entry(session, bank_name, entry_id)
                # Only an entry a partner's feed brought (it carries the partner's indicator
                # id) has someone to tell; FeedbackQueue decides which subscription that is.
                from_partner = bool(row.external_id)
        received = feedback_views(session, direction="in", entry_id=entry_id, limit=200)
        sent = feedback_views(session, direction="out", entry_id=entry_id, limit=200)
    return render(
        request,
        "sharing_feedback.html",
        status=problem.status if problem is not None else 200,
        web=web,
        entry=entry,
        entry_id=entry_id,
        entry_link=entry_link(entry.bank, entry.id) if entry is not None else "",
        from_partner=from_partner,
        received=received,
        sent=sent,
        problem=problem,
        form=form or Form({}),
        done=done,
        opinions=OPINIONS,
        can_write=web.user.can("share.write"),
        max_explanation=MAX_EXPLANATION,
    )


@router.get("/sharing/feedback")
def feedback_page(
    request: Request,
    web: SignedIn,
    bastion: BastionDep,
    entry: Annotated[int | None, Query(ge=1)] = None,
    done: ShortText = None,
) -> Response:
    web.user.require("share.read")
    return _feedback_page(request, web, bastion, entry, done=done)


def _count(text: str) -> int:
    try:
        count = int(text.strip() or "1")
    except ValueError:
        raise InvalidInput("the count is a whole number") from None
    if not 1 <= count <= MAX_COUNT:
        raise InvalidInput(f"the count is between 1 and {MAX_COUNT}")
    return count


@router.post("/sharing/feedback")
def send_feedback(
    request: Request, web: SignedIn, form: PostedForm, bastion: BastionDep
) -> Response:
    web.user.require("share.write")
    raw_entry = form.get("entry_id")
    entry_id = int(raw_entry) if raw_entry.isdigit() and len(raw_entry) <= 18 else None
    try:
        if entry_id is None:
            raise InvalidInput("the form names no bank entry")
        kind = form.get("kind")
        if kind not in ("sighting", "opinion"):
            raise InvalidInput("send a sighting or a dispute")
        opinion = form.get("opinion") if kind == "opinion" else ""
        if kind == "opinion" and opinion not in OPINIONS:
            raise InvalidInput(f"an opinion is one of {', '.join(OPINIONS)}")
        explanation = form.get("explanation").replace("\r\n", "\n")
        if len(explanation) > MAX_EXPLANATION:
            raise InvalidInput(f"the explanation is at most {MAX_EXPLANATION} characters")
        count = _count(form.get("count")) if kind == "sighting" else 1
        with bastion.db.session() as session:
            queued = bastion.feedback.queue_feedback(
                session,
                entry_id=entry_id,
                kind=kind,
                actor=web.user.actor,
                count=count,
                opinion=opinion,
                explanation=explanation,
            )
        if queued is None:
            raise InvalidInput(
                f"entry {entry_id} did not come from a partner's feed: there is no one to tell"
            )
    except BastionError as exc:
        return _feedback_page(request, web, bastion, entry_id, problem=exc, form=form)
    return see_other(f"/ui/sharing/feedback?entry={entry_id}&done=queued")
