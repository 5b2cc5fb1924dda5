"""Uploads as HMA clients send them: a multipart part named after the content type.

HMA names the file part ``photo`` or ``video`` (its content type names) rather than ``file``;
Bastion's ``file`` part and raw ``image/*``/``video/*``/``audio/*`` bodies are accepted too. The
body is parsed in memory by :mod:`bastion.api.body`'s streaming parser, under the same size cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from python_multipart.multipart import parse_options_header
from starlette.requests import Request

from bastion.api.body import Form, FormCollector, parse_form
from bastion.api.errors import InvalidMultipart
from bastion.api.hma.names import CONTENT_TYPES
from bastion.api.inputs import MediaInput, media_type, read_media
from bastion.signals.base import ContentKind


@dataclass
class Upload:
    media: MediaInput
    kind: ContentKind | None  # the content type the part was named after, if any


class _HmaFormCollector(FormCollector):
    """Takes a part named ``photo`` or ``video`` as the file part, remembering the name."""

    def __init__(self, allowed_fields: frozenset[str]) -> None:
        super().__init__(allowed_fields)
        self.kind: ContentKind | None = None

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if disposition != b"form-data" or name not in CONTENT_TYPES:
            super().on_headers_finished()
            return
        if self.kind is not None or self.form.file is not None:
            raise InvalidMultipart("Only one file allowed per request")
        self.kind = CONTENT_TYPES[name]
        raw_filename = options.get(b"filename")
        self._name = "file"  # from here on the base class treats the part as the upload
        self._filename = raw_filename.decode("utf-8", "replace") if raw_filename else None


async def _read_hma_form(
    request: Request, limit: int, fields: frozenset[str]
) -> tuple[Form, ContentKind | None]:
    collector = _HmaFormCollector(fields)
    await parse_form(request, limit, collector)
    return collector.form, collector.kind


async def read_upload(request: Request, limit: int, fields: frozenset[str] = frozenset()) -> Upload:
    """The uploaded file: a ``photo``/``video``/``file`` form part, or a raw media body."""
    if media_type(request) != "multipart/form-data":
        return Upload(await read_media(request, limit, name=None, external_id=None), None)
    form, kind = await _read_hma_form(request, limit, fields)
    if form.file is None:
        raise InvalidMultipart(
            "Missing multipart/form-data file upload: send one part named photo, video or file"
        )
    media = MediaInput(
        data=form.file.data,
        name=form.file.filename,
        declared_type=form.file.content_type,
        fields=form.fields,
    )
    return Upload(media, kind)
