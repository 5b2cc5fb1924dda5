"""The UN Security Council consolidated list (``consolidated.xml``, root ``CONSOLIDATED_LIST``).

Flat records: ``INDIVIDUALS/INDIVIDUAL`` and ``ENTITIES/ENTITY``, each self-contained, so one
streamed pass. The publication time is the root's ``dateGenerated`` attribute. ``external_id`` is
the ``REFERENCE_NUMBER`` (``QDi.001``), the id the Committees and other lists cite; the
programme is ``UN_LIST_TYPE`` (``Al-Qaida``, ``DPRK``...). ``NAME_ORIGINAL_SCRIPT`` (often
Arabic) is kept as a primary name in its script; ``QUALITY`` "Low" aliases are weak aliases.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from bastion.errors import SanctionsListInvalid
from bastion.finance.lists.records import (
    ALIAS,
    FORMER,
    PRIMARY,
    UN_SC,
    WEAK_ALIAS,
    ListEntity,
    ListHeader,
    ListIdentifier,
    ListName,
)
from bastion.finance.lists.xml_stream import (
    Limits,
    XmlRecords,
    clean,
    parse_date,
    script_of,
    text_at,
)

FORMAT: Final = "un_xml"
_RECORD_TAGS: Final = frozenset({"INDIVIDUAL", "ENTITY"})
_NAME_PARTS: Final = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
_QUALITY_KINDS: Final = {"low": WEAK_ALIAS, "fka": FORMER, "f.k.a.": FORMER}


def read_header(path: Path, limits: Limits | None = None) -> ListHeader:
    root = XmlRecords(path, _RECORD_TAGS, limits=limits).read_root()
    generated = root.get("dateGenerated", "")
    return ListHeader(UN_SC, FORMAT, parse_date(generated), clean(generated))


def read_entities(path: Path, limits: Limits | None = None) -> Iterator[ListEntity]:
    for number, record in enumerate(XmlRecords(path, _RECORD_TAGS, limits=limits), start=1):
        entity = _entity(record)
        if not entity.external_id:
            raise SanctionsListInvalid(
                f"{record.tag} record {number} has neither REFERENCE_NUMBER nor DATAID",
                record=number,
            )
        yield entity


def _entity(record: ET.Element) -> ListEntity:
    person = record.tag == "INDIVIDUAL"
    prefix = "INDIVIDUAL" if person else "ENTITY"
    entity = ListEntity(
        source=UN_SC,
        external_id=text_at(record, "REFERENCE_NUMBER") or text_at(record, "DATAID"),
        schema="Person" if person else "Organization",
        names=[],
        listed_on=parse_date(record.findtext("LISTED_ON")),
        remarks=text_at(record, "COMMENTS1"),
    )
    primary = clean(" ".join(text_at(record, part) for part in _NAME_PARTS))
    if primary:
        entity.names.append(ListName(primary, PRIMARY, script_of(primary)))
    original = text_at(record, "NAME_ORIGINAL_SCRIPT")
    if original and original != primary:
        entity.names.append(ListName(original, PRIMARY, script_of(original)))
    for alias in record.iterfind(f"{prefix}_ALIAS"):
        name = text_at(alias, "ALIAS_NAME")
        if name:
            kind = _QUALITY_KINDS.get(text_at(alias, "QUALITY").lower(), ALIAS)
            entity.names.append(ListName(name, kind, script_of(name)))
    program = text_at(record, "UN_LIST_TYPE")
    entity.programs = [program] if program else []
    entity.nationalities = [
        v for v in (clean(e.text) for e in record.iterfind("NATIONALITY/VALUE")) if v
    ]
    for birth in record.iterfind("INDIVIDUAL_DATE_OF_BIRTH"):
        written = text_at(birth, "DATE") or text_at(birth, "YEAR")
        if not written and text_at(birth, "FROM_YEAR"):
            written = f"{text_at(birth, 'FROM_YEAR')}/{text_at(birth, 'TO_YEAR')}".rstrip("/")
        if written:
            entity.birth_dates.append(written)
    for document in record.iterfind("INDIVIDUAL_DOCUMENT"):
        number = text_at(document, "NUMBER")
        if number:
            entity.identifiers.append(
                ListIdentifier(
                    text_at(document, "TYPE_OF_DOCUMENT") or text_at(document, "TYPE_OF_DOCUMENT2"),
                    number,
                    text_at(document, "ISSUING_COUNTRY") or text_at(document, "COUNTRY_OF_ISSUE"),
                )
            )
    for address in record.iterfind(f"{prefix}_ADDRESS"):
        country = text_at(address, "COUNTRY")
        if country and country not in entity.countries:
            entity.countries.append(country)
    return entity
