"""Text documents: recognising them (:func:`sniff_document`) and getting their text out
(:func:`extract_text`) for TVEC text detection.

Four formats: plain text, HTML, PDF and DOCX. Every extractor returns the same
:class:`ExtractedText`: one string with the parts (pages, paragraphs, title, metadata fields)
joined by newlines, where each part sits in that string, the links the document carries (raw: the
URL stage canonicalises them), its metadata, and whether anything was cut off. Text is NFC
normalised only; folding for matching belongs to the matching stage.

Documents are hostile input. Every limit is in :class:`TextLimits`; breaking one either cuts the
text (``truncated`` plus a note: too many characters, pages or seconds, because partial text is
still worth scanning) or is an error with a stable code (an expansion bomb, an encrypted file).
Format modules are imported on first use so sniffing never loads pypdf.
"""

from __future__ import annotations

import struct
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePath

from bastion.content.text_decode import (
    bom_encoding,
    control_ratio,
    decode_text,
    guess_legacy_encoding,
    implausibility,
    is_strict_utf8,
    normalise_charset,
)
from bastion.errors import BastionError, EmptyMedia, UnsupportedMedia

DOCUMENT_FORMATS = ("text", "html", "pdf", "docx")
# How much of a file sniffing decodes to judge whether it is text.
_SNIFF_TEXT_BYTES = 64 * 1024
# Links longer than this are junk or an attack on whoever displays them.
MAX_LINK_CHARS = 8192
MAX_LINKS = 10_000
# A metadata value is a title or an author, not a book.
MAX_METADATA_CHARS = 10_000


class DocumentTooLarge(BastionError):
    """A document that expands past a limit: a zip bomb, a huge stream, too many bytes."""

    code = "document_too_large"
    status = 422


class DocumentEncrypted(BastionError):
    """A document that cannot be read without a password."""

    code = "document_encrypted"
    status = 422


class DocumentUnsafe(BastionError):
    """A document with constructs no genuine one has (an XML DTD: entity bombs, external files)."""

    code = "document_unsafe"
    status = 422


@dataclass(frozen=True, slots=True)
class TextLimits:
    """Resource limits for text extraction, so a hostile document cannot exhaust memory or time."""

    max_input_bytes: int = 50_000_000
    max_chars: int = 2_000_000
    max_pages: int = 2000
    # DOCX: a member inflating more than this many times its compressed size is a zip bomb
    # (ordinary Word XML compresses 5-20x), as is one whose text parts add up past the cap.
    max_zip_ratio: float = 100.0
    max_uncompressed_bytes: int = 200_000_000
    # PDF: a wall-clock budget checked between pages; what was read by then is kept.
    max_seconds: float = 60.0
    # PDF: no single stream may decompress to more than this.
    max_stream_bytes: int = 50_000_000


DEFAULT_LIMITS = TextLimits()


@dataclass(frozen=True, slots=True)
class TextPart:
    """Where a piece of the text came from (``"page 3"``, ``"title"``) and its span in it."""

    where: str
    start: int
    length: int


@dataclass(slots=True)
class ExtractedText:
    text: str
    parts: list[TextPart] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    truncated: bool = False
    notes: list[str] = field(default_factory=list)


