"""Render every failure as ``{"error": {"code": ..., "detail": ...}}``.

Domain errors already carry a stable code and status (:mod:`bastion.errors`). This module adds the
few that only HTTP can produce (a malformed JSON body, a failed request validation, a wrong method)
and installs handlers so that FastAPI's and Starlette's own ``{"detail": ...}`` bodies never reach a
client: integrations switch on ``error.code`` and must always find one.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bastion.errors import BastionError, NotFound, UploadTooLarge

logger = logging.getLogger("bastion.api")


class InvalidJson(BastionError):
    """The request body claims to be JSON (or must be) and does not parse."""

    code = "invalid_json"
    status = 400


class ValidationFailed(BastionError):
    """A parameter or body field has the wrong type or value; ``errors`` lists each field."""

    code = "validation_error"
    status = 422


class InvalidMultipart(BastionError):
    """A multipart/form-data body that does not parse or lacks the ``file`` part."""

    code = "invalid_multipart"
    status = 400


class MethodNotAllowed(BastionError):
    code = "method_not_allowed"
    status = 405


class InternalError(BastionError):
    """A bug: the details are in the server log, never in the response."""

    code = "internal_error"
    status = 500


# Statuses Starlette may raise on its own, mapped to the code a client sees.
_HTTP_CODES: dict[int, type[BastionError]] = {
    404: NotFound,
    405: MethodNotAllowed,
    413: UploadTooLarge,
}


def error_response(error: BastionError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.to_dict(), status_code=error.status, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # The offending ``input`` is left out on purpose: it can be a whole body, or a secret.
    return [
        {"loc": list(item.get("loc", ())), "msg": item.get("msg", ""), "type": item.get("type", "")}
        for item in exc.errors()
    ]


def validation_failed(fields: list[dict[str, Any]]) -> ValidationFailed:
    """The 422 for failed field checks, each field as ``{loc, msg, type}``."""
    summary = "; ".join(
        f"{'.'.join(str(part) for part in field['loc'])}: {field['msg']}" for field in fields[:5]
    )
    return ValidationFailed(f"request is invalid: {summary}", errors=fields)


def validation_error(exc: RequestValidationError) -> BastionError:
    """The error to report for a failed request validation (malformed JSON is its own code)."""
    for item in exc.errors():
        if item.get("type") == "json_invalid":
            reason = (item.get("ctx") or {}).get("error", "JSON decode error")
            loc = item.get("loc", ())
            position = loc[1] if len(loc) > 1 else None
            return InvalidJson(f"request body is not valid JSON: {reason}", position=position)
    return validation_failed(_field_errors(exc))


async def _bastion_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BastionError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(exc, headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(validation_error(exc))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = _HTTP_CODES.get(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    if kind is NotFound:
        detail = "no such endpoint; see /openapi.json"
    error = kind(detail) if kind is not None else BastionError(detail)
    body = error.to_dict()
    if kind is None:
        body["error"]["code"] = f"http_{exc.status_code}"
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Method and route only: query strings and headers may carry URLs with tokens, or keys.
    logger.error("internal error handling %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(InternalError("internal error; the server log has the details"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BastionError, _bastion_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
