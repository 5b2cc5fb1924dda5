"""Live stream pages: the streams this process watches, incidents, and recent stream alerts.

A stream is shown by its label (:func:`bastion.stream.alerting.stream_label`: no credentials, no
stream key), never by the URL it was started with. A role with ``streams.write`` stops one with a
form (CSRF-checked, audited by :meth:`StreamManager.stop`).
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from bastion.api.auth import BastionDep
from bastion.stream.alerting import STREAM_MATCH_KIND
from bastion.web.render import WebRoute, render
from bastion.web.session import PostedForm, SignedIn

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)

RECENT_ALERTS: Final = 20


@router.get("/streams")
def streams_page(
    request: Request,
    web: SignedIn,
    bastion: BastionDep,
    stopped: Annotated[bool, Query()] = False,
    show_stopped: Annotated[bool, Query(alias="all")] = False,
) -> Response:
    web.user.require("streams.read")
    streams = bastion.streams.list(include_stopped=show_stopped, limit=200)
    return render(
        request,
        "streams.html",
        web=web,
        streams=streams,
        stopped=stopped,
        show_stopped=show_stopped,
        can_stop=web.user.can("streams.write"),
    )


@router.post("/streams/{stream_id}/stop")
def stop_stream(stream_id: int, web: SignedIn, form: PostedForm, bastion: BastionDep) -> Response:
    web.user.require("streams.write")
    bastion.streams.stop(stream_id, actor=web.user.actor)
    return RedirectResponse("/ui/streams?stopped=true", status_code=303)


@router.get("/incidents")
def incidents_page(request: Request, web: SignedIn, bastion: BastionDep) -> Response:
    web.user.require("streams.read")
    with bastion.db.session() as session:
        incidents = bastion.incidents.list(session)
        alerts = [
            alert
            for alert in bastion.alerts.list(session, limit=500)
            if alert.kind == STREAM_MATCH_KIND
        ][:RECENT_ALERTS]
    return render(request, "incidents.html", web=web, incidents=incidents, alerts=alerts)
