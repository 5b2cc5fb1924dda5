"""TAXII 2.1 protocol plumbing: media types, error messages, content negotiation.

Shared by the TAXII routes (:mod:`bastion.api.routers.taxii`): every failure there is a TAXII
error message (``{"title", "description", "error_code", "http_status"}``), never Bastion's own
error shape, and every answer is ``application/taxii+json;version=2.1``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Final

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

from bastion.banks.records import Tlp
from bastion.errors import BastionError, InvalidInput

TAXII_MEDIA_TYPE: Final = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE: Final = "application/stix+json;version=2.1"
API_ROOT_PATH: Final = "/taxii2/api/"
READ_SCOPE: Final = "taxii:read"
AMBER_SCOPE: Final = "taxii:amber"
# TLP levels that may leave the instance, and which of them need the partner scope.
SHARED_TLP: Final = frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT})
AMBER_TLP: Final = frozenset({Tlp.AMBER, Tlp.AMBER_STRICT})


class NotAcceptable(BastionError):
    """The ``Accept`` header does not allow the TAXII 2.1 media type."""

    code = "not_acceptable"
    status = 406


class CollectionNotFound(BastionError):
    """No collection with this id, or one the key may not see (a TLP:RED or amber bank)."""

    code = "collection_not_found"
    status = 404


class ObjectNotFound(BastionError):
    """The collection holds no object with this id (or none passing the filters)."""

    code = "object_not_found"
    status = 404


_TITLES: Final[Mapping[int, str]] = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Bad request",
    500: "Internal error",
    503: "Service unavailable",
}


def taxii_response(
    body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type=TAXII_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def taxii_error(error: BastionError) -> Response:
    """A TAXII 2.1 error message for ``error``; its Bastion code goes in ``error_code``."""
    body: dict[str, Any] = {
        "title": _TITLES.get(error.status, "Error"),
        "description": error.detail,
        "error_code": error.code,
        "http_status": str(error.status),
    }
    if error.context:
        body["details"] = error.context
    headers = {"WWW-Authenticate": 'Basic realm="taxii", Bearer'} if error.status == 401 else {}
    return taxii_response(body, error.status, headers)


def accepts_taxii(accept: str | None) -> bool:
    """Whether an ``Accept`` header admits ``application/taxii+json;version=2.1``."""
    if accept is None or not accept.strip():
        return True
    for media_range in accept.split(","):
        kind, *raw_params = (part.strip() for part in media_range.split(";"))
        params = dict(
            (name.strip().lower(), value.strip().strip('"'))
            for name, _, value in (p.partition("=") for p in raw_params)
        )
        if params.get("q", "1").strip() in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind.lower() in ("*/*", "application/*"):
            return True
        if kind.lower() == "application/taxii+json" and params.get("version", "2.1") == "2.1":
            return True
    return False


class TaxiiRoute(APIRoute):
    """Routes whose failures (including authentication and parameter checks) are TAXII errors."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            if not accepts_taxii(request.headers.get("accept")):
                return taxii_error(
                    NotAcceptable(f"this server answers only with {TAXII_MEDIA_TYPE}")
                )
            try:
                return await handler(request)
            except BastionError as error:
                return taxii_error(error)
            except RequestValidationError:
                return taxii_error(InvalidInput("a path or query parameter is invalid"))

        return route


class TaxiiErrorBody(BaseModel):
    """A TAXII 2.1 error message, as every TAXII route reports a failure."""

    title: str
    description: str
    error_code: str
    http_status: str
    details: dict[str, Any] | None = None


def error_responses(descriptions: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for TAXII routes: each status is a TAXII error message. 422 is
    always listed (never sent: parameter errors are 400), so FastAPI adds no validation schema."""
    found: dict[int | str, dict[str, Any]] = {}
    for status, description in {
        **descriptions,
        422: "never sent: parameter errors are 400",
    }.items():
        found[status] = {
            "model": TaxiiErrorBody,
            "content": {TAXII_MEDIA_TYPE: {}},
            "description": description,
        }
    return found
