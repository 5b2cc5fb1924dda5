"""Text, hyperlinks and core properties of a Word (DOCX) document: stdlib ``zipfile`` plus
``defusedxml``.

Zip bombs are refused before anything is inflated: every member's declared size and compression
ratio is checked against :class:`TextLimits` from the central directory alone, and members are
then read with a byte cap anyway, because a declared size can lie. XML is parsed by defusedxml
with DTDs forbidden: Word never writes one, and a DTD is how billion-laughs entity bombs and
external-entity reads get in, so any DTD is ``document_unsafe``. Parsing streams (``iterparse``)
and keeps no tree, so a huge paragraph count costs time, not memory.

Text comes from the main document, then headers, footers, footnotes, endnotes and comments, one
part per paragraph. Deleted tracked-change text (``w:delText``) and field codes are skipped: they
are not what a reader sees.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from bastion.content.documents import (
    DocumentTooLarge,
    DocumentUnsafe,
    ExtractedText,
    TextBuilder,
    TextLimits,
)
from bastion.errors import CorruptMedia

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_HYPERLINK_TYPE = "/hyperlink"
_OFFICE_DOCUMENT_TYPE = "/officeDocument"
# Ratios only mean something for members big enough to hurt; tiny XML compresses very well.
_RATIO_FLOOR_BYTES = 1_000_000
_MAX_MEMBERS = 10_000
_SECONDARY = (
    (re.compile(r"word/header(\d*)\.xml"), "header"),
    (re.compile(r"word/footer(\d*)\.xml"), "footer"),
    (re.compile(r"word/footnotes\.xml"), "footnotes"),
    (re.compile(r"word/endnotes\.xml"), "endnotes"),
    (re.compile(r"word/comments\.xml"), "comments"),
)
# docProps/core.xml element (local name) -> (metadata key, also part of the text).
_CORE = {
    "title": ("title", True),
    "subject": ("subject", True),
    "creator": ("author", True),
    "keywords": ("keywords", True),
    "description": ("description", True),
    "lastModifiedBy": ("last_modified_by", False),
    "language": ("language", False),
    "created": ("created", False),
}


class _Package:
    """The ZIP, with every read checked against the limits."""

    def __init__(self, data: bytes, limits: TextLimits) -> None:
        self.limits = limits
        self.read_total = 0
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            members = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
            raise CorruptMedia(f"the DOCX is not a readable ZIP file: {exc}") from exc
        if len(members) > _MAX_MEMBERS:
            raise DocumentTooLarge(f"the DOCX has {len(members)} parts; Word writes dozens")
        for info in members:
            self._check(info)
        self.members = {info.filename: info for info in members}

    def _check(self, info: zipfile.ZipInfo) -> None:
        size, packed = info.file_size, max(info.compress_size, 1)
        if size > self.limits.max_uncompressed_bytes:
            raise DocumentTooLarge(
                f"the DOCX part {info.filename[:200]!r} declares {size} bytes, more than the "
                f"limit of {self.limits.max_uncompressed_bytes}",
                max_uncompressed_bytes=self.limits.max_uncompressed_bytes,
            )
        if size > _RATIO_FLOOR_BYTES and size / packed > self.limits.max_zip_ratio:
            raise DocumentTooLarge(
                f"the DOCX part {info.filename[:200]!r} inflates {size / packed:.0f} times "
                f"(limit {self.limits.max_zip_ratio:g}): a zip bomb",
                max_zip_ratio=self.limits.max_zip_ratio,
            )

    def read(self, name: str) -> bytes | None:
        info = self.members.get(name)
        if info is None:
            return None
        room = self.limits.max_uncompressed_bytes - self.read_total
        try:
            with self.zip.open(info) as member:
                # One byte more than allowed tells a lying declared size from an exact fit.
                content = member.read(max(room, 0) + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, OSError) as exc:
            # RuntimeError: a password-protected member; NotImplementedError: an odd method.
            raise CorruptMedia(f"the DOCX part {name[:200]!r} could not be read: {exc}") from exc
        except EOFError as exc:
            raise CorruptMedia(f"the DOCX part {name[:200]!r} is cut off") from exc
        if len(content) > room:
            raise DocumentTooLarge(
                f"the DOCX's text parts inflate past the limit of "
                f"{self.limits.max_uncompressed_bytes} bytes",
                max_uncompressed_bytes=self.limits.max_uncompressed_bytes,
            )
        self.read_total += len(content)
        return content


def _events(content: bytes, name: str) -> Iterator[tuple[str, Element]]:
    try:
        yield from iterparse(
            io.BytesIO(content),
            events=("start", "end"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
    except DefusedXmlException as exc:
        raise DocumentUnsafe(
            f"the DOCX part {name[:200]!r} has a DTD or entity declarations, which Word never "
            "writes (an entity bomb or an external-file read)"
        ) from exc
    except ParseError as exc:
        raise CorruptMedia(f"the DOCX part {name[:200]!r} is not well-formed XML: {exc}") from exc


def _paragraphs(content: bytes, name: str) -> Iterator[str]:
    """Each paragraph's text; nested paragraphs (text boxes) come out on their own."""
    stack: list[list[str]] = []
    for event, element in _events(content, name):
        tag = element.tag
        if event == "start":
            if tag == f"{_W}p":
                stack.append([])
            continue
        if tag == f"{_W}p":
            if stack:
                yield "".join(stack.pop())
        elif stack:
            if tag == f"{_W}t":
                stack[-1].append(element.text or "")
            elif tag == f"{_W}tab":
                stack[-1].append("\t")
            elif tag in {f"{_W}br", f"{_W}cr"}:
                stack[-1].append("\n")
            elif tag == f"{_W}noBreakHyphen":
                stack[-1].append("\u2011")
        # Drop finished elements so memory stays flat however long the part is.
        if tag in {f"{_W}r", f"{_W}p", f"{_W}tbl", f"{_W}hyperlink"}:
            element.clear()


