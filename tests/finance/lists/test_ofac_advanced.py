"""OFAC SDN advanced XML: names in several scripts, wallets, programmes from SanctionsEntries."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from bastion.finance.lists import byte_ranges, ofac_advanced
from bastion.finance.lists.read import open_list
from bastion.finance.lists.records import (
    FORMER,
    PRIMARY,
    WEAK_ALIAS,
    ListEntity,
    ListIdentifier,
    ListWallet,
)

NS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML"

REFERENCES = """
<DateOfIssue><Year>2026</Year><Month>11</Month><Day>27</Day></DateOfIssue>
<ReferenceValueSets>
 <AliasTypeValues><AliasType ID="1400">A.K.A.</AliasType><AliasType ID="1401">F.K.A.</AliasType>
  <AliasType ID="1403">Name</AliasType></AliasTypeValues>
 <CountryValues><Country ID="11082" ISO2="IR">Iran</Country>
  <Country ID="11212" ISO2="RU">Russia</Country></CountryValues>
 <FeatureTypeValues><FeatureType ID="8">Birthdate</FeatureType>
  <FeatureType ID="10">Nationality Country</FeatureType>
  <FeatureType ID="344">Digital Currency Address - XBT</FeatureType>
  <FeatureType ID="345">Digital Currency Address - ETH</FeatureType></FeatureTypeValues>
 <IDRegDocTypeValues><IDRegDocType ID="1571">Passport</IDRegDocType></IDRegDocTypeValues>
 <NamePartTypeValues><NamePartType ID="1520">Last Name</NamePartType>
  <NamePartType ID="1521">First Name</NamePartType>
  <NamePartType ID="1525">Entity Name</NamePartType></NamePartTypeValues>
 <PartySubTypeValues><PartySubType ID="1" PartyTypeID="4">Vessel</PartySubType>
  <PartySubType ID="3" PartyTypeID="2">Unknown</PartySubType>
  <PartySubType ID="4" PartyTypeID="1">Unknown</PartySubType></PartySubTypeValues>
 <PartyTypeValues><PartyType ID="1">Individual</PartyType><PartyType ID="2">Entity</PartyType>
  </PartyTypeValues>
 <SanctionsTypeValues><SanctionsType ID="1">Program</SanctionsType>
  <SanctionsType ID="1705">Block</SanctionsType></SanctionsTypeValues>
 <ScriptValues><Script ID="215" ScriptCode="Latn">Latin</Script>
  <Script ID="160" ScriptCode="Arab">Arabic</Script>
  <Script ID="220" ScriptCode="Cyrl">Cyrillic</Script></ScriptValues>
</ReferenceValueSets>
<Locations><Location ID="900"><LocationCountry CountryID="11082"/></Location></Locations>
<IDRegDocuments>
 <IDRegDocument ID="1" IDRegDocTypeID="1571" IdentityID="501" IssuedBy-CountryID="11212">
  <IDRegistrationNo>P1234567</IDRegistrationNo></IDRegDocument>
