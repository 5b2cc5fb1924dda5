"""The FollowTheMoney export against FtM's own model: every entity loads, names in every script
and wallets with their holder survive the model's cleaning, dates become FtM dates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from followthemoney import model

from bastion.finance.ftm import export_list, iso_date
from bastion.runtime import Bastion

from .samples import ENTITY_UID, SDN_XML, WALLET

PERSON = """ <sdnEntry><uid>48215</uid><firstName>Ivan</firstName><lastName>PETROV</lastName>
  <sdnType>Individual</sdnType><programList><program>CYBER2</program></programList>
  <akaList><aka><uid>3</uid><type>a.k.a.</type><category>weak</category>
   <lastName>Иван Петров</lastName></aka></akaList>
  <dateOfBirthList><dateOfBirthItem><uid>4</uid><dateOfBirth>03 May 1971</dateOfBirth>
  </dateOfBirthItem></dateOfBirthList>
  <nationalityList><nationality><uid>5</uid><country>Russia</country></nationality>
  </nationalityList>
 </sdnEntry>
</sdnList>"""


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("03 May 1971", "1971-05-03"),
        ("May 1971", "1971-05"),
        ("1971", "1971"),
        ("1971-05-03", "1971-05-03"),
        ("03/05/1971", "1971-05-03"),
        ("circa 1970", "circa 1970"),
    ],
)
def test_list_dates_become_ftm_dates(written: str, iso: str) -> None:
    assert iso_date(written) == iso


def test_export_loads_in_the_followthemoney_model(bastion: Bastion, tmp_path: Path) -> None:
    path = tmp_path / "sdn.xml"
    path.write_text(SDN_XML.replace("</sdnList>", PERSON), encoding="utf-8")
    with bastion.db.session() as session:
        info, _ = bastion.sanctions.import_file(session, path, actor="test")
        lines = [
            json.dumps(e, ensure_ascii=False) for e in export_list(session, info.id, "ofac_sdn")
        ]
    proxies = {}
    for line in lines:
        # cleaned=False: the model cleans the values; unknown properties or schemas raise.
        proxy = model.get_proxy(json.loads(line), cleaned=False)
        proxies[proxy.id] = proxy
    organisation = proxies[f"ofac-sdn-{ENTITY_UID}"]
    assert organisation.schema.name == "Organization"
    assert "شبكة النصر" in organisation.get("alias")
    assert organisation.get("program") == ["SDGT"]
    person = proxies["ofac-sdn-48215"]
    assert person.get("birthDate") == ["1971-05-03"]
    assert person.get("nationality") == ["ru"]
    assert person.get("weakAlias") == ["Иван Петров"]
    [wallet] = [p for p in proxies.values() if p.schema.name == "CryptoWallet"]
    assert wallet.get("publicKey") == [WALLET]
    assert wallet.get("holder") == [organisation.id]
