"""OFAC's SDN list in the advanced XML format (``SDN_ADVANCED.XML``, root ``Sanctions``).

The file is relational: ids everywhere, resolved through ``ReferenceValueSets`` (alias types,
party sub-types, feature types such as "Digital Currency Address - XBT", scripts, countries),
``Locations`` and ``IDRegDocuments`` (identity documents keyed by identity id), all *before*
``DistinctParties``; but the sanctions programmes and listing dates are in ``SanctionsEntries``,
*after* the parties.

Choice: two streamed passes over the file. Pass one keeps only the small lookup tables (the
reference values, ~20k locations, ~20k documents, one programme list and date per profile) and
skips the parties; pass two streams ``DistinctParty`` records, resolves them against those
tables and stops when ``DistinctParties`` closes. Memory is the lookup tables (a few MB for the
real list) and one party at a time, never all parties; the price is parsing the file twice,
which costs less than holding 18,000 entities (or the DOM) would.
Both the current namespace (``.../exports/ADVANCED_XML``) and the older
``http://www.un.org/sanctions/1.0`` read the same: tags are compared by local name.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from bastion.errors import SanctionsListInvalid
from bastion.finance.lists.byte_ranges import SectionFallback, find_section, section_records
from bastion.finance.lists.records import (
    ALIAS,
    FORMER,
    OFAC_SDN,
    PRIMARY,
    WEAK_ALIAS,
    ListEntity,
    ListHeader,
    ListIdentifier,
    ListName,
    ListWallet,
)
from bastion.finance.lists.xml_stream import Limits, XmlRecords, clean, script_of, text_at

FORMAT: Final = "ofac_advanced_xml"
_LOOKUP_TAGS: Final = frozenset(
    {"DateOfIssue", "ReferenceValueSets", "Location", "IDRegDocument", "SanctionsEntry"}
)
# Bulky sections pass one does not need: dropped whole, not element by element.
_SKIPPED_IN_PASS_ONE: Final = frozenset({"DistinctParty", "ProfileRelationship"})
# Order in which name parts make a readable full name; other part types follow, as listed.
_PART_ORDER: Final = {
    "First Name": 0,
    "Middle Name": 1,
    "Patronymic": 2,
    "Matronymic": 3,
    "Last Name": 4,
    "Maiden Name": 5,
}
_SUBTYPE_SCHEMAS: Final = {"Vessel": "Vessel", "Aircraft": "Airplane"}
_PARTY_TYPE_SCHEMAS: Final = {"Individual": "Person", "Entity": "Organization"}
_ALIAS_KINDS: Final = {"A.K.A.": ALIAS, "F.K.A.": FORMER, "N.K.A.": ALIAS, "Name": PRIMARY}


@dataclass(slots=True)
class _Lookups:
    """Everything of pass one: what ids mean, and each profile's programmes and date."""

    published: date | None = None
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # set -> id -> text
    party_type_of_subtype: dict[str, str] = field(default_factory=dict)
    script_codes: dict[str, str] = field(default_factory=dict)
    location_countries: dict[str, str] = field(default_factory=dict)
    documents: dict[str, list[ListIdentifier]] = field(default_factory=dict)  # by identity id
    programs: dict[str, list[str]] = field(default_factory=dict)  # by profile id
    listed_on: dict[str, date] = field(default_factory=dict)
    feature_kinds: dict[str, tuple[int, str]] = field(default_factory=dict)  # cache, by type id

    def value(self, kind: str, identifier: str | None) -> str:
        return self.values.get(kind, {}).get(identifier or "", "")


def _ymd(element: ET.Element | None) -> date | None:
    """``<Year/><Month/><Day/>`` children as a date."""
    if element is None:
        return None
    try:
        return date(
            int(text_at(element, "Year")),
            int(text_at(element, "Month") or 1),
            int(text_at(element, "Day") or 1),
        )
    except ValueError:
        return None


def read_header(path: Path, limits: Limits | None = None) -> ListHeader:
    """The issue date at the top of the file, without reading further."""
    stop = frozenset({"DateOfIssue", "ReferenceValueSets", "DistinctParties"})
    published = None
    for element in XmlRecords(path, frozenset({"DateOfIssue"}), limits=limits, stop_after=stop):
        published = _ymd(element)
        break
    return ListHeader(OFAC_SDN, FORMAT, published)


