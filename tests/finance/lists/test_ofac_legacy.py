"""OFAC legacy sdn.xml and sdn.csv (with alt.csv, add.csv), digital currency label quirks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bastion.finance.lists.ofac_legacy import wallets_in_text
from bastion.finance.lists.read import open_list
from bastion.finance.lists.records import (
    ALIAS,
    FORMER,
    PRIMARY,
    WEAK_ALIAS,
    ListIdentifier,
    ListWallet,
)

SDN_XML = """<?xml version="1.0" standalone="yes"?>
<sdnList xmlns="http://tempuri.org/sdnList.xsd">
 <publshInformation><Publish_Date>11/28/2026</Publish_Date><Record_Count>3</Record_Count>
 </publshInformation>
 <sdnEntry><uid>7001</uid><firstName>Hassan</firstName><lastName>ABU  ALI</lastName>
  <sdnType>Individual</sdnType>
  <programList><program>SDGT</program><program>IRGC</program></programList>
  <idList>
   <id><uid>1</uid><idType>Passport</idType><idNumber>A998877</idNumber><idCountry>Lebanon</idCountry></id>
   <id><uid>2</uid><idType>Digital Currency Address - XBT</idType>
    <idNumber>12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h</idNumber></id>
   <id><uid>3</uid><idType>Digital Currency Address - USDT</idType>
    <idNumber>TXhc5aE1VqrWXMcgmYkXWLYomDsTbQ1d8E;</idNumber></id>
  </idList>
  <akaList>
   <aka><uid>4</uid><type>a.k.a.</type><category>strong</category>
    <lastName>ABOU ALI</lastName></aka>
   <aka><uid>5</uid><type>a.k.a.</type><category>weak</category>
    <lastName>Abu Hassan</lastName></aka>
   <aka><uid>6</uid><type>a.k.a.</type><category>strong</category><lastName>أبو علي</lastName></aka>
  </akaList>
  <nationalityList><nationality><uid>7</uid><country>Lebanon</country></nationality></nationalityList>
  <dateOfBirthList><dateOfBirthItem><uid>8</uid><dateOfBirth>03 May 1971</dateOfBirth>
  </dateOfBirthItem></dateOfBirthList>
 </sdnEntry>
 <sdnEntry><uid>7002</uid><lastName>ООО ТЕХНОЛОГИЯ</lastName><sdnType>Entity</sdnType>
  <programList><program>RUSSIA-EO14024</program></programList>
  <akaList><aka><uid>9</uid><type>f.k.a.</type><category>strong</category>
   <lastName>TEKHNOLOGIYA LLC</lastName></aka></akaList>
  <addressList><address><uid>10</uid><city>Moscow</city><country>Russia</country></address></addressList>
 </sdnEntry>
 <sdnEntry><uid>7003</uid><lastName>SEA STAR</lastName><sdnType>Vessel</sdnType></sdnEntry>
