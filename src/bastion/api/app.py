"""The FastAPI application: routers, error rendering, the body-size cap and the OpenAPI document."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from bastion.api.auth import BastionProvider
from bastion.api.body import BodyLimitMiddleware
from bastion.api.errors import install_error_handlers
from bastion.api.hma import router as hma_router
from bastion.api.routers import (
    actions,
    alerts,
    audit,
    banks,
    cases,
    docs,
    entries,
    finance,
    health,
    incidents,
    keys,
    partners,
    review,
    scan,
    streams,
    subscriptions,
    taxii_write,
)
from bastion.api.routers.taxii import router as taxii_router
from bastion.api.schemas import BODY_MODELS, ErrorResponse
from bastion.runtime import Bastion
from bastion.settings import get_settings
from bastion.web import install as install_web

API_VERSION = "1"
DESCRIPTION = (
    "Bank known terrorist and violent extremist content and scan uploads against the banks. "
    "Every route except /healthz and /readyz needs `Authorization: Bearer <key>`; every error "
    'is `{"error": {"code": ..., "detail": ...}}`. See docs/api.md.'
)
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "unauthorized: missing or bad API key"},
    403: {"model": ErrorResponse, "description": "forbidden: the key lacks the scope"},
    422: {"model": ErrorResponse, "description": "validation_error and input errors"},
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the JSON models of bodies that routes parse themselves."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in BODY_MODELS:
            found = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in found.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components.setdefault(model.__name__, found)
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(bastion: Bastion | None = None) -> FastAPI:
    """The API app. Without ``bastion`` the services are built from the environment's settings
    on first use, so the process starts (and /healthz answers) before the database is up."""
    settings = bastion.settings if bastion is not None else get_settings()
    provider = BastionProvider(settings, bastion)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=provider.warm_up, name="index-warm-up", daemon=True).start()
        yield
        provider.close()

    app = FastAPI(
        title="Bastion",
        version=API_VERSION,
        description=DESCRIPTION,
        # Served by routers.docs instead, behind an API key.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.bastion = provider
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes)
    app.include_router(health.router)
    app.include_router(docs.router)
    for module in (
        scan,
        banks,
        entries,
        keys,
        audit,
        alerts,
        streams,
        incidents,
        cases,
        review,
        actions,
        partners,
        subscriptions,
        finance,
    ):
        app.include_router(module.router, responses=_ERRORS)
    app.include_router(taxii_router)  # TAXII 2.1 under /taxii2 (docs/taxii.md)
    app.include_router(taxii_write.router)
    app.include_router(taxii_write.fallback_router)  # last: TAXII errors for unknown paths
    app.include_router(hma_router)  # HMA 2.x-compatible /h, /m, /c (docs/hma-compatibility.md)
    install_web(app)  # the moderator pages under /ui and /ui/static (docs/web-ui.md)

    def openapi() -> dict[str, Any]:
        return _openapi(app)

    app.openapi = openapi  # type: ignore[method-assign]
    return app
