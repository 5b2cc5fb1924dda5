"""OpenAPI descriptions of the bodies that routes read themselves (uploads, imports).

Those routes take the raw request so that nothing is spooled to disk and the size cap holds, which
means FastAPI cannot infer their bodies; these fragments document them instead.
"""

from __future__ import annotations

from typing import Any

_BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}


def _form(fields: dict[str, str]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "A photo, video, audio file, document (text, HTML, PDF, DOCX)...",
        }
    }
    properties.update(
        {name: {"type": "string", "description": text} for name, text in fields.items()}
    )
    return {"schema": {"type": "object", "properties": properties, "required": ["file"]}}


def media_body(fields: dict[str, str], *, json_schema: str | None = None) -> dict[str, Any]:
    """A requestBody accepting a multipart form, raw media and optionally a JSON model."""
    content: dict[str, Any] = {
        "multipart/form-data": _form(fields),
        "image/*": _BINARY,
        "video/*": _BINARY,
        "audio/*": _BINARY,
        "application/octet-stream": _BINARY,
    }
    if json_schema:
        content["application/json"] = {"schema": {"$ref": f"#/components/schemas/{json_schema}"}}
    return {"requestBody": {"required": True, "content": content}}


def import_body() -> dict[str, Any]:
    text = {"schema": {"type": "string"}}
    return {
        "requestBody": {
            "required": True,
            "description": "Columns signal_type, value, labels, note (CSV header row required).",
            "content": {
                "text/csv": text,
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "application/x-ndjson": text,
                "multipart/form-data": _form({}),
            },
        }
    }
