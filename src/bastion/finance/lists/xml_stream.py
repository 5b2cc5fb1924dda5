"""Safe, streamed reading of the XML sanctions lists, and the small text helpers every reader uses.

Official list files are large (OFAC's advanced XML is ~100 MB) and arrive from outside, so they
are treated as hostile: the file is fed in chunks to the C-accelerated ``XMLPullParser`` and
each *record* element (an OFAC ``DistinctParty``, a UN ``INDIVIDUAL``...) is yielded once
complete, then detached from the tree, so memory stays flat whatever the file's size.

Why not ``defusedxml.ElementTree.iterparse``: it swaps in the pure-Python expat glue, several
times slower on a 100 MB file. Instead the document prolog (the only place a DTD may appear) is
checked before anything reaches expat: a ``<!DOCTYPE`` with an internal subset (entity
declarations, the billion-laughs attack) or an external identifier (``SYSTEM``/``PUBLIC``, the
XXE vector) is refused outright, so no entity is ever declared, expanded or fetched. Without a
DTD, expat rejects any entity reference other than the five predefined ones.

Limits: the whole file (``max_bytes``), one record (bytes of input spanned and child elements),
and any run of input that produces no parser event at all (a giant text node or attribute
outside a record), so a single element can never make the parser buffer gigabytes.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO, Final, Protocol, cast

from bastion.errors import SanctionsListInvalid, SanctionsListTooLarge

CHUNK_BYTES: Final = 256 * 1024
DEFAULT_MAX_BYTES: Final = 2 * 1024**3
DEFAULT_MAX_RECORD_BYTES: Final = 5 * 1024**2
DEFAULT_MAX_RECORD_ELEMENTS: Final = 10_000
# A prolog (XML declaration, comments, DOCTYPE) longer than this is not a list file.
MAX_PROLOG_BYTES: Final = 1024**2

# Encodings a list file may declare. Each is ASCII-compatible (or UTF-16, detected by its BOM),
# which is what lets the prolog check below see every ``<!DOCTYPE`` expat would see.
_ACCEPTED_ENCODING = re.compile(
    r"(utf-?8|us-ascii|ascii|iso-?8859-\d{1,2}|latin-?1|l1|(windows|cp)-?125\d|utf-?16(le|be)?)",
    re.IGNORECASE,
)
_XML_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")


@dataclass(frozen=True, slots=True)
class Limits:
    """How much of a file, and of one record in it, a reader accepts."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    max_record_elements: int = DEFAULT_MAX_RECORD_ELEMENTS


# --- text helpers shared by the readers --------------------------------------------------------


def local_name(tag: str) -> str:
    """``{namespace}Name`` -> ``Name``; plain tags unchanged."""
    return tag.rpartition("}")[2]


def strip_namespaces(element: ET.Element) -> None:
    """Rewrite every tag under ``element`` (inclusive) to its local name, in place, so readers
    can use plain ``find("Name")`` whatever namespace (or namespace version) the file uses."""
    for node in element.iter():
        tag = node.tag
        if isinstance(tag, str) and tag[:1] == "{":
            node.tag = tag.rpartition("}")[2]


def clean(text: str | None) -> str:
    """Collapse every run of whitespace (tabs, newlines, no-break spaces) to one space."""
    return " ".join(text.split()) if text else ""


def text_at(element: ET.Element, path: str) -> str:
    """The whitespace-normalised text at ``path`` under ``element``, "" when absent."""
    return clean(element.findtext(path))


# Unicode character-name prefixes -> ISO 15924 codes, for the scripts the lists use.
_SCRIPT_CODES: Final = {
    "ARABIC": "Arab",
    "CYRILLIC": "Cyrl",
    "GREEK": "Grek",
    "HEBREW": "Hebr",
    "CJK": "Hani",
    "HANGUL": "Hang",
    "HIRAGANA": "Jpan",
    "KATAKANA": "Jpan",
    "GEORGIAN": "Geor",
    "ARMENIAN": "Armn",
    "DEVANAGARI": "Deva",
    "THAI": "Thai",
    "ETHIOPIC": "Ethi",
    "MYANMAR": "Mymr",
    "KHMER": "Khmr",
    "TAMIL": "Taml",
    "BENGALI": "Beng",
}


