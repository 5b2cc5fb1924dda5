"""Finance pages: the imported sanctions lists, screening a name or wallet, and a case's
evidence report for a financial intelligence unit (its panel is part of the case page)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from bastion.api.auth import BastionDep
from bastion.errors import BastionError
from bastion.finance.report_pdf import render_report_pdf
from bastion.finance.reports import report_for_case
from bastion.finance.screening import ScreeningHit, screen_wallets
from bastion.signals.payment import CryptoAddressSignal
from bastion.web.render import WebRoute, render
from bastion.web.session import SignedIn

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)


@router.get("/finance")
def finance_page(
    request: Request,
    web: SignedIn,
    bastion: BastionDep,
    name: Annotated[str, Query(max_length=500)] = "",
    wallet: Annotated[str, Query(max_length=4000)] = "",
) -> Response:
    """Active lists and, when a name or wallet is given, its screening result."""
    web.user.require("finance.read")
    hits: list[ScreeningHit] = []
    problem: BastionError | None = None
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
    )


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
    name = f"case-{case_id}-finance.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "pdf":
        return Response(render_report_pdf(report), media_type="application/pdf", headers=headers)
    body = json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8")
    return Response(body, media_type="application/json", headers=headers)
