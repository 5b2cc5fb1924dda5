"""The moderator's pages under /ui: sign-in, dashboard, queue, case and decision, audit log.

Plain HTML forms posted with a CSRF field and answered with a redirect (Post/Redirect/Get), so
every page works without JavaScript. Roles decide what a person may see and do
(:meth:`UserInfo.require`): an auditor reads and never decides.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from bastion.accounts.sessions import check_csrf, csrf_token
from bastion.api.auth import BastionDep
from bastion.errors import BastionError, Conflict, Forbidden, InvalidInput, LoginFailed
from bastion.review.decisions import CONFIRM, MAX_RATIONALE_CHARS
from bastion.review.queue import QueueFilter
from bastion.runtime import Bastion
from bastion.taxonomy import BY_CODE, CATEGORIES
from bastion.web.dashboard import decisions_chart, priority_chart
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
        charts = [priority_chart(session), decisions_chart(session)]
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


def _case_page(
    request: Request,
    web: WebSession,
    bastion: Bastion,
    case_id: int,
    *,
    problem: BastionError | None = None,
    form: Form | None = None,
    decided: bool = False,
) -> Response:
    with bastion.db.session() as session:
        case = bastion.cases.get(session, case_id)
        history = bastion.decisions.history(session, case_id)
        banks = [b for b in bastion.banks.list(session) if b.kind == "positive" and b.enabled]
    return render(
        request,
        "case.html",
        status=problem.status if problem is not None else 200,
        web=web,
        case=case,
        history=history,
        banks=banks,
        categories=CATEGORIES,
        can_decide=web.user.can("cases.decide") and case.status == "open",
        problem=problem,
        form=form or Form({}),
        decided=decided,
        max_rationale=MAX_RATIONALE_CHARS,
    )


@router.get("/cases/{case_id}")
def case_page(
    request: Request, case_id: int, web: SignedIn, bastion: BastionDep, decided: bool = False
) -> Response:
    web.user.require("cases.read")
    return _case_page(request, web, bastion, case_id, decided=decided)


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
