"""Text, links and metadata of a PDF, with pypdf (pure Python, BSD licence).

pypdf is run inside :func:`pypdf.apply_configuration` with limits far below its defaults: no
stream may inflate past ``TextLimits.max_stream_bytes`` (a FlateDecode stream of a few KB can
claim gigabytes), and the JBIG2 decoder binary is never started. The configuration is a context
variable, so concurrent extractions in other threads keep their own.

Encrypted PDFs are tried with the empty password first: most "encrypted" PDFs only restrict
printing or copying and open without one (AES needs the ``cryptography`` package). Pages are read
in order until the page cap, the character cap or the wall-clock budget is reached; what was read
by then is kept and ``truncated`` says so. A page whose text cannot be extracted is a note, not an
error, because one broken page should not hide the others; a file pypdf cannot open at all is
``media_corrupt``.
"""

from __future__ import annotations

import io
import time
from typing import Any

import pypdf
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError

from bastion.content.documents import (
    DocumentEncrypted,
    DocumentTooLarge,
    ExtractedText,
    TextBuilder,
    TextLimits,
)
from bastion.errors import BastionError, CorruptMedia

# Document information keys: (PDF key, metadata key, also part of the text).
_INFO_KEYS = (
    ("/Title", "title", True),
    ("/Author", "author", True),
    ("/Subject", "subject", True),
    ("/Keywords", "keywords", True),
    ("/Creator", "creator", False),
    ("/Producer", "producer", False),
)


def _configuration(limits: TextLimits) -> dict[str, Any]:
    cap = limits.max_stream_bytes
    return {
        "maximum_declared_stream_length": cap,
        "array_based_stream_maximum_output_length": cap,
        "zlib_maximum_output_length": cap,
        "lzw_maximum_output_length": cap,
        "run_length_maximum_output_length": cap,
        "brotli_maximum_output_length": cap,
        "jbig2_maximum_output_length": cap,
        "image_maximum_buffer_size": cap,
        "stream_decoding_work_maximum_length": 2 * cap,
        "jbig2dec_binary": None,
    }


def _too_large(exc: BaseException, limits: TextLimits) -> DocumentTooLarge:
    return DocumentTooLarge(
        f"the PDF has a stream that expands past the limit of {limits.max_stream_bytes} bytes "
        f"({exc})",
        max_stream_bytes=limits.max_stream_bytes,
    )


def _open(data: bytes, limits: TextLimits, builder: TextBuilder) -> pypdf.PdfReader:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    except (LimitReachedError, MemoryError) as exc:
        raise _too_large(exc, limits) from exc
    except Exception as exc:  # any failure of a parser fed hostile bytes
        raise CorruptMedia(f"the PDF could not be read: {exc}") from exc
    if reader.is_encrypted:
        try:
            unlocked = reader.decrypt("") != pypdf.PasswordType.NOT_DECRYPTED
        except DependencyError as exc:
            raise DocumentEncrypted(
                "the PDF is encrypted with AES, which needs the cryptography package"
            ) from exc
        except Exception as exc:
            raise CorruptMedia(f"the PDF's encryption is broken: {exc}") from exc
        if not unlocked:
            raise DocumentEncrypted("the PDF is encrypted and needs a password to open")
        builder.notes.append("the PDF is encrypted; it opened with the empty password")
        builder.metadata["encrypted"] = "true"
    return reader


def _info(reader: pypdf.PdfReader, builder: TextBuilder) -> None:
    try:
        info = reader.metadata
        catalog: Any = reader.trailer["/Root"].get_object()
        language = catalog.get("/Lang") if isinstance(catalog, dict) else None
        if language is not None:
            builder.metadata["language"] = str(language)[:64]
    except (FileNotDecryptedError, LimitReachedError):
        raise
    except Exception as exc:
        builder.notes.append(f"the document information could not be read: {exc}")
        return
    if not info:
        return
    for key, name, as_text in _INFO_KEYS:
        try:
            value = info.get(key)
            if value is not None:
                builder.meta(name, str(value.get_object()), as_text=as_text)
        except Exception as exc:  # one bad entry (a broken indirect object) is a note
            builder.notes.append(f"metadata {key} could not be read: {exc}")


def _page_links(page: pypdf.PageObject, builder: TextBuilder) -> None:
    annotations = page.get("/Annots")
    if annotations is None:
        return
    for reference in annotations.get_object()[:10_000]:
        annotation: Any = reference.get_object()
        if not isinstance(annotation, dict) or annotation.get("/Subtype") != "/Link":
            continue
        action: Any = annotation.get("/A")
        action = action.get_object() if action is not None else None
        if isinstance(action, dict) and action.get("/S") == "/URI" and action.get("/URI"):
            uri = action["/URI"]
            builder.link(uri.decode("latin-1") if isinstance(uri, bytes) else str(uri))


def extract_pdf(data: bytes, limits: TextLimits) -> ExtractedText:
    """Text, URI links and metadata of a PDF (see the module docstring for the limits)."""
    builder = TextBuilder(limits.max_chars)
    deadline = time.monotonic() + limits.max_seconds
    with pypdf.apply_configuration(**_configuration(limits)):
        reader = _open(data, limits, builder)
        try:
            count = len(reader.pages)
        except (LimitReachedError, MemoryError) as exc:
            raise _too_large(exc, limits) from exc
        except Exception as exc:
            raise CorruptMedia(f"the PDF's page tree could not be read: {exc}") from exc
        builder.metadata["pages"] = str(count)
        _info(reader, builder)
        for index in range(count):
            if builder.truncated:
                break
            if index >= limits.max_pages:
                builder.truncated = True
                builder.notes.append(f"only the first {limits.max_pages} of {count} pages read")
                break
            if time.monotonic() > deadline:
                builder.truncated = True
                builder.notes.append(
                    f"stopped after {index} of {count} pages: the {limits.max_seconds:g} s "
                    "time budget ran out"
                )
                break
            _read_page(reader, index, limits, builder)
    return builder.result()


def _read_page(reader: pypdf.PdfReader, index: int, limits: TextLimits, b: TextBuilder) -> None:
    try:
        page = reader.pages[index]
        text = page.extract_text()
    except (LimitReachedError, MemoryError) as exc:
        raise _too_large(exc, limits) from exc
    except BastionError:
        raise
    except Exception as exc:
        b.notes.append(f"page {index + 1}: the text could not be extracted ({exc})")
        return
    b.add(f"page {index + 1}", text)
    try:
        _page_links(page, b)
    except Exception as exc:
        b.notes.append(f"page {index + 1}: the links could not be read ({exc})")