class TextBuilder:
    """Collects parts into one text under a character cap; extractors share it."""

    def __init__(self, max_chars: int) -> None:
        self._max_chars = max_chars
        self._chunks: list[str] = []
        self._parts: list[TextPart] = []
        self._size = 0
        self._links: list[str] = []
        self._seen_links: set[str] = set()
        self._links_dropped = False
        self.metadata: dict[str, str] = {}
        self.notes: list[str] = []
        self.truncated = False

    def add(self, where: str, text: str) -> bool:
        """Append a part (blank ones are skipped); False once the character cap is reached."""
        if self.truncated:
            return False
        text = unicodedata.normalize("NFC", text).strip()
        if not text:
            return True
        start = self._size + (1 if self._chunks else 0)
        room = self._max_chars - start
        if room <= 0:
            self._cut()
            return False
        if len(text) > room:
            text = text[:room]
            self._cut()
        if self._chunks:
            self._chunks.append("\n")
        self._chunks.append(text)
        self._parts.append(TextPart(where=where, start=start, length=len(text)))
        self._size = start + len(text)
        return not self.truncated

    def _cut(self) -> None:
        self.truncated = True
        self.notes.append(f"text cut at {self._max_chars} characters")

    def link(self, url: str) -> None:
        """Record a link once, in document order (raw; the URL stage canonicalises)."""
        url = url.strip()
        if not url or url in self._seen_links:
            return
        if len(self._links) >= MAX_LINKS:
            if not self._links_dropped:
                self._links_dropped = True
                self.notes.append(f"only the first {MAX_LINKS} links were kept")
            return
        self._seen_links.add(url)
        self._links.append(url[:MAX_LINK_CHARS])

    def meta(self, key: str, value: str, *, as_text: bool = True) -> None:
        """Record a metadata value; with ``as_text`` it is also a part of the text."""
        value = unicodedata.normalize("NFC", value).strip()[:MAX_METADATA_CHARS]
        if not value or key in self.metadata:
            return
        self.metadata[key] = value
        if as_text:
            self.add("title" if key == "title" else f"metadata:{key}", value)

    def result(self) -> ExtractedText:
        return ExtractedText(
            text="".join(self._chunks),
            parts=self._parts,
            links=self._links,
            metadata=self.metadata,
            truncated=self.truncated,
            notes=self.notes,
        )


# --- sniffing -----------------------------------------------------------------------------------

_TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".csv", ".tsv", ".text", ".log", ".srt"})
_HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".shtml"})
_PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HTML_MARKERS = ("<!doctype html", "<html", "<head", "<body")
_EOCD = b"PK\x05\x06"
_CENTRAL_ENTRY = b"PK\x01\x02"
# Entries looked at in a ZIP's central directory: a DOCX has a few dozen.
_MAX_ZIP_ENTRIES_SNIFFED = 5000


def _media_type(declared_type: str | None) -> tuple[str, str | None]:
    """(lower-case media type, charset parameter) of a Content-Type value."""
    if not declared_type:
        return "", None
    kind, _, params = declared_type.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return kind.strip().lower(), charset


def _suffix(filename: str | None) -> str:
    return PurePath(filename).suffix.lower() if filename else ""


