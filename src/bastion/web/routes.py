"""The moderator's pages under /ui: sign-in, dashboard, queue, case and decision, audit log.

Plain HTML forms posted with a CSRF field and answered with a redirect (Post/Redirect/Get), so
every page works without JavaScript. Roles decide what a person may see and do
(:meth:`UserInfo.require`): an auditor reads and never decides.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.accounts.sessions import check_csrf, csrf_token
from bastion.api.auth import BastionDep
from bastion.errors import BastionError, Conflict, Forbidden, InvalidInput, LoginFailed
from bastion.finance.case_view import case_finance
from bastion.review.cases import CaseInfo
from bastion.review.decisions import CONFIRM, FALSE_POSITIVE, MAX_RATIONALE_CHARS
from bastion.review.queue import QueueFilter
from bastion.runtime import Bastion
from bastion.storage.models import CaseRow, utcnow
from bastion.taxonomy import BY_CODE, CATEGORIES
from bastion.web.dashboard import dashboard_charts
from bastion.web.render import WebRoute, render
from bastion.web.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Form,
    PostedForm,
    RawForm,
    SignedIn,
    WebSession,
    clear_cookie,
    new_login_token,
    set_cookie,
)

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
_LOGIN_COOKIE_SECONDS = 3600
ShortText = Annotated[str | None, Query(max_length=32)]


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- sign-in ----------------------------------------------------------------------------------


def _login_form(
    request: Request, *, failed: BastionError | None = None, username: str = ""
) -> Response:
    token = new_login_token()
    response = render(
        request,
        "login.html",
        status=failed.status if failed is not None else 200,
        web=None,
        csrf=csrf_token(token),
        failed=failed,
        username=username,
    )
    set_cookie(request, response, LOGIN_COOKIE, token, _LOGIN_COOKIE_SECONDS)
    return response


@router.get("/login")
def login_page(request: Request) -> Response:
    return _login_form(request)


@router.post("/login")
def login(request: Request, form: RawForm, bastion: BastionDep) -> Response:
    check_csrf(request.cookies.get(LOGIN_COOKIE), form.get("csrf") or None)
    username = form.get("username")[:128]
    client = request.client.host if request.client is not None else ""
    try:
        with bastion.db.session() as session:
            user = bastion.users.authenticate(
                session, username, form.get("password"), client=client
            )
            started = bastion.sessions.start(
                session, user, user_agent=request.headers.get("user-agent", "")
            )
    except LoginFailed as exc:
        return _login_form(request, failed=exc, username=username)
    response = _see_other("/ui/queue")
    lifetime = int(bastion.settings.session_lifetime_hours * 3600)
    set_cookie(request, response, SESSION_COOKIE, started.token, lifetime)
    clear_cookie(request, response, LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, form: RawForm, bastion: BastionDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    check_csrf(token, form.get("csrf") or None)
    with bastion.db.session() as session:
        bastion.sessions.revoke(session, token)
    response = _see_other("/ui/login")
    clear_cookie(request, response, SESSION_COOKIE)
    return response


# --- dashboard and queue ----------------------------------------------------------------------


@router.get("/")
def dashboard(request: Request, web: SignedIn, bastion: BastionDep) -> Response:
    web.user.require("cases.read")
    with bastion.db.session() as session:
        stats = bastion.queue.stats(session, QueueFilter())
        charts = dashboard_charts(session)
    return render(request, "dashboard.html", web=web, stats=stats, charts=charts)


def _category(value: str | None) -> str | None:
    if not value:
        return None
    if value not in BY_CODE:
        raise InvalidInput(f"unknown category {value!r}")
    return value


@router.get("/queue")
def queue(
    request: Request,
    web: SignedIn,
    bastion: BastionDep,
    category: ShortText = None,
    language: ShortText = None,
    empty: bool = False,
) -> Response:
    web.user.require("cases.read")
    where = QueueFilter(category=_category(category), language=language or None)
    with bastion.db.session() as session:
        cases = bastion.queue.list(session, where, limit=200)
        stats = bastion.queue.stats(session, where)
    return render(
        request,
        "queue.html",
        web=web,
        cases=cases,
        stats=stats,
        where=where,
        categories=CATEGORIES,
        empty=empty,
    )


@router.post("/queue/next")
def take_next(web: SignedIn, form: PostedForm, bastion: BastionDep) -> Response:
    web.user.require("cases.decide")
    where = QueueFilter(languages=web.user.languages)
    with bastion.db.session() as session:
        case = bastion.queue.next(session, where, reviewer=web.user.actor)
    if case is None:
        return _see_other("/ui/queue?empty=true")
    return _see_other(f"/ui/cases/{case.id}")


# --- a case and its decision ------------------------------------------------------------------


def time_left(due_at: datetime | None, now: datetime) -> str:
    """How long until the review deadline, in words: "2 h 5 min left" or "overdue by 12 min"."""
    if due_at is None:
        return ""
    seconds = int((due_at - now).total_seconds())
    minutes = abs(seconds) // 60
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if not days:
        parts.append(f"{minutes} min")
    words = " ".join(parts)
    return f"{words} left" if seconds >= 0 else f"overdue by {words}"


def _open_in_group(session: Session, case: CaseInfo) -> int:
    if case.group_key is None:
        return 0
    query = select(func.count(CaseRow.id)).where(
        CaseRow.group_key == case.group_key, CaseRow.status == "open"
    )
    return int(session.scalar(query) or 0)


def _case_page(
    request: Request,
    web: WebSession,
    bastion: Bastion,
    case_id: int,
    *,
    problem: BastionError | None = None,
    problem_title: str = "Nothing was decided",
    form: Form | None = None,
    decided: bool = False,
    notice: str = "",
) -> Response:
    with bastion.db.session() as session:
        case = bastion.cases.get(session, case_id)
        history = bastion.decisions.history(session, case_id)
        banks = [b for b in bastion.banks.list(session) if b.kind == "positive" and b.enabled]
        related = bastion.cases.related(session, case_id)
        appeal = bastion.decisions.open_appeal(session, case_id) if case.status == "open" else None
        actions = bastion.actions.list(session, case_id=case_id, limit=50)
        in_group = _open_in_group(session, case)
        finance = case_finance(session, case)
    deciding = web.user.can("cases.decide") and case.status == "open"
    return render(
        request,
        "case.html",
        status=problem.status if problem is not None else 200,
        web=web,
        case=case,
        history=history,
        banks=banks,
        categories=CATEGORIES,
        can_decide=deciding,
        # A flood: every open case sharing the key can be decided at once.
        group_open=in_group if deciding and in_group > 1 else 0,
        related=related,
        appeal=appeal,
        excluded=appeal is not None and appeal.excluded_reviewer == web.user.actor,
        actions=actions,
        time_left=time_left(case.due_at, utcnow()) if case.status == "open" else "",
        problem=problem,
        problem_title=problem_title,
        form=form or Form({}),
        decided=decided,
        notice=notice,
        max_rationale=MAX_RATIONALE_CHARS,
        finance=finance,
    )


@router.get("/cases/{case_id}")
def case_page(
    request: Request,
    case_id: int,
    web: SignedIn,
    bastion: BastionDep,
    decided: bool = False,
    group_decided: Annotated[int, Query(ge=0, le=100_000)] = 0,
    assigned: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    web.user.require("cases.read")
    notice = ""
    if group_decided:
        notice = f"Decided {group_decided} open cases of this flood."
    elif assigned == "me":
        notice = "The case is assigned to you."
    elif assigned == "released":
        notice = "The case is released back to the queue."
    return _case_page(request, web, bastion, case_id, decided=decided, notice=notice)


def _version(form: Form) -> int:
    try:
        return int(form.get("version"))
    except ValueError:
        raise InvalidInput("the form lacks the case version: reload the case") from None


@router.post("/cases/{case_id}/decide")
def decide(
    request: Request, case_id: int, web: SignedIn, form: PostedForm, bastion: BastionDep
) -> Response:
    web.user.require("cases.decide")
    outcome = form.get("outcome")
    bank = form.get("add_to_bank") or None
    try:
        with bastion.db.session() as session:
            bastion.workbench.decide(
                session,
                case_id,
                outcome=outcome,
                actor=web.user.actor,
                expected_version=_version(form),
                labels=form.all("labels"),
                rationale=form.get("rationale").replace("\r\n", "\n"),
                add_to_bank=bank if outcome == CONFIRM else None,
            )
    except (Conflict, InvalidInput, Forbidden) as exc:
        # The case as it is now, the reviewer's words kept, and why nothing was decided.
        return _case_page(request, web, bastion, case_id, problem=exc, form=form)
    return _see_other(f"/ui/cases/{case_id}?decided=true")


@router.post("/cases/{case_id}/decide-group")
def decide_group(
    request: Request, case_id: int, web: SignedIn, form: PostedForm, bastion: BastionDep
) -> Response:
    """One decision for every open case of this case's flood (same ``group_key``)."""
    web.user.require("cases.decide")
    outcome = form.get("outcome")
    try:
        if outcome not in (CONFIRM, FALSE_POSITIVE):
            raise InvalidInput("a flood is confirmed or marked false positive; escalate one by one")
        with bastion.db.session() as session:
            case = bastion.cases.get(session, case_id)
            if case.group_key is None:
                raise InvalidInput(f"case {case_id} belongs to no flood")
            made = bastion.workbench.decide_group(
                session,
                case.group_key,
                outcome=outcome,
                actor=web.user.actor,
                labels=form.all("labels"),
                rationale=form.get("rationale").replace("\r\n", "\n"),
            )
    except (Conflict, InvalidInput, Forbidden) as exc:
        return _case_page(request, web, bastion, case_id, problem=exc, form=form)
    return _see_other(f"/ui/cases/{case_id}?group_decided={len(made)}")


