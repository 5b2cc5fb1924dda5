"""Find one section of an XML list file by byte search, and parse only that section, in batches.

Why: OFAC's advanced XML keeps ~95 % of its bytes in one element (``DistinctParties``) while the
lookup tables a reader needs first sit around it. Parsing the file twice (once for the tables,
once for the parties) costs twice the parsing; and the streamed pull parser pays a Python-level
event for each of the millions of elements. With the section located by a byte search:

* the lookup pass is fed the file with the section's *content* cut out (its start and end tags
  kept, so the parser checks that they really are element markup at that place: a tag that
  sat inside an attribute value would leave the cut document malformed);
* the section pass parses batches of whole records (a few hundred KiB each) with the
  C ``XMLParser`` and no events at all, each batch wrapped in the file's own prolog and root
  start tag (namespace declarations, encoding) and the section's start and end tags.

The search is deliberately strict: the section name must occur exactly twice in the file after
the root start tag (start and end tag; once for ``<Section/>``), with no comment, CDATA or
processing instruction before its start or after its end, in an ASCII-compatible encoding.
Anything else (a name in a comment, UTF-16, a truncated file) returns ``None`` and the caller
falls back to its plain streamed passes, which are exact. Likewise a batch that fails to parse
(an end tag inside a comment, or real damage) raises ``SectionFallback``: the caller re-reads
with the streamed parser, which either reads on or reports the error at its true line/column in
the real file. So every error a user sees is positioned in the file as it is.
"""

from __future__ import annotations

import mmap
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bastion.errors import SanctionsListTooLarge
from bastion.finance.lists.xml_stream import MAX_PROLOG_BYTES, Limits, root_offset

# Bytes of records parsed at once: big enough that the per-batch wrapping is noise, small enough
# that one batch's tree (~10x its bytes) keeps memory flat.
BATCH_BYTES: Final = 256 * 1024
_NAME: Final = rb"[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?"
# A start tag, attribute values quoted (a '>' may sit inside one), possibly self-closing.
_START_TAG: Final = re.compile(
    rb"<(" + _NAME + rb""")(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>"""
)
_TAG_CLOSE: Final = re.compile(rb"\s*>")
_DEFAULT_NS: Final = re.compile(rb"""\sxmlns\s*=\s*(?:"[^"]*"|'[^']*')""")
_PREFIX_DECLARATION: Final = re.compile(rb"\sxmlns:([^\s=]+)\s*=")


class SectionFallback(Exception):
    """The byte-level reading cannot go on; re-read with the streamed parser."""


@dataclass(frozen=True, slots=True)
class Section:
    """Where one element sits in the file (byte offsets)."""

    size: int
    head_end: int  # just after the root start tag: the prolog and the root's attributes
    root_name: bytes
    start: int  # the section's '<'
    content_start: int  # just after its start tag
    content_end: int  # its end tag's '<' (== content_start for a self-closing tag)
    end: int  # just after its end tag
    prefix: bytes  # the section tag's namespace prefix with its colon, b"" for none

    def without_content(self) -> tuple[tuple[int, int], ...]:
        """The file's byte ranges with the section's content cut out, tags kept."""
        return ((0, self.content_start), (self.content_end, self.size))


def find_section(path: Path, local: str) -> Section | None:
    """Locate the single element named ``local`` (any prefix), or None when the search is not
    certain (see the module docstring). Hostile DTDs raise here, before any parsing."""
    with path.open("rb") as file:
        try:
            data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # empty file
            return None
        with data:
            return _locate(data, local.encode("ascii"))


def _locate(data: mmap.mmap, name: bytes) -> Section | None:
    size = len(data)
    head = data[:MAX_PROLOG_BYTES]
    # UTF-16 (BOM, or NULs where expat would guess it): bytes searches would be wrong.
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:4]:
        return None
    at = root_offset(head)
    root = _START_TAG.match(data, at) if at >= 0 else None
    if root is None or root[2]:
        return None
    head_end = root.end()
    first = _find(data, name, head_end)
    if first < 0:
        return None
    second = _find(data, name, first + len(name))
    if second >= 0 and _find(data, name, second + len(name)) >= 0:
        return None  # more than a start and an end tag: a comment, CDATA or another element
    start = data.rfind(b"<", head_end, first)
    tag = _START_TAG.match(data, start) if start >= 0 else None
    if tag is None:
        return None  # the name is not in a start tag
    qualified = tag[1]
    if start + 1 + len(qualified) != first + len(name) or not (
        qualified == name or qualified.endswith(b":" + name)
    ):
        return None  # the name is part of a longer one (<MyDistinctParties>)
    if _markup(data, head_end, start):
        return None
    if tag[2]:  # <Section/>: nothing to cut
        return None if second >= 0 else _section(data, root[1], head_end, start, tag.end())
    content_end = second - (len(tag[1]) - len(name)) - 2
    if second < 0 or data[content_end:second] != b"</" + tag[1][: -len(name)]:
        return None
    close = _TAG_CLOSE.match(data, second + len(name))
    if close is None or _markup(data, close.end(), size):
        return None
    prefix = tag[1][: -len(name)]
    return Section(size, head_end, root[1], start, tag.end(), content_end, close.end(), prefix)


def _section(data: mmap.mmap, root: bytes, head_end: int, start: int, end: int) -> Section:
    return Section(len(data), head_end, root, start, end, end, end, b"")


