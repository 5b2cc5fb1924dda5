"""The three ways content reaches /v1/scan, /v1/hash and the media-to-bank route.

* ``multipart/form-data`` with a ``file`` part (and text fields such as ``external_id``; for
  scans also ``caption``, the text posted with the media, and ``ocr``);
* a raw body typed ``image/*``, ``video/*``, ``audio/*`` or ``application/octet-stream``
  (``?name=`` names it);
* ``application/json``: ``{"url": ...}`` to fetch, ``{"signals": [...]}`` already computed, or
  ``{"text": ...}``, a post given as text.

Parsing happens here; everything after (fetching, hashing, matching) is the library's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from bastion.api.body import read_body, read_form
from bastion.api.errors import InvalidJson, InvalidMultipart, validation_failed
from bastion.api.schemas import ScanJsonRequest
from bastion.classify.analysis import normalize_language_hint
from bastion.errors import UnsupportedMedia
from bastion.match.scanner import check_caption, check_post_text

RAW_MEDIA_TYPES = ("image/", "video/", "audio/", "application/octet-stream")
MEDIA_ACCEPTED = "multipart/form-data, image/*, video/*, audio/*, application/octet-stream"
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass
class MediaInput:
    data: bytes
    name: str | None
    declared_type: str | None
    external_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    caption: str | None = None  # text posted with the media, analysed with it
    ocr: bool | None = None  # read text in a photo; None follows BASTION_OCR_IMAGES


@dataclass
class UrlInput:
    url: str
    external_id: str | None


@dataclass
class SignalsInput:
    signals: list[tuple[str, str]]
    external_id: str | None


@dataclass
class TextInput:
    """A post given as text (not a file)."""

    text: str
    external_id: str | None
    language: str | None = None  # the client's hint, already normalised


ScanInput = MediaInput | UrlInput | SignalsInput | TextInput
# Form fields a scan accepts besides the file.
SCAN_FORM_FIELDS = frozenset({"external_id", "caption", "ocr"})
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def parse_json_model(model: type[ModelT], body: bytes) -> ModelT:
    """Validate a JSON body, reporting errors exactly as FastAPI-parsed bodies are reported."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        problems = exc.errors(include_input=False, include_url=False)
        for problem in problems:
            if problem["type"] == "json_invalid":
                reason = (problem.get("ctx") or {}).get("error", "JSON decode error")
                raise InvalidJson(f"request body is not valid JSON: {reason}") from None
        fields: list[dict[str, Any]] = [
            {"loc": ["body", *problem["loc"]], "msg": problem["msg"], "type": problem["type"]}
            for problem in problems
        ]
        raise validation_failed(fields) from None


def _check_external_id(value: str | None) -> str | None:
    if value is not None and len(value) > 255:
        raise validation_failed(
            [{"loc": ["external_id"], "msg": "at most 255 characters", "type": "string_too_long"}]
        )
    return value or None


def parse_ocr(value: str | None) -> bool | None:
    """The ``ocr`` form field: true/false (1/0, yes/no, on/off), or None when not given."""
    if value is None or not value.strip():
        return None
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise validation_failed(
        [{"loc": ["ocr"], "msg": "expected true or false", "type": "bool_parsing"}]
    )


async def read_media(
    request: Request,
    limit: int,
    *,
    name: str | None,
    external_id: str | None,
    form_fields: frozenset[str] = frozenset({"external_id"}),
) -> MediaInput:
    """An uploaded file, from a multipart form or a raw media body; 415 for anything else."""
    kind = media_type(request)
    if kind == "multipart/form-data":
        form = await read_form(request, limit, form_fields)
        if form.file is None:
            raise InvalidMultipart("the form has no 'file' part")
        return MediaInput(
            data=form.file.data,
            name=name or form.file.filename,
            declared_type=form.file.content_type,
            external_id=_check_external_id(form.fields.get("external_id") or external_id),
            fields=form.fields,
            caption=check_caption(form.fields.get("caption")),
            ocr=parse_ocr(form.fields.get("ocr")),
        )
    if kind.startswith(RAW_MEDIA_TYPES):
        return MediaInput(
            data=await read_body(request, limit),
            name=name,
            declared_type=kind,
            external_id=_check_external_id(external_id),
        )
    raise UnsupportedMedia(
        f"request body type {kind or 'missing'!r} is not accepted here; send {MEDIA_ACCEPTED}",
        accepted=MEDIA_ACCEPTED,
    )


async def read_scan_input(
    request: Request, limit: int, *, name: str | None, external_id: str | None
) -> ScanInput:
    """Media, a URL, supplied signals or a post's text, by the body's Content-Type."""
    kind = media_type(request)
    if kind == "application/json" or kind.endswith("+json"):
        body = await read_body(request, limit)
        if not body.strip():
            raise InvalidJson("request body is empty; expected a JSON object")
        parsed = parse_json_model(ScanJsonRequest, body)
        ext = parsed.external_id or external_id
        if parsed.url is not None:
            return UrlInput(url=parsed.url, external_id=_check_external_id(ext))
        if parsed.text is not None:
            return TextInput(
                text=check_post_text(parsed.text),
                external_id=_check_external_id(ext),
                language=normalize_language_hint(parsed.language),
            )
        signals = [(item.type, item.value) for item in parsed.signals or []]
        return SignalsInput(signals=signals, external_id=_check_external_id(ext))
    try:
        return await read_media(
            request, limit, name=name, external_id=external_id, form_fields=SCAN_FORM_FIELDS
        )
    except UnsupportedMedia as exc:
        raise UnsupportedMedia(
            f"{exc.detail}, or application/json", accepted=f"{MEDIA_ACCEPTED}, application/json"
        ) from None
