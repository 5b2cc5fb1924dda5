"""The OpenAPI document and its Swagger UI page, for holders of any live key.

Every route but the health checks requires a key, and the API description is no exception: it
tells an attacker exactly what to probe. Browsers cannot add an Authorization header to a page
load, so the page embeds the document rather than fetching it a second time without the key.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from bastion.api.auth import AnyKey

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head><body><div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{spec: {spec}, dom_id: "#swagger-ui"}});</script>
</body></html>"""


def _spec(request: Request) -> dict[str, Any]:
    spec: dict[str, Any] = request.app.openapi()
    return spec


@router.get("/openapi.json")
def openapi_json(request: Request, key: AnyKey) -> JSONResponse:
    return JSONResponse(_spec(request))


@router.get("/docs")
def swagger_page(request: Request, key: AnyKey) -> HTMLResponse:
    # "</" inside a <script> would end it early; JSON allows the escaped form.
    spec = json.dumps(_spec(request)).replace("</", "<\\/")
    return HTMLResponse(_PAGE.format(title="Bastion API", spec=spec))