def _markup(data: mmap.mmap, start: int, end: int) -> bool:
    """Whether a comment, CDATA section, DOCTYPE or processing instruction may start in the
    range: there, a tag name could be text, so the search gives up."""
    return _find(data, b"<!", start, end) >= 0 or _find(data, b"<?", start, end) >= 0


# Searches run window by window and unmap what they passed: a mapped page read once counts in
# the process's resident memory until unmapped, which would make a 100 MB file look like 100 MB
# of RSS (the bytes stay in the page cache; nothing is read twice from disk).
_WINDOW: Final = 8 * 1024 * 1024


def _find(data: mmap.mmap, needle: bytes, start: int, end: int | None = None) -> int:
    """``data.find(needle, start, end)``, releasing the pages searched."""
    end = len(data) if end is None else end
    at = start
    while at < end:
        stop = min(end, at + _WINDOW)
        found = data.find(needle, at, min(end, stop + len(needle) - 1))
        _release(data, at, found if found >= 0 else stop)
        if found >= 0:
            return found
        at = stop
    return -1


def _release(data: mmap.mmap, start: int, end: int) -> None:
    """Unmap (not discard: the file is read-only) the pages of ``data[start:end]``."""
    first = start - start % mmap.PAGESIZE
    if end > first and hasattr(mmap, "MADV_DONTNEED"):
        data.madvise(mmap.MADV_DONTNEED, first, end - first)


def section_records(
    path: Path, section: Section, record: str, limits: Limits
) -> Iterator[ET.Element]:
    """The ``record`` children of the section, namespace-stripped, parsed batch by batch.

    Records are delimited by their end tags (``</record>``, the section's prefix); the span from
    one end to the next is one record, held to ``limits.max_record_bytes``, and its element count
    to ``limits.max_record_elements`` (the same limits, messages and record numbers as the
    streamed reader). Raises ``SectionFallback`` where only the streamed parser can tell."""
    end_tag = b"</" + section.prefix + record.encode("ascii")
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        # The prolog (checked by find_section: no DTD that declares anything) and root start
        # tag, then the section's start tag: each batch parses as the file would.
        wrap_head = data[: section.head_end] + data[section.start : section.content_start]
        plain = _plain_names(data, section, wrap_head)
        if plain:
            # Without the default namespace the parser yields bare tag names: no stripping.
            wrap_head = _DEFAULT_NS.sub(b"", wrap_head)
        wrap_tail = data[section.content_end : section.end] + b"</" + section.root_name + b">"
        number = 0
        position = section.content_start
        while position < section.content_end:
            batch_end = _batch_end(data, end_tag, position, section.content_end, limits, number)
            parser = ET.XMLParser()  # noqa: S314 - the prolog is checked, see find_section
            try:
                parser.feed(wrap_head)
                parser.feed(data[position:batch_end])
                parser.feed(wrap_tail)
                wrapper = parser.close()
            except ET.ParseError:
                raise SectionFallback from None
            _release(data, position, batch_end)
            position = batch_end
            for element in wrapper[0] if len(wrapper) else ():
                tag = element.tag
                if not isinstance(tag, str) or tag.rpartition("}")[2] != record:
                    continue
                number += 1
                elements = len(list(element.iter())) if plain else _strip_and_count(element)
                if elements > limits.max_record_elements:
                    raise SanctionsListTooLarge(
                        f"record {number} has more than {limits.max_record_elements:,} elements",
                        record=number,
                        limit=limits.max_record_elements,
                    )
                yield element


def _plain_names(data: mmap.mmap, section: Section, tags: bytes) -> bool:
    """Whether, once the default namespace declarations of the root and section tags are
    dropped, every element of the section's content parses to a bare name: the content
    declares no namespace itself and uses none of the prefixes declared on those two tags
    (a few byte searches; when unsure, False keeps the namespace and strips it per record)."""
    if section.prefix or _find(data, b"xmlns", section.content_start, section.content_end) >= 0:
        return False
    return all(
        _find(data, b"<" + prefix + b":", section.content_start, section.content_end) < 0
        for prefix in _PREFIX_DECLARATION.findall(tags)
    )


def _batch_end(
    data: mmap.mmap, end_tag: bytes, position: int, limit: int, limits: Limits, done: int
) -> int:
    """Just after the last record end tag at or past ``position + BATCH_BYTES`` (or the
    section's content end), checking each record's span against the byte limit."""
    target = min(position + BATCH_BYTES, limit)
    last = search = position
    while True:
        # Plain find: it stops at the next record end; the batch's pages are released after it.
        found = data.find(end_tag, search, limit)
        close = _TAG_CLOSE.match(data, found + len(end_tag)) if found >= 0 else None
        if found >= 0 and close is None:
            search = found + len(end_tag)  # a longer name (</RecordX>): not an end
            continue
        span_end = close.end() if close is not None else limit
        if span_end - last > limits.max_record_bytes:
            if close is None:
                raise SectionFallback  # not a record: the streamed reader judges it
            raise SanctionsListTooLarge(
                f"record {done + 1} spans more than {limits.max_record_bytes:,} bytes",
                record=done + 1,
                limit=limits.max_record_bytes,
            )
        if close is None:
            return limit
        last = search = span_end
        done += 1
        if last >= target:
            return last


def _strip_and_count(element: ET.Element) -> int:
    """Rewrite tags to local names (as ``strip_namespaces``) and count the elements, in one
    walk: the count enforces the per-record element limit for free."""
    count = 0
    for node in element.iter():
        count += 1
        tag = node.tag
        if isinstance(tag, str) and tag[:1] == "{":
            node.tag = tag.rpartition("}")[2]
    return count