def script_of(text: str) -> str:
    """The ISO 15924 code of the first non-Latin letter in ``text`` ("" for Latin-only text):
    lists that do not label a name's script still write it in one, and matching needs to know."""
    if text.isascii():  # most names: no per-character walk
        return ""
    for char in text:
        if char.isascii() or not char.isalpha():
            continue
        prefix = unicodedata.name(char, "").split(" ", 1)[0]
        if prefix == "LATIN":
            continue
        return _SCRIPT_CODES.get(prefix, "")
    return ""


def parse_date(text: str | None, *, day_first: bool = True) -> date | None:
    """A date as the lists write them: ISO ``2024-05-01`` (a time part is ignored),
    ``01/05/2024`` (day first for UK/EU; ``day_first=False`` for OFAC's ``05/01/2024``),
    or ``01 May 2024``. None when unreadable: a bad date is not worth refusing a list over."""
    value = clean(text)
    if not value:
        return None
    iso = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        slashed = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", value)
        if slashed:
            first, second, year = int(slashed[1]), int(slashed[2]), int(slashed[3])
            day, month = (first, second) if day_first else (second, first)
            return date(year, month, day)
        return datetime.strptime(value, "%d %b %Y").date()
    except ValueError:
        return None


# --- the prolog check ----------------------------------------------------------------------------