def _assign(
    request: Request,
    case_id: int,
    web: WebSession,
    form: Form,
    bastion: Bastion,
    *,
    assignee: str | None,
) -> Response:
    web.user.require("cases.decide")
    try:
        with bastion.db.session() as session:
            bastion.queue.assign(
                session,
                case_id,
                assignee=assignee,
                actor=web.user.actor,
                expected_version=_version(form),
            )
    except (Conflict, InvalidInput, Forbidden) as exc:
        return _case_page(
            request, web, bastion, case_id, problem=exc, problem_title="Nothing was changed"
        )
    done = "me" if assignee else "released"
    return _see_other(f"/ui/cases/{case_id}?assigned={done}")


@router.post("/cases/{case_id}/assign")
def assign_to_me(
    request: Request, case_id: int, web: SignedIn, form: PostedForm, bastion: BastionDep
) -> Response:
    return _assign(request, case_id, web, form, bastion, assignee=web.user.actor)


@router.post("/cases/{case_id}/release")
def release(
    request: Request, case_id: int, web: SignedIn, form: PostedForm, bastion: BastionDep
) -> Response:
    return _assign(request, case_id, web, form, bastion, assignee=None)


@router.get("/cases/{case_id}/images/{image_id}")
def case_image(case_id: int, image_id: int, web: SignedIn, bastion: BastionDep) -> Response:
    web.user.require("cases.read")
    with bastion.db.session() as session:
        image = bastion.cases.evidence_image(session, case_id, image_id)
    return Response(
        image.data, media_type=image.media_type, headers={"Cache-Control": "private, no-store"}
    )


# --- audit ------------------------------------------------------------------------------------


@router.get("/audit")
def audit(request: Request, web: SignedIn, bastion: BastionDep) -> Response:
    web.user.require("audit.read")
    with bastion.db.session() as session:
        events = bastion.audit.list(session, limit=100)
        chain = bastion.audit.verify(session)
    return render(request, "audit.html", web=web, events=events, chain=chain)
