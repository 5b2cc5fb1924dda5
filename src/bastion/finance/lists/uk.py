"""The UK Sanctions List (FCDO) XML: root ``Designations``, one ``Designation`` per target.

Each designation carries ``UniqueID`` (``AFG0001``), ``RegimeName``, ``IndividualEntityShip``
(Individual / Entity / Ship), ``DateDesignated`` (``dd/mm/yyyy``), ``Names/Name`` with
``Name1``..``Name6`` (``Name6`` the surname, or the whole name of an entity) and ``NameType``
("Primary Name", "Alias", "Primary Name Variation"), ``NonLatinNames`` (``NameNonLatinScript``,
``NonLatinScriptType``, ``NonLatinScriptLanguage``), ``Addresses/Address/AddressCountry``,
``IndividualDetails`` (DOBs, nationalities, passports, national ids), ``ShipDetails`` (IMO
numbers) and ``OtherInformation``. ``DateGenerated`` at the top dates the file. One pass.
The OFSI consolidated list (``ArrayOfFinancialSanctionsTarget``, one row per *name*, frozen
since the UK list replaced it) is not read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from bastion.errors import SanctionsListInvalid
from bastion.finance.lists.records import (
    ALIAS,
    PRIMARY,
    UK_SL,
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

FORMAT: Final = "uk_xml"
_SCHEMAS: Final = {"individual": "Person", "entity": "Organization", "ship": "Vessel"}
_NAME_PARTS: Final = ("Name1", "Name2", "Name3", "Name4", "Name5", "Name6")
# Identifier elements anywhere in a designation, and the type they are reported as.
_IDENTIFIER_TAGS: Final = {
    "PassportNumber": "Passport",
    "NationalIdentifierNumber": "National identification number",
    "IMONumber": "IMO number",
    "BusinessRegistrationNumber": "Business registration number",
}


def read_header(path: Path, limits: Limits | None = None) -> ListHeader:
    records = XmlRecords(
        path,
        frozenset({"DateGenerated"}),
        limits=limits,
        stop_after=frozenset({"DateGenerated", "Designation"}),
    )
    for element in records:
        generated = clean(element.text)
        return ListHeader(UK_SL, FORMAT, parse_date(generated), generated)
    return ListHeader(UK_SL, FORMAT, None)


def read_entities(path: Path, limits: Limits | None = None) -> Iterator[ListEntity]:
    records = XmlRecords(path, frozenset({"Designation"}), limits=limits)
    for number, designation in enumerate(records, start=1):
        unique_id = text_at(designation, "UniqueID")
        if not unique_id:
            raise SanctionsListInvalid(
                f"Designation record {number} has no UniqueID", record=number
            )
        yield _entity(designation, unique_id)


def _written_date(text: str) -> str:
    """``03/05/1971`` -> ``1971-05-03``; ``00/00/1971`` -> ``1971``; anything else as written."""
    match = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text)
    if not match:
        return text
    day, month, year = match.groups()
    if month == "00":
        return year
    return f"{year}-{month}" if day == "00" else f"{year}-{month}-{day}"


def _entity(designation: ET.Element, unique_id: str) -> ListEntity:
    kind_of_target = text_at(designation, "IndividualEntityShip").lower()
    entity = ListEntity(
        source=UK_SL,
        external_id=unique_id,
        schema=_SCHEMAS.get(kind_of_target, "LegalEntity"),
        names=[],
        listed_on=parse_date(designation.findtext("DateDesignated")),
        remarks=text_at(designation, "OtherInformation"),
    )
    regime = text_at(designation, "RegimeName")
    entity.programs = [regime] if regime else []
    for name_element in designation.iterfind("Names/Name"):
        name = clean(" ".join(text_at(name_element, part) for part in _NAME_PARTS))
        if not name:
            continue
        name_type = text_at(name_element, "NameType").lower()
        kind = PRIMARY if name_type == "primary name" else ALIAS
        if kind == ALIAS and "low" in text_at(name_element, "AliasStrength").lower():
            kind = WEAK_ALIAS
        entity.names.append(ListName(name, kind, script_of(name)))
    for non_latin in designation.iter("NameNonLatinScript"):
        name = clean(non_latin.text)
        if name:
            entity.names.append(ListName(name, ALIAS, script_of(name)))
    _add_details(designation, entity)
    return entity


def _add_details(designation: ET.Element, entity: ListEntity) -> None:
    for element in designation.iter():
        tag = element.tag
        if tag in _IDENTIFIER_TAGS:
            value = clean(element.text)
            if value:
                entity.identifiers.append(ListIdentifier(_IDENTIFIER_TAGS[tag], value))
        elif tag == "DOB":
            written = _written_date(clean(element.text))
            if written and written not in entity.birth_dates:
                entity.birth_dates.append(written)
        elif tag == "Nationality":
            nationality = clean(element.text)
            if nationality and nationality not in entity.nationalities:
                entity.nationalities.append(nationality)
        elif tag == "AddressCountry":
            country = clean(element.text)
            if country and country not in entity.countries:
                entity.countries.append(country)
