"""EU consolidated financial sanctions list (FSF XML export)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bastion.finance.lists.read import open_list
from bastion.finance.lists.records import ALIAS, PRIMARY, WEAK_ALIAS, ListIdentifier

EU_XML = """<?xml version="1.0" encoding="UTF-8"?>
<export xmlns="http://eu.europa.ec/fpi/fsd/export" generationDate="2026-11-27T18:52:02.515+01:00"
  globalFileId="171234">
 <sanctionEntity designationDetails="" unitedNationId="" euReferenceNumber="EU.27.28"
   logicalId="13">
  <remark>Associated with Al-Qaida.</remark>
  <regulation regulationType="regulation" publicationDate="2002-05-29" programme="TAQA"
   logicalId="1"/>
  <subjectType code="person" classificationCode="P"/>
  <nameAlias firstName="Mohammed" middleName="" lastName="AL-AHMAD" wholeName="Mohammed  AL-AHMAD"
    nameLanguage="" strong="true" logicalId="17"/>
  <nameAlias wholeName="محمد الأحمد" nameLanguage="AR" strong="true" logicalId="18"/>
  <nameAlias wholeName="Abu Ahmad" nameLanguage="" strong="false" logicalId="19"/>
  <nameAlias wholeName="" firstName="" lastName="" strong="true" logicalId="20"/>
  <citizenship countryIso2Code="SY" countryDescription="SYRIA" logicalId="21"/>
  <birthdate birthdate="1965-02-01" year="1965" logicalId="22"/>
  <birthdate year="1966" logicalId="23"/>
  <identification number="N0123" countryIso2Code="SY" identificationTypeCode="passport"
    identificationTypeDescription="National passport" logicalId="24"/>
  <address city="Damascus" countryIso2Code="SY" countryDescription="SYRIA" logicalId="25"/>
 </sanctionEntity>
 <sanctionEntity euReferenceNumber="EU.8540.72" logicalId="148000" designationDate="2022-02-28">
  <regulation publicationDate="2022-02-28" programme="UKR" logicalId="2"/>
  <regulation publicationDate="2022-03-15" programme="UKR" logicalId="3"/>
  <subjectType code="enterprise" classificationCode="E"/>
  <nameAlias wholeName="Joint Stock Company Rostech" nameLanguage="EN" strong="true"
   logicalId="30"/>
  <nameAlias wholeName="АО Ростех" nameLanguage="RU" strong="true" logicalId="31"/>
  <address countryIso2Code="RU" countryDescription="RUSSIAN FEDERATION" logicalId="32"/>
 </sanctionEntity>
</export>
"""


def test_reads_sanction_entities(tmp_path: Path) -> None:
    path = tmp_path / "xmlFullSanctionsList_1_1.xml"
    path.write_text(EU_XML, encoding="utf-8")

    reader = open_list(path)
    person, company = list(reader)

    assert reader.format == "eu_xml" and reader.header.published == date(2026, 11, 27)
    assert person.external_id == "13" and person.schema == "Person"
    assert [(n.name, n.kind, n.script, n.language) for n in person.names] == [
        ("Mohammed AL-AHMAD", PRIMARY, "", ""),
        ("محمد الأحمد", ALIAS, "Arab", "ar"),
        ("Abu Ahmad", WEAK_ALIAS, "", ""),
    ]
    assert person.programs == ["TAQA"] and person.listed_on == date(2002, 5, 29)
    assert person.identifiers == [
        ListIdentifier("EU reference number", "EU.27.28"),
        ListIdentifier("National passport", "N0123", "SY"),
    ]
    assert person.birth_dates == ["1965-02-01", "1966"]
    assert person.nationalities == ["SY"] and person.countries == ["SY"]
    assert person.remarks == "Associated with Al-Qaida."
    assert company.schema == "Organization" and company.programs == ["UKR"]
    assert company.listed_on == date(2022, 2, 28)
    assert (company.names[1].name, company.names[1].script) == ("АО Ростех", "Cyrl")
