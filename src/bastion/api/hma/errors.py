"""HMA-route errors: HMA's ``{"message": ...}`` and Bastion's ``{"error": ...}`` in one body.

HMA clients read ``message`` and switch on the status; Bastion clients switch on ``error.code``.
Every HMA-route error therefore carries both, with HMA's statuses: a request that fails parameter
or body validation is 422 (``validation_error``, as HMA's flask-openapi3 answers), other bad input
is 400 (where Bastion says 415 or 422: a malformed hash, unknown signal type, undecodable media,
a refused URL), an existing bank name is 403, and everything else keeps Bastion's status (401,
403, 404, 409, 413, 502, 504...). The routes use :class:`HmaRoute`, which renders errors raised
anywhere in a request (auth dependencies, parameter validation, the handler) this way.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from bastion.api.errors import validation_error
from bastion.errors import BastionError

_AS_BAD_REQUEST = frozenset({415, 422})
_STATUS_BY_CODE = {"bank_exists": 403, "validation_error": 422}  # HMA: bank exists is 403


def hma_status(error: BastionError) -> int:
    if error.code in _STATUS_BY_CODE:
        return _STATUS_BY_CODE[error.code]
    return 400 if error.status in _AS_BAD_REQUEST else error.status


def hma_error_body(error: BastionError) -> dict[str, Any]:
    return {"message": error.detail, **error.to_dict()}


def hma_error_response(error: BastionError) -> JSONResponse:
    status = hma_status(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(hma_error_body(error), status_code=status, headers=headers)


class HmaRoute(APIRoute):
    """A route whose errors are rendered in the combined HMA + Bastion shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def hma_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except BastionError as exc:
                return hma_error_response(exc)
            except RequestValidationError as exc:
                return hma_error_response(validation_error(exc))

        return hma_handler