def zip_member_names(data: bytes, limit: int = _MAX_ZIP_ENTRIES_SNIFFED) -> list[str] | None:
    """The names in a ZIP's central directory (at most ``limit``), or None if there is none.

    Reads only the end record and the directory, never a member, so it is cheap on any input.
    """
    # The end-of-central-directory record is in the last 22 + 65535 (comment) bytes.
    tail_start = max(0, len(data) - 22 - 65535)
    at = data.rfind(_EOCD, tail_start)
    if at < 0 or at + 22 > len(data):
        return None
    entries, size, offset = struct.unpack_from("<HII", data, at + 10)
    if offset + size > at:
        return None  # a ZIP64 or damaged directory; not worth sniffing further
    names: list[str] = []
    position = offset
    for _ in range(min(entries, limit)):
        if data[position : position + 4] != _CENTRAL_ENTRY or position + 46 > len(data):
            return names or None
        flags = struct.unpack_from("<H", data, position + 8)[0]
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, position + 28)
        raw = data[position + 46 : position + 46 + name_len]
        names.append(raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace"))
        position += 46 + name_len + extra_len + comment_len
    return names


def _is_docx(data: bytes) -> bool:
    names = zip_member_names(data)
    if not names:
        return False
    found = set(names)
    if "word/document.xml" in found:
        return True
    # Some writers name the main part differently; [Content_Types].xml plus a word/ folder
    # is still a WordprocessingML package.
    return "[Content_Types].xml" in found and any(
        name.startswith("word/") and name.endswith(".xml") for name in names
    )


def _head_text(data: bytes, charset: str | None) -> tuple[str, bool]:
    """The decoded start of the data and whether its decoding is trustworthy."""
    head = data[:_SNIFF_TEXT_BYTES]
    final = len(data) <= _SNIFF_TEXT_BYTES
    bom = bom_encoding(head)
    if bom is not None:
        return head[bom[1] :].decode(bom[0], errors="replace"), True
    if is_strict_utf8(head, final=final):
        # A character cut by the sniff window is not an error.
        return head.decode("utf-8", errors="ignore" if not final else "replace"), True
    declared = normalise_charset(charset)
    if declared is not None:
        return head.decode(declared, errors="replace"), True
    return head.decode(guess_legacy_encoding(head), errors="replace"), False


def _looks_like_text(data: bytes, charset: str | None, hinted: bool) -> bool:
    text, trusted = _head_text(data, charset)
    if not text or "\x00" in text:
        return False  # NULs: binary, or UTF-16 without a BOM (rare, and not worth the risk)
    ratio = control_ratio(text)
    # Bytes that are not UTF-8 could be anything; a legacy code page is believed only when the
    # result reads like words.
    if not trusted and implausibility(text[:20_000]) > (1.0 if hinted else 0.3):
        return False
    return ratio <= (0.05 if hinted else 0.01)


def sniff_document(data: bytes, filename: str | None, declared_type: str | None) -> str | None:
    """``"pdf"``, ``"docx"``, ``"html"``, ``"text"`` or None, judged from the bytes first.

    The name and declared type are hints: they let a PDF header a little way in, a text file
    with a few odd bytes, or a page without ``<html>`` markers through, but never make binary
    bytes into text.
    """
    if not data:
        return None
    media_type, charset = _media_type(declared_type)
    suffix = _suffix(filename)
    if data.startswith(b"%PDF-"):
        return "pdf"
    if (media_type in _PDF_TYPES or suffix == ".pdf") and b"%PDF-" in data[:1024]:
        return "pdf"  # the PDF spec lets readers accept junk before the header
    if data.startswith(b"PK\x03\x04") or data.startswith(_EOCD):
        if _is_docx(data):
            return "docx"
        return None
    text_hint = media_type.startswith("text/") or suffix in _TEXT_SUFFIXES
    html_hint = media_type in _HTML_TYPES or suffix in _HTML_SUFFIXES
    if not _looks_like_text(data, charset, hinted=text_hint or html_hint):
        return None
    head, _ = _head_text(data[:4096], charset)
    start = head[:1024].lstrip().lower()
    if html_hint or any(marker in start for marker in _HTML_MARKERS):
        return "html"
    return "text"


# --- extraction ---------------------------------------------------------------------------------


def extract_text(
    data: bytes, fmt: str, limits: TextLimits = DEFAULT_LIMITS, *, charset: str | None = None
) -> ExtractedText:
    """The text, links and metadata of a document of format ``fmt`` (from :func:`sniff_document`).

    ``charset`` is a declared charset (an HTTP ``Content-Type`` parameter) for text and HTML.
    Raises ``media_empty``, ``media_unsupported`` (an unknown ``fmt``), ``media_corrupt``,
    ``document_too_large``, ``document_encrypted`` or ``document_unsafe``.
    """
    if not data:
        raise EmptyMedia("the document has no bytes")
    if len(data) > limits.max_input_bytes:
        raise DocumentTooLarge(
            f"the document is {len(data)} bytes, more than the limit of {limits.max_input_bytes}",
            max_bytes=limits.max_input_bytes,
        )
    if fmt == "text":
        return _extract_plain(data, limits, charset)
    if fmt == "html":
        from bastion.content.html_text import extract_html

        return extract_html(data, limits, charset=charset)
    if fmt == "pdf":
        from bastion.content.pdf import extract_pdf

        return extract_pdf(data, limits)
    if fmt == "docx":
        from bastion.content.docx import extract_docx

        return extract_docx(data, limits)
    raise UnsupportedMedia(f"no text extraction for format {fmt!r}", formats=DOCUMENT_FORMATS)


def _extract_plain(data: bytes, limits: TextLimits, charset: str | None) -> ExtractedText:
    decoded = decode_text(data, charset, max_chars=limits.max_chars)
    builder = TextBuilder(limits.max_chars)
    builder.metadata["encoding"] = decoded.encoding
    builder.notes.extend(decoded.notes)
    # Paragraphs (blank-line separated) are the parts, so a match can be pointed at.
    number = 0
    text = decoded.text.replace("\r\n", "\n").replace("\r", "\n")
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        number += 1
        if not builder.add(f"paragraph {number}", block):
            break
    result = builder.result()
    result.truncated = result.truncated or decoded.truncated
    return result
