"""Pages: the Jinja2 environment, the security headers every page carries, and error pages.

:class:`WebRoute` wraps every route of the web UI: a :class:`BastionError` (raised by a route or
by a dependency) becomes an HTML page naming its stable ``code``; an ended or missing sign-in
becomes a redirect to the login page; anything unexpected is logged and shown as
``internal_error``, never as a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, Final

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape

from bastion.api.errors import InternalError, validation_error
from bastion.errors import BastionError, SessionExpired

log = logging.getLogger("bastion.web")

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
PAGE_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


_env = Environment(
    loader=PackageLoader("bastion.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = _when


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    page = _env.get_template(template).render(request=request, **context)
    return HTMLResponse(page, status_code=status)


def error_page(
    request: Request, error: BastionError, *, web: Any = None, back: str = "/ui/queue"
) -> HTMLResponse:
    return render(request, "error.html", status=error.status, error=error, web=web, back=back)


def _secure(response: Response) -> Response:
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class WebRoute(APIRoute):
    """A route answering in HTML, with the page security headers, whatever happens."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except SessionExpired:
                response = RedirectResponse("/ui/login", status_code=303)
            except BastionError as exc:
                response = error_page(request, exc)
            except RequestValidationError as exc:
                response = error_page(request, validation_error(exc))
            except Exception:
                log.exception("web page failed: %s %s", request.method, request.url.path)
                response = error_page(
                    request, InternalError("internal error; the server log has the details")
                )
            return _secure(response)

        return route