def _load_lookups(
    path: Path, limits: Limits | None, ranges: tuple[tuple[int, int], ...] | None = None
) -> _Lookups:
    lookups = _Lookups()
    records = XmlRecords(
        path, _LOOKUP_TAGS, limits=limits, skip_tags=_SKIPPED_IN_PASS_ONE, ranges=ranges
    )
    for element in records:
        tag = element.tag
        if tag == "SanctionsEntry":
            _add_sanctions_entry(lookups, element)
        elif tag == "IDRegDocument":
            _add_document(lookups, element)
        elif tag == "Location":
            country = element.find("LocationCountry")
            if country is not None:
                name = lookups.value("Country", country.get("CountryID"))
                lookups.location_countries[element.get("ID", "")] = name
        elif tag == "ReferenceValueSets":
            _add_reference_values(lookups, element)
        else:
            lookups.published = _ymd(element)
    return lookups


def _add_reference_values(lookups: _Lookups, sets: ET.Element) -> None:
    for value_set in sets:
        kind = value_set.tag.removesuffix("Values")
        table = lookups.values.setdefault(kind, {})
        for value in value_set:
            identifier = value.get("ID", "")
            table[identifier] = clean(value.text)
            if kind == "PartySubType":
                lookups.party_type_of_subtype[identifier] = value.get("PartyTypeID", "")
            elif kind == "Script":
                lookups.script_codes[identifier] = value.get("ScriptCode", "")


def _add_document(lookups: _Lookups, document: ET.Element) -> None:
    number = text_at(document, "IDRegistrationNo")
    if not number:
        return
    identifier = ListIdentifier(
        type=lookups.value("IDRegDocType", document.get("IDRegDocTypeID")),
        value=number,
        country=lookups.value("Country", document.get("IssuedBy-CountryID")),
    )
    lookups.documents.setdefault(document.get("IdentityID", ""), []).append(identifier)


def _add_sanctions_entry(lookups: _Lookups, entry: ET.Element) -> None:
    profile = entry.get("ProfileID", "")
    programs = lookups.programs.setdefault(profile, [])
    for measure in entry.iter("SanctionsMeasure"):
        if lookups.value("SanctionsType", measure.get("SanctionsTypeID")) == "Program":
            program = text_at(measure, "Comment")
            if program and program not in programs:
                programs.append(program)
    for event in entry.iter("EntryEvent"):
        listed = _ymd(event.find("Date"))
        if listed and (profile not in lookups.listed_on or listed < lookups.listed_on[profile]):
            lookups.listed_on[profile] = listed


def read_entities(path: Path, limits: Limits | None = None) -> Iterator[ListEntity]:
    """Every distinct party of the file, programmes and listing date included.

    Fast path (see ``byte_ranges``): ``DistinctParties`` is found by a byte search; the lookup
    pass parses the file without that section's content, the party pass parses only that
    content, in batches: about one parse of the file in all. Whenever the byte search is unsure,
    or either pass fails, the two plain streamed passes over the whole file run instead (from
    the party where the fast path stopped), so errors always name their true line and column.
    """
    limits = limits or Limits()
    section = find_section(path, "DistinctParties")
    lookups: _Lookups | None = None
    done = 0
    if section is not None:
        try:
            lookups = _load_lookups(path, limits, section.without_content())
        except SanctionsListInvalid:
            lookups = None  # re-read whole below, for the error's true position
        if lookups is not None:
            try:
                for party in section_records(path, section, "DistinctParty", limits):
                    entity = _checked_entity(lookups, party, done + 1)
                    done += 1
                    yield entity
                return
            except SectionFallback:
                pass  # the streamed pass reads on from party ``done + 1``, or positions the error
    if lookups is None:
        lookups = _load_lookups(path, limits)
    records = XmlRecords(
        path, frozenset({"DistinctParty"}), limits=limits, stop_after=frozenset({"DistinctParties"})
    )
    for number, party in enumerate(records, start=1):
        if number > done:
            yield _checked_entity(lookups, party, number)


def _checked_entity(lookups: _Lookups, party: ET.Element, number: int) -> ListEntity:
    entity = _party_entity(lookups, party)
    if entity is None:
        raise SanctionsListInvalid(
            f"DistinctParty record {number} has no Profile with an ID", record=number
        )
    return entity


def _party_entity(lookups: _Lookups, party: ET.Element) -> ListEntity | None:
    profile = party.find("Profile")
    if profile is None or not profile.get("ID"):
        return None
    profile_id = profile.get("ID", "")
    entity = ListEntity(
        source=OFAC_SDN,
        external_id=party.get("FixedRef") or profile_id,
        schema=_schema(lookups, profile.get("PartySubTypeID")),
        names=[],
        programs=list(lookups.programs.get(profile_id, [])),
        listed_on=lookups.listed_on.get(profile_id),
        remarks=text_at(party, "Comment"),
    )
    for identity in profile.iter("Identity"):
        entity.names.extend(_identity_names(lookups, identity))
        entity.identifiers.extend(lookups.documents.get(identity.get("ID", ""), []))
    for feature in profile.iter("Feature"):
        _add_feature(lookups, entity, feature)
    return entity