def _relationships(package: _Package, part: str) -> list[tuple[str, str, str]]:
    """(type, target, mode) of each relationship of ``part`` (``word/document.xml``...)."""
    folder, _, base = part.rpartition("/")
    rels_name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
    content = package.read(rels_name)
    if content is None:
        return []
    found = []
    for event, element in _events(content, rels_name):
        if event == "end" and element.tag == f"{_REL}Relationship":
            found.append(
                (
                    element.get("Type", ""),
                    element.get("Target", ""),
                    element.get("TargetMode", ""),
                )
            )
    return found


def _main_part(package: _Package) -> str:
    for rel_type, target, _ in _relationships(package, ""):
        if rel_type.endswith(_OFFICE_DOCUMENT_TYPE):
            name = target.lstrip("/")
            if name in package.members:
                return name
    if "word/document.xml" in package.members:
        return "word/document.xml"
    raise CorruptMedia("the DOCX has no main document part (word/document.xml)")


def _core_properties(package: _Package, builder: TextBuilder) -> None:
    content = package.read("docProps/core.xml")
    if content is None:
        return
    for event, element in _events(content, "docProps/core.xml"):
        if event != "end" or not isinstance(element.tag, str):
            continue
        local = element.tag.rpartition("}")[2]
        if local in _CORE and element.text:
            key, as_text = _CORE[local]
            builder.meta(key, element.text, as_text=as_text)
    app = package.read("docProps/app.xml")
    if app is not None:
        for event, element in _events(app, "docProps/app.xml"):
            if event == "end" and str(element.tag).endswith("}Application") and element.text:
                builder.meta("creator", element.text, as_text=False)


def _secondary_parts(package: _Package) -> list[tuple[str, str]]:
    found = []
    for name in sorted(package.members):
        for pattern, label in _SECONDARY:
            match = pattern.fullmatch(name)
            if match:
                number = match.group(1) if match.groups() else ""
                found.append((name, f"{label} {number}".strip()))
    return found


def _read_part(package: _Package, name: str, label: str | None, builder: TextBuilder) -> None:
    content = package.read(name)
    if content is None:
        return
    number = 0
    for text in _paragraphs(content, name):
        if not text.strip():
            continue
        number += 1
        where = f"paragraph {number}" if label is None else f"{label} paragraph {number}"
        if not builder.add(where, text):
            return
    for rel_type, target, mode in _relationships(package, name):
        if rel_type.endswith(_HYPERLINK_TYPE) and mode.lower() == "external":
            builder.link(target)


def extract_docx(data: bytes, limits: TextLimits) -> ExtractedText:
    """Text, hyperlinks and core properties of a DOCX (see the module docstring)."""
    builder = TextBuilder(limits.max_chars)
    package = _Package(data, limits)
    _core_properties(package, builder)
    _read_part(package, _main_part(package), None, builder)
    for name, label in _secondary_parts(package):
        if builder.truncated:
            break
        _read_part(package, name, label, builder)
    return builder.result()