</sdnList>
"""


def test_reads_sdn_xml(tmp_path: Path) -> None:
    path = tmp_path / "sdn.xml"
    path.write_text(SDN_XML, encoding="utf-8")

    reader = open_list(path)
    person, company, vessel = list(reader)

    assert reader.format == "ofac_sdn_xml"
    assert reader.header.published == date(2026, 11, 28)
    assert person.external_id == "7001" and person.schema == "Person"
    assert [(n.name, n.kind, n.script) for n in person.names] == [
        ("Hassan ABU ALI", PRIMARY, ""),
        ("ABOU ALI", ALIAS, ""),
        ("Abu Hassan", WEAK_ALIAS, ""),
        ("أبو علي", ALIAS, "Arab"),
    ]
    assert person.wallets == [
        ListWallet("XBT", "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"),
        ListWallet("USDT", "TXhc5aE1VqrWXMcgmYkXWLYomDsTbQ1d8E"),
    ]
    assert person.identifiers == [ListIdentifier("Passport", "A998877", "Lebanon")]
    assert person.programs == ["SDGT", "IRGC"]
    assert person.birth_dates == ["03 May 1971"] and person.nationalities == ["Lebanon"]
    assert company.names[0].script == "Cyrl" and company.names[1].kind == FORMER
    assert company.countries == ["Russia"]
    assert vessel.schema == "Vessel"


SDN_CSV_ROWS = [
    '7001,"ABU ALI, Hassan","individual","SDGT] [IRGC","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ",'
    '"-0- ","DOB 03 May 1971; nationality Lebanon; Digital Currency Address - XBT '
    "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h; alt. Digital Currency Address - XBT "
    "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh; Digital Currency Address - ETH "
    '0x7F367cC41522cE07553e823bf3be79A889DEbe1B."',
    '7002,"MUÑOZ TRADING S.A.",-0- ,"CYBER2",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    '"digital currency address  XBT 1AbCdEfGhJkLmNp QrStUvWxYz; Digital Currency Address'
    '\u2013 ETH0x098B716B8Aaf21512996dC57EB0615e2383E2f96"',
    '7003,"SEA STAR","vessel","IRAN",-0- ,"EPBZ5",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ',
]


def write_csv(folder: Path) -> Path:
    sdn = folder / "sdn.csv"
    sdn.write_bytes(("\r\n".join(SDN_CSV_ROWS) + "\r\n\x1a").encode("cp1252"))
    (folder / "alt.csv").write_bytes(
        '7001,11,"aka","ABOU ALI, Hassan","-0- "\r\n'
        '7001,12,"aka","ABU HASSAN","weak"\r\n'
        '7002,13,"fka","NOOR TRADING","-0- "\r\n'.encode("cp1252")
    )
    (folder / "add.csv").write_bytes(b'7002,21,"Calle 1","Bogota","Colombia","-0- "\r\n')
    return sdn


def test_reads_sdn_csv_with_alt_and_add_in_windows_1252(tmp_path: Path) -> None:
    reader = open_list(write_csv(tmp_path))
    person, company, vessel = list(reader)

    assert reader.format == "ofac_sdn_csv" and reader.header.published is None
    assert person.caption == "Hassan ABU ALI" and person.programs == ["SDGT", "IRGC"]
    assert [(n.name, n.kind) for n in person.names[1:]] == [
        ("Hassan ABOU ALI", ALIAS),
        ("ABU HASSAN", WEAK_ALIAS),
    ]
    assert person.wallets == [
        ListWallet("XBT", "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"),
        ListWallet("XBT", "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"),
        ListWallet("ETH", "0x7F367cC41522cE07553e823bf3be79A889DEbe1B"),
    ]
    assert person.birth_dates == ["03 May 1971"] and person.nationalities == ["Lebanon"]
    assert company.caption == "MUÑOZ TRADING S.A."  # Windows-1252 decoded
    assert company.wallets == [
        ListWallet("XBT", "1AbCdEfGhJkLmNpQrStUvWxYz"),  # split by a space, joined back
        ListWallet("ETH", "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"),  # en dash, no space
    ]
    assert company.names[1].kind == FORMER and company.countries == ["Colombia"]
    assert vessel.schema == "Vessel" and vessel.identifiers == [
        ListIdentifier("Call Sign", "EPBZ5")
    ]


@pytest.mark.parametrize(
    ("remarks", "expected"),
    [
        ("Digital Currency Address - XBT  1Abc123;", [("XBT", "1Abc123")]),
        ("DIGITAL CURRENCY ADDRESS - xbt 1Abc123.", [("xbt", "1Abc123")]),
        (
            "Digital Currency Address \u2014 LTC LdP8Qox1VAhCzLJNqrr74YovaWYyNBUWvL",
            [("LTC", "LdP8Qox1VAhCzLJNqrr74YovaWYyNBUWvL")],
        ),
        (
            "Digital Currency Address XMR 4AbC; alt. Digital Currency Address XMR 4DeF",
            [("XMR", "4AbC"), ("XMR", "4DeF")],
        ),
        ("DigitalCurrency Address - USDT TXhc5aE1", [("USDT", "TXhc5aE1")]),
        ("Website www.example.org; Passport 123", []),
    ],
)
def test_wallet_label_quirks(remarks: str, expected: list[tuple[str, str]]) -> None:
    assert [(w.currency, w.address) for w in wallets_in_text(remarks)] == expected
