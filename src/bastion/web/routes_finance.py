"""Finance pages: the imported sanctions lists, screening a name or wallet, and a case's
evidence report for a financial intelligence unit (its panel is part of the case page)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from bastion.accounts.sessions import check_csrf
from bastion.api.auth import BastionDep
from bastion.api.body import read_form
from bastion.errors import BastionError, InvalidInput
from bastion.finance.lists.read import FORMATS as LIST_FORMATS
from bastion.finance.reports import report_file, report_for_case
from bastion.finance.screening import ScreeningHit, screen_wallets
from bastion.runtime import Bastion
from bastion.signals.payment import CryptoAddressSignal
from bastion.web.render import WebRoute, render
from bastion.web.session import PostedForm, SignedIn, WebSession

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)

_UPLOAD_FIELDS: Final = frozenset({"csrf", "format"})


@router.get("/finance")
def finance_page(
    request: Request,
    web: SignedIn,
    bastion: BastionDep,
    name: Annotated[str, Query(max_length=500)] = "",
    wallet: Annotated[str, Query(max_length=4000)] = "",
    imported: Annotated[int, Query(ge=0)] = 0,
    cases: Annotated[int, Query(ge=0)] = 0,
    removed: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Active lists and, when a name or wallet is given, its screening result."""
    web.user.require("finance.read")
    notice = ""
    if imported:
        notice = (
            f"Imported list version {imported}; {cases} case(s) opened for content seen before."
        )
    elif removed:
        notice = f"Removed list version {removed}."
    return _page(request, web, bastion, name=name, wallet=wallet, notice=notice)


def _page(
    request: Request,
    web: WebSession,
    bastion: Bastion,
    *,
    name: str = "",
    wallet: str = "",
    notice: str = "",
    problem: BastionError | None = None,
) -> Response:
    hits: list[ScreeningHit] = []
    with bastion.db.session() as session:
        lists = bastion.sanctions.list(session, include_superseded=True)
        try:
            if wallet.strip():
                hits = screen_wallets(session, [CryptoAddressSignal.normalize(wallet)])
            elif name.strip():
                hits = bastion.scanner.finance.names.screen(
                    session, name, threshold=bastion.settings.finance_name_threshold
                )
        except BastionError as exc:  # a bad address or name is shown on the page
            problem = exc
    return render(
        request,
        "finance.html",
        status=problem.status if problem else 200,
        web=web,
        lists=lists,
        hits=hits,
        name=name,
        wallet=wallet,
        searched=bool(name.strip() or wallet.strip()),
        problem=problem,
        notice=notice,
        formats=LIST_FORMATS,
    )


@router.post("/finance/lists")
async def import_list(request: Request, web: SignedIn, bastion: BastionDep) -> Response:
    """Import an uploaded list file (``finance.manage``): a multipart form with the file, the
    CSRF token and an optional format."""
    web.user.require("finance.manage")
    form = await read_form(request, bastion.settings.max_upload_bytes, _UPLOAD_FIELDS)
    check_csrf(web.token, form.fields.get("csrf") or None)
    try:
        if form.file is None or not form.file.data:
            raise InvalidInput("choose the list file to import", field="file")
        chosen = form.fields.get("format") or None
        if chosen is not None and chosen not in LIST_FORMATS:
            raise InvalidInput(f"unknown list format {chosen!r}", field="format")
        outcome = await run_in_threadpool(
            partial(
                bastion.lists.import_upload,
                bastion.db,
                form.file.data,
                data_dir=bastion.settings.data_dir,
                actor=web.user.actor,
                format=chosen,
                file_name=(form.file.filename or "upload")[:255],
            )
        )
    except BastionError as exc:  # the page again, saying why nothing was imported
        return await run_in_threadpool(partial(_page, request, web, bastion, problem=exc))
    opened = len(outcome.rescreen.cases) if outcome.rescreen else 0
    return RedirectResponse(
        f"/ui/finance?imported={outcome.info.id}&cases={opened}", status_code=303
    )


@router.post("/finance/lists/{list_id}/remove")
def remove_list(list_id: int, web: SignedIn, form: PostedForm, bastion: BastionDep) -> Response:
    """Remove a wrong import (``finance.manage``); the previous version becomes active."""
    web.user.require("finance.manage")
    with bastion.db.session() as session:
        bastion.sanctions.remove(session, list_id, actor=web.user.actor)
    return RedirectResponse(f"/ui/finance?removed={list_id}", status_code=303)


@router.get("/cases/{case_id}/finance-report")
def finance_report(
    case_id: int,
    web: SignedIn,
    bastion: BastionDep,
    format: Annotated[str, Query(pattern="^(json|pdf)$")] = "json",
) -> Response:
    """The case's evidence summary (TLP:AMBER), as a download; taking it is audited."""
    web.user.require("finance.read")
    with bastion.db.session() as session:
        report = report_for_case(
            session,
            bastion.cases,
            bastion.audit,
            case_id,
            actor=web.user.actor,
            data_dir=bastion.settings.data_dir,
            form=format,
        )
    body, media_type, name = report_file(report, format)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media_type, headers=headers)