def _prolog_text(head: bytes) -> str:
    """The head of the file as text, good enough to find markup in the prolog."""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise SanctionsListInvalid(
            "the file is UTF-32 encoded, which XML list files never are", line=1, column=0
        )
    # Without a BOM, expat takes a NUL in the first two bytes as UTF-16; so must this check.
    if head.startswith(b"\xff\xfe") or head[1:2] == b"\x00":
        return head[: len(head) // 2 * 2].decode("utf-16-le", errors="replace")
    if head.startswith(b"\xfe\xff") or head[:1] == b"\x00":
        return head[: len(head) // 2 * 2].decode("utf-16-be", errors="replace")
    declared = _XML_DECLARED_ENCODING.match(head.removeprefix(b"\xef\xbb\xbf"))
    if declared:
        name = declared[1].decode("ascii", errors="replace")
        if not _ACCEPTED_ENCODING.fullmatch(name.strip()):
            raise SanctionsListInvalid(
                f"the file declares encoding {name!r}, which no sanctions list uses; "
                "only UTF-8, UTF-16, ASCII, ISO-8859 and Windows-125x are read",
                line=1,
                column=0,
            )
    # ASCII-compatible: Latin-1 maps every byte, so markup positions are exact.
    return head.decode("latin-1")


def check_prolog(head: bytes) -> bool:
    """Refuse a DTD that declares or loads anything; True once the root start tag is in
    ``head`` (the prolog is over and fully checked), False if more bytes are needed."""
    return root_offset(head) >= 0


def root_offset(head: bytes) -> int:
    """Like ``check_prolog`` (hostile DTDs raise), but the index in ``head`` where the root
    element's ``<`` stands, -1 if more bytes are needed. A byte offset for ASCII-compatible
    encodings (the only ones a caller may use it for); a UTF-16 character index otherwise."""
    text = _prolog_text(head)
    at = 0
    while True:
        while at < len(text) and text[at] in " \t\r\n\ufeff":
            at += 1
        if at >= len(text):
            return -1
        if text.startswith("<?", at):
            end = text.find("?>", at)
            if end < 0:
                return -1
            at = end + 2
        elif text.startswith("<!--", at):
            end = text.find("-->", at)
            if end < 0:
                return -1
            at = end + 3
        elif text.startswith("<!", at):
            if not _doctype_is_harmless(text, at):
                return -1
            at = text.find(">", at) + 1
        else:
            # The root element (or junk, which expat reports with its position).
            return at


def _doctype_is_harmless(text: str, at: int) -> bool:
    """Raise for a DOCTYPE with an internal subset or external id; True for a bare
    ``<!DOCTYPE root>``; False when its end is not in ``text`` yet."""
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1)
    end = text.find(">", at)
    bracket = text.find("[", at)
    if bracket >= 0 and (end < 0 or bracket < end):
        subset = text[bracket:]
        if "<!ENTITY" in subset.upper():
            kind = "external entity" if re.search(r"SYSTEM|PUBLIC", subset) else "entity"
            detail = (
                f"the file declares {kind} definitions in a DOCTYPE (line {line}, column "
                f"{column}): entity expansion and external entities are refused, nothing "
                "was expanded or fetched"
            )
        else:
            detail = (
                f"the file carries an inline DTD (line {line}, column {column}), which "
                "sanctions lists never do: refused"
            )
        raise SanctionsListInvalid(detail, line=line, column=column)
    if end < 0:
        return False
    if re.search(r"\b(SYSTEM|PUBLIC)\b", text[at:end]):
        raise SanctionsListInvalid(
            f"the file refers to an external DTD (line {line}, column {column}): external "
            "entities are refused, nothing was fetched",
            line=line,
            column=column,
        )
    return True


# --- the record stream ---------------------------------------------------------------------------


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class _RangesReader:
    """A file seen through some of its byte ranges only, read like a stream."""

    def __init__(self, stream: BinaryIO, ranges: tuple[tuple[int, int], ...]) -> None:
        self._stream = stream
        self._ranges = list(reversed(ranges))
        self._left = 0

    def read(self, size: int, /) -> bytes:
        while self._left <= 0:
            if not self._ranges:
                return b""
            start, end = self._ranges.pop()
            self._stream.seek(start)
            self._left = end - start
        chunk = self._stream.read(min(size, self._left))
        self._left = self._left - len(chunk) if chunk else 0
        return chunk


class XmlRecords:
    """Iterate the complete record elements of an XML list file, namespace-stripped.

    ``record_tags`` are local names; a record nested inside another record is part of the
    outer one. ``skip_tags`` are parsed like records (cheaply, within the same limits) but
    dropped unseen: a pass that needs other sections skips bulky ones. ``stop_after`` (local
    names) ends the iteration when one of those elements closes, so a reader that needs only the
    top of a file does not parse the rest. ``root`` holds the document element (attributes only:
    its children are detached as they complete)
    once the first record has been yielded, or after ``read_root()``. ``ranges`` (byte
    ``(start, end)`` pairs, in order) feeds only those parts of the file: a caller that cut out
    the content of a section it does not need (see ``byte_ranges``); positions in errors are
    then those of the cut document, so such a caller re-reads the whole file to report one.
    """

    def __init__(
        self,
        path: Path,
        record_tags: frozenset[str],
        *,
        limits: Limits | None = None,
        stop_after: frozenset[str] = frozenset(),
        skip_tags: frozenset[str] = frozenset(),
        ranges: tuple[tuple[int, int], ...] | None = None,
    ) -> None:
        self.path = path
        self.ranges = ranges
        self.record_tags = record_tags
        self.limits = limits or Limits()
        self.stop_after = stop_after
        self.skip_tags = skip_tags
        self.root: ET.Element | None = None
        # For error messages: where the parse stands.
        self._open_elements: list[ET.Element] = []
        self._records_done = 0
        self._pending_error: ET.ParseError | None = None

    def read_root(self) -> ET.Element:
        """Parse only as far as the document element's start tag and return it."""
        with self.path.open("rb") as stream:
            parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start",))
            for _chunk in self._feed(stream, parser):
                for _event, element in self._events(parser):
                    self.root = element
                    return element
        raise SanctionsListInvalid("the file holds no XML element", line=1, column=0)

    def __iter__(self) -> Iterator[ET.Element]:
        with self.path.open("rb") as stream:
            if self.ranges is None:
                yield from self._records(stream)
            else:
                yield from self._records(_RangesReader(stream, self.ranges))

    def _feed(self, stream: _Readable, parser: ET.XMLPullParser[ET.Element]) -> Iterator[int]:
        """Feed ``stream`` to ``parser`` chunk by chunk (prolog checked first); yield each
        chunk's size; close the parser at the end of the file."""
        head = b""
        total = 0
        prolog_checked = False
        while True:
            chunk = stream.read(CHUNK_BYTES)
            if not chunk:
                break
            total += len(chunk)
            if total > self.limits.max_bytes:
                raise SanctionsListTooLarge(
                    f"the file is larger than the {self.limits.max_bytes:,} bytes accepted",
                    limit=self.limits.max_bytes,
                )
            if not prolog_checked:
                head += chunk
                prolog_checked = check_prolog(head)
                if not prolog_checked:
                    if len(head) > MAX_PROLOG_BYTES:
                        raise SanctionsListInvalid(
                            "no root element in the first MiB of the file", line=1, column=0
                        )
                    continue
                chunk, head = head, b""
            self._guarded(parser.feed, chunk)
            yield len(chunk)
        if not prolog_checked:
            check_prolog_complete(head)
            self._guarded(parser.feed, head)
            if head:
                yield len(head)
        self._guarded(parser.close, closing=True)
        yield 0

    def _guarded(self, action: Callable[..., object], *args: bytes, closing: bool = False) -> None:
        """Run a parser call, turning expat's errors into a positioned ``SanctionsListInvalid``."""
        if self._pending_error is not None:  # the first error, not what expat says after it
            raise self._invalid(self._pending_error, closing=False)
        try:
            action(*args)
        except ET.ParseError as error:
            raise self._invalid(error, closing=closing) from None

    def _events(self, parser: ET.XMLPullParser[ET.Element]) -> list[tuple[str, ET.Element]]:
        """The parser's pending events. ``XMLPullParser`` queues a syntax error after the events
        that preceded it: those are returned first (records before the error are still read),
        the error is raised on the next call."""
        if self._pending_error is not None:
            raise self._invalid(self._pending_error, closing=False)
        events: list[tuple[str, ET.Element]] = []
        pending = parser.read_events()
        while True:
            try:
                event = next(pending)
            except StopIteration:
                return events
            except ET.ParseError as error:
                if not events:
                    raise self._invalid(error, closing=False) from None
                self._pending_error = error
                return events
            events.append(cast("tuple[str, ET.Element]", event))

    def _invalid(self, error: ET.ParseError, *, closing: bool) -> SanctionsListInvalid:
        line, column = error.position
        detail = f"malformed XML at line {line}, column {column}: {error.msg}"
        if closing and self._open_elements:
            inside = " > ".join(local_name(e.tag) for e in self._open_elements[-3:])
            detail = (
                f"the file ends inside <{inside}> at line {line}, column {column}, after "
                f"{self._records_done} complete records: it was truncated"
            )
        elif closing:
            detail = f"the file holds no complete XML document (line {line}, column {column})"
        return SanctionsListInvalid(detail, line=line, column=column, record=self._records_done + 1)

    def _records(self, stream: _Readable) -> Iterator[ET.Element]:
        limits = self.limits
        parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
        open_elements = self._open_elements
        wanted = self.record_tags | self.skip_tags
        record_depth = -1  # index in open_elements of the open record, -1 outside records
        record_elements = 0
        record_bytes = 0
        record_number = 0
        quiet_bytes = 0
        for fed in self._feed(stream, parser):
            had_event = False
            for event, element in self._events(parser):
                had_event = True
                if event == "start":
                    open_elements.append(element)
                    if record_depth >= 0:
                        record_elements += 1
                        if record_elements > limits.max_record_elements:
                            raise SanctionsListTooLarge(
                                f"record {record_number + 1} has more than "
                                f"{limits.max_record_elements:,} elements",
                                record=record_number + 1,
                                limit=limits.max_record_elements,
                            )
                    elif local_name(element.tag) in wanted:
                        record_depth = len(open_elements) - 1
                        record_elements = 0
                        record_bytes = 0
                    elif self.root is None:
                        self.root = element
                    continue
                depth = len(open_elements) - 1
                open_elements.pop()
                if record_depth >= 0 and depth > record_depth:
                    continue  # inside a record: kept until the record completes
                name = local_name(element.tag)
                if depth == record_depth:
                    record_depth = -1
                    if name not in self.skip_tags:
                        record_number += 1
                        self._records_done = record_number
                        strip_namespaces(element)
                        yield element
                if depth > 0:
                    # Detach whatever completed outside a record, so nothing accumulates.
                    open_elements[-1].remove(element)
                if name in self.stop_after:
                    return
            if record_depth >= 0 and fed:
                record_bytes += fed
                if record_bytes > limits.max_record_bytes:
                    raise SanctionsListTooLarge(
                        f"record {record_number + 1} spans more than "
                        f"{limits.max_record_bytes:,} bytes",
                        record=record_number + 1,
                        limit=limits.max_record_bytes,
                    )
            quiet_bytes = 0 if had_event else quiet_bytes + fed
            if quiet_bytes > limits.max_record_bytes:
                raise SanctionsListTooLarge(
                    f"a single XML element or text spans more than {limits.max_record_bytes:,}"
                    f" bytes (after record {record_number})",
                    record=record_number,
                    limit=limits.max_record_bytes,
                )


def check_prolog_complete(head: bytes) -> None:
    """At the end of a small file whose prolog never reached a root element: still refuse a
    hostile DOCTYPE (expat would otherwise see it before failing)."""
    text = _prolog_text(head)
    at = text.find("<!")
    while at >= 0:
        if not text.startswith("<!--", at):
            _doctype_is_harmless(text + ">", at)
        at = text.find("<!", at + 2)
