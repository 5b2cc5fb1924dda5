"""OpenAPI fragments shared by the HMA routes: their error responses and upload bodies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from bastion.api.schemas import ErrorDetail


class HmaError(BaseModel):
    """HMA's ``message`` and Bastion's ``error`` together."""

    message: str
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": HmaError,
        "description": "bad input: malformed hash, unknown signal type, bad media or URL",
    },
    401: {"model": HmaError, "description": "unauthorized: missing or bad API key"},
    403: {"model": HmaError, "description": "forbidden (key lacks the scope), or bank exists"},
    404: {"model": HmaError, "description": "no such bank or bank content"},
    422: {"model": HmaError, "description": "validation_error: a parameter or body field"},
}


def upload_body(fields: dict[str, str] | None = None) -> dict[str, Any]:
    """A multipart body with one file part named ``photo``, ``video`` or ``file``."""
    properties: dict[str, Any] = {
        name: {"type": "string", "format": "binary", "description": f"The {name}."}
        for name in ("photo", "video", "file")
    }
    properties.update(
        {name: {"type": "string", "description": text} for name, text in (fields or {}).items()}
    )
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": {"type": "object", "properties": properties}},
                "image/*": binary,
                "video/*": binary,
                "audio/*": binary,
            },
        }
    }