</IDRegDocuments>
"""


def _alias(
    alias_type: str, primary: bool, parts: list[tuple[str, str, str]], low: bool = False
) -> str:
    values = "".join(
        f'<DocumentedNamePart><NamePartValue NamePartGroupID="{group}" ScriptID="{script}">'
        f"{text}</NamePartValue></DocumentedNamePart>"
        for group, script, text in parts
    )
    return (
        f'<Alias AliasTypeID="{alias_type}" Primary="{str(primary).lower()}" '
        f'LowQuality="{str(low).lower()}"><DocumentedName>{values}</DocumentedName></Alias>'
    )


def _party(
    fixed: str, subtype: str, identity: str, aliases: str, groups: str, features: str
) -> str:
    return (
        f'<DistinctParty FixedRef="{fixed}"><Comment>note {fixed}</Comment>'
        f'<Profile ID="{fixed}" PartySubTypeID="{subtype}">'
        f'<Identity ID="{identity}" Primary="true">'
        f"{aliases}<NamePartGroups>{groups}</NamePartGroups></Identity>{features}</Profile>"
        "</DistinctParty>"
    )


def _wallet(type_id: str, address: str) -> str:
    return (
        f'<Feature FeatureTypeID="{type_id}"><FeatureVersion>'
        f'<VersionDetail DetailTypeID="1432">{address}</VersionDetail></FeatureVersion></Feature>'
    )


def write_advanced(path: Path, *, namespace: str = NS) -> Path:
    person = _party(
        "36001",
        "4",
        "501",
        _alias("1403", True, [("1", "215", "SOKOLOV"), ("2", "215", "Ivan")])
        + _alias("1403", True, [("3", "220", "Соколов Иван")])
        + _alias("1400", False, [("4", "215", "VANYA")], low=True)
        + _alias("1401", False, [("5", "215", "Ivan  SOKOLOFF")]),
        '<MasterNamePartGroup><NamePartGroup ID="1" NamePartTypeID="1520"/></MasterNamePartGroup>'
        '<MasterNamePartGroup><NamePartGroup ID="2" NamePartTypeID="1521"/></MasterNamePartGroup>',
        '<Feature FeatureTypeID="8"><FeatureVersion><DatePeriod><Start><From><Year>1971</Year>'
        "<Month>5</Month><Day>3</Day></From><To><Year>1971</Year><Month>5</Month><Day>3</Day>"
        "</To></Start><End><From><Year>1971</Year><Month>5</Month><Day>3</Day></From><To>"
        "<Year>1971</Year><Month>5</Month><Day>3</Day></To></End></DatePeriod></FeatureVersion>"
        "</Feature>"
        '<Feature FeatureTypeID="10"><FeatureVersion><VersionLocation LocationID="900"/>'
        "</FeatureVersion></Feature>"
        + _wallet("344", "1AbCdEfGhJkLmNpQrStUvWxYz123456789")
        + _wallet("345", " 0x7F367cC41522cE07553e823bf3be79A889DEbe1B "),
    )
    organisation = _party(
        "36002",
        "3",
        "502",
        _alias("1403", True, [("7", "215", "AL-NOOR EXCHANGE")])
        + _alias("1403", True, [("8", "160", "صرافة النور")]),
        '<MasterNamePartGroup><NamePartGroup ID="7" NamePartTypeID="1525"/></MasterNamePartGroup>',
        _wallet("344", "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"),
    )
    vessel = _party("36003", "1", "503", _alias("1403", True, [("9", "215", "SEA STAR")]), "", "")
    entries = (
        '<SanctionsEntries><SanctionsEntry ProfileID="36001" ListID="1550">'
        "<EntryEvent><Date><Year>2019</Year><Month>3</Month><Day>1</Day></Date></EntryEvent>"
        '<SanctionsMeasure SanctionsTypeID="1705"/>'
        '<SanctionsMeasure SanctionsTypeID="1"><Comment>CYBER2</Comment></SanctionsMeasure>'
        '<SanctionsMeasure SanctionsTypeID="1"><Comment>RUSSIA-EO14024</Comment></SanctionsMeasure>'
        '</SanctionsEntry><SanctionsEntry ProfileID="36002">'
        '<SanctionsMeasure SanctionsTypeID="1"><Comment>SDGT</Comment></SanctionsMeasure>'
        "</SanctionsEntry></SanctionsEntries>"
    )
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?>\n<Sanctions xmlns="{namespace}">{REFERENCES}'
        f"<DistinctParties>{person}{organisation}{vessel}</DistinctParties>"
        f"<ProfileRelationships/>{entries}</Sanctions>",
        encoding="utf-8",
    )
    return path


def test_reads_parties_with_names_wallets_documents_and_programmes(tmp_path: Path) -> None:
    reader = open_list(write_advanced(tmp_path / "SDN_ADVANCED.XML"))

    assert reader.format == "ofac_advanced_xml"
    assert reader.header.published == date(2026, 11, 27)
    person, organisation, vessel = list(reader)

    assert person.external_id == "36001" and person.schema == "Person"
    assert person.caption == "Ivan SOKOLOV"
    assert [(n.name, n.kind, n.script) for n in person.names] == [
        ("Ivan SOKOLOV", PRIMARY, ""),
        ("Соколов Иван", PRIMARY, "Cyrl"),
        ("VANYA", WEAK_ALIAS, ""),
        ("Ivan SOKOLOFF", FORMER, ""),
    ]
    assert person.wallets == [
        ListWallet("XBT", "1AbCdEfGhJkLmNpQrStUvWxYz123456789"),
        ListWallet("ETH", "0x7F367cC41522cE07553e823bf3be79A889DEbe1B"),
    ]
    assert person.identifiers == [ListIdentifier("Passport", "P1234567", "Russia")]
    assert person.programs == ["CYBER2", "RUSSIA-EO14024"]
    assert person.listed_on == date(2019, 3, 1)
    assert person.birth_dates == ["1971-05-03"]
    assert person.nationalities == ["Iran"]
    assert person.remarks == "note 36001"

    assert organisation.schema == "Organization" and organisation.programs == ["SDGT"]
    assert [(n.name, n.script) for n in organisation.names][1] == ("صرافة النور", "Arab")
    assert organisation.wallets[0].address == "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
    assert vessel.schema == "Vessel" and vessel.programs == []


def test_reads_the_older_namespace_the_same(tmp_path: Path) -> None:
    path = write_advanced(tmp_path / "old.xml", namespace="http://www.un.org/sanctions/1.0")

    entities = list(open_list(path))

    assert [e.external_id for e in entities] == ["36001", "36002", "36003"]
    assert entities[0].programs == ["CYBER2", "RUSSIA-EO14024"]


# --- the byte-range fast path (byte_ranges): same entities as the plain streamed passes ---------


def _plain_read(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[ListEntity]:
    """The two streamed passes over the whole file, as before the fast path."""
    with monkeypatch.context() as patched:
        patched.setattr(ofac_advanced, "find_section", lambda *_: None)
        return list(ofac_advanced.read_entities(path))


def _many_parties(path: Path, count: int, *, inside: str = "") -> Path:
    """The sample file with ``count`` more parties (``inside`` written into each one)."""
    text = write_advanced(path).read_text(encoding="utf-8")
    extra = "".join(
        f'<DistinctParty FixedRef="9{n}"><Comment>{inside}</Comment><Profile ID="9{n}" '
        f'PartySubTypeID="4"><Identity ID="9{n}">'
        + _alias("1403", True, [("1", "215", f"NAME{n}")])
        + "</Identity></Profile></DistinctParty>\n"
        for n in range(count)
    )
    path.write_text(text.replace("</DistinctParties>", extra + "</DistinctParties>"), "utf-8")
    return path


@pytest.mark.parametrize("batch_bytes", [1, 700, 1_000_000])
def test_cut_out_parse_gives_the_same_entities_as_a_full_parse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_bytes: int
) -> None:
    path = _many_parties(tmp_path / "SDN_ADVANCED.XML", 40)
    monkeypatch.setattr(byte_ranges, "BATCH_BYTES", batch_bytes)
    assert byte_ranges.find_section(path, "DistinctParties") is not None  # fast path taken

    fast = list(ofac_advanced.read_entities(path))

    assert len(fast) == 43 and fast == _plain_read(path, monkeypatch)
    assert fast[0].programs == ["CYBER2", "RUSSIA-EO14024"] and fast[-1].caption == "NAME39"


def test_prefixed_namespace_reads_through_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = write_advanced(tmp_path / "plain.xml")
    text = re.sub(r"<(/?)([A-Za-z])", r"<\1s:\2", plain.read_text(encoding="utf-8"))
    path = tmp_path / "prefixed.xml"
    path.write_text(text.replace(f'xmlns="{NS}"', f'xmlns:s="{NS}"'), encoding="utf-8")
    section = byte_ranges.find_section(path, "DistinctParties")

    assert section is not None and section.prefix == b"s:"
    assert list(ofac_advanced.read_entities(path)) == _plain_read(plain, monkeypatch)


@pytest.mark.parametrize(
    "disguise",
    [
        "<!-- <DistinctParties> -->",
        "<![CDATA[</DistinctParties>]]>",
        "<?note DistinctParties?>",
    ],
)
def test_section_name_in_a_comment_or_cdata_gives_the_same_entities(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, disguise: str
) -> None:
    path = _many_parties(tmp_path / "a.xml", 3)
    text = path.read_text(encoding="utf-8")
    before = tmp_path / "before.xml"
    before.write_text(text.replace("<Locations>", disguise + "<Locations>"), encoding="utf-8")
    within = _many_parties(tmp_path / "within.xml", 3, inside=disguise)

    assert byte_ranges.find_section(before, "DistinctParties") is None  # unsure: plain passes
    assert list(ofac_advanced.read_entities(before)) == _plain_read(path, monkeypatch)
    entities = list(ofac_advanced.read_entities(within))
    assert [e.external_id for e in entities] == [
        e.external_id for e in _plain_read(path, monkeypatch)
    ]


def test_record_end_tag_in_a_comment_falls_back_and_reads_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch cut at an end tag inside a comment does not parse: the streamed reader takes
    over from the party where the batches stopped, without repeating or losing any."""
    path = _many_parties(tmp_path / "a.xml", 30, inside="<!-- </DistinctParty> -->")
    monkeypatch.setattr(byte_ranges, "BATCH_BYTES", 1)

    entities = list(ofac_advanced.read_entities(path))

    assert [e.external_id for e in entities] == ["36001", "36002", "36003"] + [
        f"9{n}" for n in range(30)
    ]
    assert entities == _plain_read(path, monkeypatch)


def test_self_closing_section_has_no_parties(tmp_path: Path) -> None:
    path = write_advanced(tmp_path / "a.xml")
    text = path.read_text(encoding="utf-8")
    start, end = text.index("<DistinctParties>"), text.index("</DistinctParties>")
    path.write_text(text[:start] + "<DistinctParties/>" + text[end + 18 :], encoding="utf-8")

    assert byte_ranges.find_section(path, "DistinctParties") is not None
    assert list(ofac_advanced.read_entities(path)) == []
