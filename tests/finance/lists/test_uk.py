"""UK Sanctions List (FCDO) XML."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bastion.finance.lists.read import open_list
from bastion.finance.lists.records import ALIAS, PRIMARY, ListIdentifier

UK_XML = """<?xml version="1.0" encoding="utf-8"?>
<Designations xmlns:xsd="http://www.w3.org/2001/XMLSchema">
 <DateGenerated>28/11/2026</DateGenerated>
 <Designation>
  <LastUpdated>16/04/2026</LastUpdated><DateDesignated>29/06/2012</DateDesignated>
  <UniqueID>AFG0001</UniqueID><OFSIGroupID>12156</OFSIGroupID>
  <UNReferenceNumber>TAe.010</UNReferenceNumber>
  <Names>
   <Name><Name6>HAJI KHAIRULLAH HAJI SATTAR MONEY EXCHANGE</Name6>
    <NameType>Primary Name</NameType></Name>
   <Name><Name6>Haji Alim Hawala</Name6><NameType>Alias</NameType></Name>
  </Names>
  <NonLatinNames><NonLatinName><NameNonLatinScript>حاجی خیرالله</NameNonLatinScript>
   <NonLatinScriptType>Arabic</NonLatinScriptType></NonLatinName></NonLatinNames>
  <RegimeName>Afghanistan</RegimeName><IndividualEntityShip>Entity</IndividualEntityShip>
  <Addresses><Address><AddressLine1>Branch 1</AddressLine1>
   <AddressCountry>Pakistan</AddressCountry></Address></Addresses>
  <OtherInformation>Hawala network.</OtherInformation>
 </Designation>
 <Designation>
  <DateDesignated>15/03/2022</DateDesignated><UniqueID>RUS0270</UniqueID>
  <Names>
   <Name><Name1>Dmitri</Name1><Name2>Sergeyevich</Name2><Name6>IVANOV</Name6>
    <NameType>Primary Name</NameType></Name>
   <Name><Name1>Dmitry</Name1><Name6>IVANOFF</Name6><NameType>Alias</NameType></Name>
  </Names>
  <NonLatinNames><NonLatinName><NameNonLatinScript>Дмитрий Сергеевич ИВАНОВ</NameNonLatinScript>
   <NonLatinScriptType>Cyrillic</NonLatinScriptType></NonLatinName></NonLatinNames>
  <RegimeName>Russia</RegimeName><IndividualEntityShip>Individual</IndividualEntityShip>
  <IndividualDetails><Individual><DOBs><DOB>03/05/1971</DOB><DOB>00/00/1972</DOB></DOBs>
   <Nationalities><Nationality>Russia</Nationality></Nationalities>
   <PassportDetails><PassportDetail><PassportNumber>7512345</PassportNumber></PassportDetail></PassportDetails>
  </Individual></IndividualDetails>
 </Designation>
 <Designation><UniqueID>RUS1500</UniqueID>
  <Names><Name><Name6>OCEAN VOYAGER</Name6><NameType>Primary Name</NameType></Name></Names>
  <RegimeName>Russia</RegimeName><IndividualEntityShip>Ship</IndividualEntityShip>
  <ShipDetails><Ship><IMONumbers><IMONumber>9123456</IMONumber></IMONumbers></Ship></ShipDetails>
 </Designation>
</Designations>
"""


def test_reads_designations(tmp_path: Path) -> None:
    path = tmp_path / "UK_Sanctions_List.xml"
    path.write_text(UK_XML, encoding="utf-8")

    reader = open_list(path)
    exchange, person, ship = list(reader)

    assert reader.format == "uk_xml" and reader.header.published == date(2026, 11, 28)
    assert exchange.external_id == "AFG0001" and exchange.schema == "Organization"
    assert [(n.name, n.kind, n.script) for n in exchange.names] == [
        ("HAJI KHAIRULLAH HAJI SATTAR MONEY EXCHANGE", PRIMARY, ""),
        ("Haji Alim Hawala", ALIAS, ""),
        ("حاجی خیرالله", ALIAS, "Arab"),
    ]
    assert exchange.programs == ["Afghanistan"] and exchange.listed_on == date(2012, 6, 29)
    assert exchange.countries == ["Pakistan"] and exchange.remarks == "Hawala network."
    assert person.caption == "Dmitri Sergeyevich IVANOV" and person.schema == "Person"
    assert person.names[-1].script == "Cyrl"
    assert person.birth_dates == ["1971-05-03", "1972"] and person.nationalities == ["Russia"]
    assert person.identifiers == [ListIdentifier("Passport", "7512345")]
    assert ship.schema == "Vessel" and ship.identifiers == [ListIdentifier("IMO number", "9123456")]
