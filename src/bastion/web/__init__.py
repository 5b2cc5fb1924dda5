"""The moderator's web UI: server-rendered pages under /ui (see docs/web-ui.md)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"


class _Static(StaticFiles):
    """Our own CSS and script, never sniffed as anything else."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        return response


def install(app: FastAPI) -> None:
    """Serve the pages under /ui and their static files under /ui/static."""
    # Imported here: the pages use the API's dependencies, and the API installs the pages, so
    # importing them at module level would make ``import bastion.web`` circular.
    from bastion.web import (
        routes_admin,
        routes_banks,
        routes_finance,
        routes_search,
        routes_share,
        routes_share_feeds,
        routes_share_partners,
        routes_streams,
    )
    from bastion.web.routes import router

    app.include_router(router)
    for pages in (
        routes_banks,
        routes_streams,
        routes_search,
        routes_admin,
        routes_share,
        routes_share_partners,
        routes_share_feeds,
        routes_finance,
    ):
        app.include_router(pages.router)
    app.mount("/ui/static", _Static(directory=STATIC_DIR), name="ui-static")
