"""UN Security Council consolidated list XML."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bastion.finance.lists.read import open_list
from bastion.finance.lists.records import ALIAS, PRIMARY, WEAK_ALIAS, ListIdentifier

UN_XML = """<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:noNamespaceSchemaLocation="https://scsanctions.un.org/resources/xml/sc-sanctions.xsd"
  dateGenerated="2026-11-29T10:00:03.537Z">
 <INDIVIDUALS>
  <INDIVIDUAL><DATAID>6908555</DATAID><VERSIONNUM>1</VERSIONNUM>
   <FIRST_NAME>ABDUL</FIRST_NAME><SECOND_NAME>RAHMAN</SECOND_NAME><THIRD_NAME>AL-
   HAJJ</THIRD_NAME>
   <UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><REFERENCE_NUMBER>QDi.001</REFERENCE_NUMBER>
   <LISTED_ON>2001-01-25</LISTED_ON><NAME_ORIGINAL_SCRIPT>عبد الرحمن الحاج</NAME_ORIGINAL_SCRIPT>
   <COMMENTS1>Review pursuant to resolution 1822.</COMMENTS1>
   <NATIONALITY><VALUE>Afghanistan</VALUE></NATIONALITY>
   <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Abu Rahman</ALIAS_NAME></INDIVIDUAL_ALIAS>
   <INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Hajji</ALIAS_NAME></INDIVIDUAL_ALIAS>
   <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME/></INDIVIDUAL_ALIAS>
   <INDIVIDUAL_ADDRESS><CITY>Kabul</CITY><COUNTRY>Afghanistan</COUNTRY></INDIVIDUAL_ADDRESS>
   <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1961-04-01</DATE>
   </INDIVIDUAL_DATE_OF_BIRTH>
   <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE><YEAR>1962</YEAR>
   </INDIVIDUAL_DATE_OF_BIRTH>
   <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>OR 801168</NUMBER>
    <ISSUING_COUNTRY>Afghanistan</ISSUING_COUNTRY></INDIVIDUAL_DOCUMENT>
  </INDIVIDUAL>
  <INDIVIDUAL><DATAID>6908556</DATAID><FIRST_NAME>ИВАН</FIRST_NAME><SECOND_NAME>ПЕТРОВ</SECOND_NAME>
   <UN_LIST_TYPE>DPRK</UN_LIST_TYPE><REFERENCE_NUMBER>KPi.077</REFERENCE_NUMBER>
   <LISTED_ON>2017-08-05</LISTED_ON></INDIVIDUAL>
 </INDIVIDUALS>
 <ENTITIES>
  <ENTITY><DATAID>110041</DATAID><FIRST_NAME>AL RASHID TRUST</FIRST_NAME>
   <UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><REFERENCE_NUMBER>QDe.005</REFERENCE_NUMBER>
   <LISTED_ON>2001-10-06</LISTED_ON>
   <ENTITY_ALIAS><QUALITY>a.k.a.</QUALITY><ALIAS_NAME>Al-Rasheed Trust</ALIAS_NAME></ENTITY_ALIAS>
   <ENTITY_ADDRESS><CITY>Karachi</CITY><COUNTRY>Pakistan</COUNTRY></ENTITY_ADDRESS>
  </ENTITY>
 </ENTITIES>
</CONSOLIDATED_LIST>
"""


def test_reads_individuals_and_entities(tmp_path: Path) -> None:
    path = tmp_path / "consolidated.xml"
    path.write_text(UN_XML, encoding="utf-8")

    reader = open_list(path)
    person, russian, trust = list(reader)

    assert reader.format == "un_xml" and reader.header.published == date(2026, 11, 29)
    assert person.external_id == "QDi.001" and person.schema == "Person"
    assert [(n.name, n.kind, n.script) for n in person.names] == [
        ("ABDUL RAHMAN AL- HAJJ", PRIMARY, ""),
        ("عبد الرحمن الحاج", PRIMARY, "Arab"),
        ("Abu Rahman", ALIAS, ""),
        ("Hajji", WEAK_ALIAS, ""),
    ]
    assert person.programs == ["Al-Qaida"] and person.listed_on == date(2001, 1, 25)
    assert person.birth_dates == ["1961-04-01", "1962"]
    assert person.identifiers == [ListIdentifier("Passport", "OR 801168", "Afghanistan")]
    assert person.nationalities == ["Afghanistan"] and person.countries == ["Afghanistan"]
    assert person.remarks.startswith("Review pursuant")
    assert russian.caption == "ИВАН ПЕТРОВ" and russian.names[0].script == "Cyrl"
    assert russian.programs == ["DPRK"]
    assert trust.schema == "Organization" and trust.external_id == "QDe.005"
    assert [n.name for n in trust.names] == ["AL RASHID TRUST", "Al-Rasheed Trust"]
    assert trust.countries == ["Pakistan"]
