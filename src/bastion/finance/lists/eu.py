"""The EU consolidated financial sanctions list (FSF XML export: root ``export``, namespace
``http://eu.europa.ec/fpi/fsd/export``).

Every fact is in attributes: ``sanctionEntity`` (``logicalId``, ``euReferenceNumber``,
``designationDate``) with children ``regulation`` (``programme``, ``publicationDate``),
``subjectType`` (``code`` person/enterprise), ``nameAlias`` (``wholeName`` or its parts,
``nameLanguage``, ``strong``), ``identification``, ``birthdate``, ``citizenship``, ``address``.
One streamed pass. ``external_id`` is ``logicalId``, which every entity has and keeps; the EU
reference number, when there is one, is kept as an identifier.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from bastion.errors import SanctionsListInvalid
from bastion.finance.lists.records import (
    ALIAS,
    EU_FSF,
    PRIMARY,
    WEAK_ALIAS,
    ListEntity,
    ListHeader,
    ListIdentifier,
    ListName,
)
from bastion.finance.lists.xml_stream import Limits, XmlRecords, clean, parse_date, script_of

FORMAT: Final = "eu_xml"
_RECORD_TAGS: Final = frozenset({"sanctionEntity"})
_SCHEMAS: Final = {"person": "Person", "enterprise": "Organization"}


def read_header(path: Path, limits: Limits | None = None) -> ListHeader:
    root = XmlRecords(path, _RECORD_TAGS, limits=limits).read_root()
    generated = root.get("generationDate", "")
    return ListHeader(EU_FSF, FORMAT, parse_date(generated), root.get("globalFileId", ""))


def read_entities(path: Path, limits: Limits | None = None) -> Iterator[ListEntity]:
    for number, record in enumerate(XmlRecords(path, _RECORD_TAGS, limits=limits), start=1):
        logical_id = clean(record.get("logicalId"))
        if not logical_id:
            raise SanctionsListInvalid(
                f"sanctionEntity record {number} has no logicalId", record=number
            )
        yield _entity(record, logical_id)


def _attr(element: ET.Element, name: str) -> str:
    return clean(element.get(name))


def _entity(record: ET.Element, logical_id: str) -> ListEntity:
    subject = record.find("subjectType")
    code = _attr(subject, "code").lower() if subject is not None else ""
    entity = ListEntity(
        source=EU_FSF,
        external_id=logical_id,
        schema=_SCHEMAS.get(code, "LegalEntity"),
        names=[],
        remarks=" ".join(clean(e.text) for e in record.iterfind("remark") if e.text),
    )
    reference = _attr(record, "euReferenceNumber")
    if reference:
        entity.identifiers.append(ListIdentifier("EU reference number", reference))
    listed = [parse_date(record.get("designationDate"))]
    for regulation in record.iterfind("regulation"):
        programme = _attr(regulation, "programme")
        if programme and programme not in entity.programs:
            entity.programs.append(programme)
        listed.append(parse_date(regulation.get("publicationDate")))
    entity.listed_on = min((d for d in listed if d), default=None)
    for alias in record.iterfind("nameAlias"):
        name = _attr(alias, "wholeName") or clean(
            " ".join(_attr(alias, p) for p in ("firstName", "middleName", "lastName"))
        )
        if not name:
            continue
        if not entity.names:
            kind = PRIMARY
        else:
            kind = WEAK_ALIAS if _attr(alias, "strong").lower() == "false" else ALIAS
        language = _attr(alias, "nameLanguage").lower()
        entity.names.append(ListName(name, kind, script_of(name), language))
    for document in record.iterfind("identification"):
        number = _attr(document, "number") or _attr(document, "latinNumber")
        if number:
            kind = _attr(document, "identificationTypeDescription")
            entity.identifiers.append(
                ListIdentifier(
                    kind or _attr(document, "identificationTypeCode"),
                    number,
                    _attr(document, "countryIso2Code"),
                )
            )
    for birth in record.iterfind("birthdate"):
        written = _attr(birth, "birthdate") or _attr(birth, "year")
        if written and written not in entity.birth_dates:
            entity.birth_dates.append(written)
    for tag, target in (("citizenship", entity.nationalities), ("address", entity.countries)):
        for element in record.iterfind(tag):
            country = _attr(element, "countryIso2Code") or _attr(element, "countryDescription")
            if country and country != "00" and country not in target:
                target.append(country)
    return entity