def _schema(lookups: _Lookups, subtype: str | None) -> str:
    subtype_name = lookups.value("PartySubType", subtype)
    if subtype_name in _SUBTYPE_SCHEMAS:
        return _SUBTYPE_SCHEMAS[subtype_name]
    party_type = lookups.value("PartyType", lookups.party_type_of_subtype.get(subtype or ""))
    return _PARTY_TYPE_SCHEMAS.get(party_type, "LegalEntity")


def _identity_names(lookups: _Lookups, identity: ET.Element) -> list[ListName]:
    # Per-party hot path (~100k names in the real list): tables fetched once, not per element.
    part_type_names = lookups.values.get("NamePartType", {})
    alias_types = lookups.values.get("AliasType", {})
    part_types = {
        group.get("ID", ""): part_type_names.get(group.get("NamePartTypeID", ""), "")
        for group in identity.iter("NamePartGroup")
    }
    names: list[ListName] = []
    for alias in identity.iter("Alias"):
        if alias.get("Primary") == "true":
            kind = PRIMARY
        elif alias.get("LowQuality") == "true":
            kind = WEAK_ALIAS
        else:
            kind = _ALIAS_KINDS.get(alias_types.get(alias.get("AliasTypeID", ""), ""), ALIAS)
            kind = ALIAS if kind == PRIMARY else kind
        for documented in alias.iter("DocumentedName"):
            name, script = _documented_name(lookups, documented, part_types)
            if name:
                names.append(ListName(name, kind, script or script_of(name)))
    return names


def _documented_name(
    lookups: _Lookups, documented: ET.Element, part_types: dict[str, str]
) -> tuple[str, str]:
    """The parts of one written form of a name, in reading order, and its script."""
    parts: list[tuple[int, int, str]] = []
    script = ""
    script_codes = lookups.script_codes
    for position, value in enumerate(documented.iter("NamePartValue")):
        text = " ".join(value.text.split()) if value.text else ""
        if not text:
            continue
        part_type = part_types.get(value.get("NamePartGroupID", ""), "")
        parts.append((_PART_ORDER.get(part_type, 6), position, text))
        if not script:  # the first non-Latin script labelled wins
            code = script_codes.get(value.get("ScriptID", ""), "")
            script = "" if code == "Latn" else code
    if len(parts) == 1:
        return parts[0][2], script
    parts.sort()
    return " ".join(text for _, _, text in parts), script


# What a feature type means for extraction; decided once per type id, not per feature.
_WALLET, _BIRTH, _NATIONALITY, _LOCATION, _OTHER = range(5)


def _feature_kind(lookups: _Lookups, type_id: str) -> tuple[int, str]:
    """(kind, currency) of a ``FeatureTypeID``, cached in ``lookups``."""
    known = lookups.feature_kinds.get(type_id)
    if known is not None:
        return known
    feature_type = lookups.value("FeatureType", type_id)
    lowered = feature_type.lower()
    if lowered.startswith("digital currency address"):
        kind = (_WALLET, feature_type.rpartition("-")[2].strip() or feature_type)
    elif lowered == "birthdate":
        kind = (_BIRTH, "")
    elif lowered in ("nationality country", "citizenship country"):
        kind = (_NATIONALITY, "")
    else:
        kind = (_LOCATION if lowered == "location" else _OTHER, "")
    lookups.feature_kinds[type_id] = kind
    return kind


def _add_feature(lookups: _Lookups, entity: ListEntity, feature: ET.Element) -> None:
    kind, currency = _feature_kind(lookups, feature.get("FeatureTypeID", ""))
    if kind == _OTHER:
        return
    for version in feature.iter("FeatureVersion"):
        if kind == _WALLET:
            address = text_at(version, "VersionDetail").strip(" ;,.")
            if address:
                entity.wallets.append(ListWallet(currency, address))
        elif kind == _BIRTH:
            written = _date_period(version.find("DatePeriod"))
            if written:
                entity.birth_dates.append(written)
        else:
            target = entity.countries if kind == _LOCATION else entity.nationalities
            for place in version.iter("VersionLocation"):
                country = lookups.location_countries.get(place.get("LocationID", ""), "")
                if country and country not in target:
                    target.append(country)


def _date_period(period: ET.Element | None) -> str:
    """A ``DatePeriod`` as written: "1971-05-03" for one day, "1971" for a whole year, else
    "from/to" in ISO form."""
    if period is None:
        return ""
    start = _ymd(period.find("Start/From"))
    end = _ymd(period.find("End/To")) or start
    if start is None or end is None:
        return ""
    if start == end:
        return start.isoformat()
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return str(start.year)
    return f"{start.isoformat()}/{end.isoformat()}"
