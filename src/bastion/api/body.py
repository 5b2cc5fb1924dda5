"""Bounded request bodies, read in memory and never spooled to disk.

Media sent to Bastion may be illegal to store, so no byte of an upload may reach a temporary file:
Starlette's ``UploadFile`` spools anything above 1 MB to disk, which is why multipart bodies are
parsed here with python-multipart's streaming parser, keeping only the parts we asked for.

Every body is capped at ``max_upload_bytes`` twice over: :class:`BodyLimitMiddleware` refuses a
``Content-Length`` above the cap before the application runs and counts chunked bodies as they
stream (covering the JSON bodies FastAPI reads itself), and :func:`iter_body` counts again for the
routes that read their own body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.api.errors import InvalidMultipart, error_response
from bastion.errors import UploadTooLarge

MAX_FORM_FIELD_BYTES = 64 * 1024  # external_id, labels, note: short text, never media
MAX_FORM_PARTS = 16


def too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"request body is larger than the limit of {limit} bytes (BASTION_MAX_UPLOAD_MB)",
        max_bytes=limit,
    )


def declared_length(headers: Any) -> int | None:
    raw = headers.get("content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


class BodyLimitMiddleware:
    """Answer 413 ``upload_too_large`` for any request body above ``limit`` bytes.

    When a streamed body overflows, whatever the application was about to send (FastAPI turns
    errors raised while it reads a body into a generic 400) is replaced by the 413.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = declared_length(headers)
        if length is not None and length > self.limit:
            await error_response(too_large(self.limit))(scope, receive, send)
            return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    raise too_large(self.limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await error_response(too_large(self.limit))(scope, receive, send)


async def iter_body(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body's chunks, raising UploadTooLarge as soon as more than ``limit`` bytes arrive."""
    length = declared_length(request.headers)
    if length is not None and length > limit:
        raise too_large(limit)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
        if chunk:
            yield chunk


async def read_body(request: Request, limit: int) -> bytes:
    buffer = bytearray()
    async for chunk in iter_body(request, limit):
        buffer += chunk
    return bytes(buffer)


@dataclass
class FilePart:
    data: bytes
    filename: str | None
    content_type: str | None


@dataclass
class Form:
    file: FilePart | None = None
    fields: dict[str, str] = field(default_factory=dict)


class FormCollector:
    """Callbacks for MultipartParser that keep the ``file`` part and the allowed text fields."""

    def __init__(self, allowed_fields: frozenset[str]) -> None:
        self.allowed = allowed_fields
        self.form = Form()
        self.finished = False
        self._parts = 0
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, str] = {}
        self._name = ""
        self._filename: str | None = None
        self._data = bytearray()

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_FORM_PARTS:
            raise InvalidMultipart(f"form has more than {MAX_FORM_PARTS} parts")
        self._headers = {}
        self._data = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self._header_field.decode("latin-1").strip().lower()
        self._headers[name] = self._header_value.decode("latin-1").strip()
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition"))
        if disposition != b"form-data" or b"name" not in options:
            raise InvalidMultipart("a form part lacks 'Content-Disposition: form-data; name=...'")
        self._name = options[b"name"].decode("utf-8", "replace")
        raw_filename = options.get(b"filename")
        self._filename = raw_filename.decode("utf-8", "replace") if raw_filename else None
        if self._name != "file" and self._name not in self.allowed:
            accepted = ", ".join(["file", *sorted(self.allowed)])
            raise InvalidMultipart(f"unexpected form part {self._name!r}; accepted: {accepted}")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._data += data[start:end]
        if self._name != "file" and len(self._data) > MAX_FORM_FIELD_BYTES:
            raise InvalidMultipart(f"form field {self._name!r} is too long")

    def on_part_end(self) -> None:
        if self._name == "file":
            if self.form.file is not None:
                raise InvalidMultipart("send one 'file' part per request")
            self.form.file = FilePart(
                data=bytes(self._data),
                filename=self._filename,
                content_type=self._headers.get("content-type"),
            )
        else:
            try:
                self.form.fields[self._name] = self._data.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidMultipart(f"form field {self._name!r} is not UTF-8") from None
        self._data = bytearray()

    def on_end(self) -> None:
        self.finished = True


async def read_form(request: Request, limit: int, allowed_fields: frozenset[str]) -> Form:
    """Parse a multipart/form-data body in memory: one ``file`` part plus ``allowed_fields``."""
    collector = FormCollector(allowed_fields)
    await parse_form(request, limit, collector)
    return collector.form


async def parse_form(request: Request, limit: int, collector: FormCollector) -> None:
    """Feed a multipart/form-data body, read in memory under ``limit``, to ``collector``."""
    _, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidMultipart("multipart/form-data needs a boundary parameter")
    try:
        parser = MultipartParser(boundary, collector.callbacks())
        async for chunk in iter_body(request, limit):
            parser.write(chunk)
        parser.finalize()
    except (MultipartParseError, FormParserError) as exc:
        raise InvalidMultipart(f"multipart body does not parse: {exc}") from None
    if not collector.finished:
        raise InvalidMultipart("multipart body ended before its closing boundary")
