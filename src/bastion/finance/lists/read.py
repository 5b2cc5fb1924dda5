"""Open any supported sanctions list file: detect its format, read its header, stream entities.

``open_list(path)`` sniffs the first bytes (root element and namespace for XML, the row shape
for OFAC's CSV), checks the file's size against ``max_bytes`` before reading it, and returns a
:class:`ListReader`: ``.header`` is read from the top of the file at once, iterating streams
:class:`ListEntity` records. Every failure a file can cause is a ``SanctionsList*`` error.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bastion.errors import (
    SanctionsListInvalid,
    SanctionsListNotFound,
    SanctionsListTooLarge,
    SanctionsListUnsupported,
)
from bastion.finance.lists import eu, ofac_advanced, ofac_legacy, uk, un
from bastion.finance.lists.records import ListEntity, ListHeader
from bastion.finance.lists.xml_stream import DEFAULT_MAX_BYTES, Limits

OFAC_ADVANCED_XML: Final = ofac_advanced.FORMAT
OFAC_SDN_XML: Final = ofac_legacy.XML_FORMAT
OFAC_SDN_CSV: Final = ofac_legacy.CSV_FORMAT
UN_XML: Final = un.FORMAT
UK_XML: Final = uk.FORMAT
EU_XML: Final = eu.FORMAT
SNIFF_BYTES: Final = 64 * 1024

HeaderReader = Callable[[Path, Limits], ListHeader]
EntityReader = Callable[[Path, Limits], Iterator[ListEntity]]

_READERS: Final[dict[str, tuple[HeaderReader, EntityReader]]] = {
    OFAC_ADVANCED_XML: (ofac_advanced.read_header, ofac_advanced.read_entities),
    OFAC_SDN_XML: (ofac_legacy.read_xml_header, ofac_legacy.read_xml_entities),
    OFAC_SDN_CSV: (ofac_legacy.read_csv_header, ofac_legacy.read_csv_entities),
    UN_XML: (un.read_header, un.read_entities),
    UK_XML: (uk.read_header, uk.read_entities),
    EU_XML: (eu.read_header, eu.read_entities),
}
FORMATS: Final = tuple(_READERS)

# Root element local name -> format; EU's root ("export") is generic, so its namespace decides.
_ROOTS: Final = {
    "Sanctions": OFAC_ADVANCED_XML,
    "sdnList": OFAC_SDN_XML,
    "CONSOLIDATED_LIST": UN_XML,
    "Designations": UK_XML,
}
_ROOT_TAG: Final = re.compile(r"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)([^>]*)")


def _head_text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"<\x00")):
        return head[: len(head) // 2 * 2].decode("utf-16-le", errors="replace")
    if head.startswith((b"\xfe\xff", b"\x00<")):
        return head[: len(head) // 2 * 2].decode("utf-16-be", errors="replace")
    return head.removeprefix(b"\xef\xbb\xbf").decode("latin-1")


def _root_element(text: str) -> tuple[str, str] | None:
    """(local name, rest of the start tag) of the first element after the prolog."""
    at = 0
    while True:
        at = text.find("<", at)
        if at < 0:
            return None
        if text.startswith("<!--", at):
            at = text.find("-->", at) + 3 if "-->" in text[at:] else len(text)
            continue
        if text.startswith(("<?", "<!"), at):
            at += 2
            continue
        match = _ROOT_TAG.match(text, at)
        return (match[2], match[3]) if match else None


def detect_format(head: bytes, filename: str | None = None) -> str:
    """The format id of a list file, from its first bytes (and its name, for OFAC's CSV
    companions). Raises ``SanctionsListUnsupported`` for anything else."""
    text = _head_text(head)
    stripped = text.lstrip(" \t\r\n\ufeff")
    if stripped.startswith("<"):
        root = _root_element(stripped)
        if root is not None:
            name, rest = root
            if name in _ROOTS:
                return _ROOTS[name]
            if name == "export" and ("fsd/export" in rest or "sanctionEntity" in text):
                return EU_XML
            if name == "ArrayOfFinancialSanctionsTarget":
                raise SanctionsListUnsupported(
                    "this is the OFSI consolidated list (ConList.xml), superseded by the UK "
                    "Sanctions List: import the UK Sanctions List XML instead",
                    root=name,
                )
            raise SanctionsListUnsupported(
                f"an XML file with root element <{name}> is none of the sanctions lists read "
                f"({', '.join(FORMATS)})",
                root=name,
            )
    lowered = (filename or "").lower()
    if lowered.endswith(("alt.csv", "add.csv")):
        raise SanctionsListUnsupported(
            f"{filename} is a companion of sdn.csv: import sdn.csv, with it beside",
            filename=filename,
        )
    if _looks_like_sdn_csv(text):
        return OFAC_SDN_CSV
    raise SanctionsListUnsupported(
        f"the file is none of the sanctions list formats read ({', '.join(FORMATS)})",
        filename=filename or "",
    )


def _looks_like_sdn_csv(text: str) -> bool:
    first_line = text.split("\n", 1)[0]
    try:
        row = next(csv.reader([first_line]))
    except (csv.Error, StopIteration):
        return False
    return len(row) == ofac_legacy.SDN_COLUMNS and row[0].strip().isdigit()


@dataclass
class ListReader:
    """One list file: ``header`` now, entities as they are read."""

    path: Path
    format: str
    header: ListHeader
    limits: Limits

    def __iter__(self) -> Iterator[ListEntity]:
        _header, read_entities = _READERS[self.format]
        try:
            yield from read_entities(self.path, self.limits)
        except OSError as error:
            raise SanctionsListInvalid(
                f"the list file could not be read: {error.strerror or error}"
            ) from None


def open_list(
    path: Path,
    *,
    format: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    limits: Limits | None = None,
) -> ListReader:
    """Open ``path`` as a sanctions list (``format`` forced, or detected)."""
    limits = limits or Limits(max_bytes=max_bytes)
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            head = stream.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise SanctionsListNotFound(f"no list file at {path}", path=str(path)) from None
    except OSError as error:
        raise SanctionsListInvalid(
            f"the list file could not be read: {error.strerror or error}"
        ) from None
    if size > limits.max_bytes:
        raise SanctionsListTooLarge(
            f"the file is {size:,} bytes, more than the {limits.max_bytes:,} accepted",
            size=size,
            limit=limits.max_bytes,
        )
    if not head.strip():
        raise SanctionsListInvalid("the file is empty", line=1, column=0)
    chosen = format or detect_format(head, path.name)
    if chosen not in _READERS:
        raise SanctionsListUnsupported(
            f"unknown list format {chosen!r}; one of {', '.join(FORMATS)}", format=chosen
        )
    read_header, _entities = _READERS[chosen]
    try:
        header = read_header(path, limits)
    except OSError as error:
        raise SanctionsListInvalid(
            f"the list file could not be read: {error.strerror or error}"
        ) from None
    return ListReader(path, chosen, header, limits)
