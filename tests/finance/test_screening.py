"""Name screening with a birth year: namesakes on a list are told apart by their listed birth
dates, corroborated first and contradicted last; none is dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.errors import InvalidInput
from bastion.runtime import Bastion


def _person(uid: int, born: str | None) -> str:
    birth = (
        f"<dateOfBirthList><dateOfBirthItem><uid>{uid}9</uid><dateOfBirth>{born}</dateOfBirth>"
        "</dateOfBirthItem></dateOfBirthList>"
        if born
        else ""
    )
    return (
        f"<sdnEntry><uid>{uid}</uid><firstName>Yusuf</firstName><lastName>HADDAD</lastName>"
        f"<sdnType>Individual</sdnType><programList><program>SDGT</program></programList>{birth}"
        "</sdnEntry>"
    )


NAMESAKES = (
    '<?xml version="1.0"?><sdnList><publshInformation><Publish_Date>11/20/2026</Publish_Date>'
    "</publshInformation>"
    + _person(501, "03 May 1971")
    + _person(502, None)
    + _person(503, "circa 1985; alt. 1986")
    + "</sdnList>"
)


def test_birth_year_orders_namesakes(bastion: Bastion, tmp_path: Path) -> None:
    path = tmp_path / "sdn.xml"
    path.write_text(NAMESAKES, encoding="utf-8")
    with bastion.db.session() as session:
        bastion.sanctions.import_file(session, path, actor="test")
        names = bastion.scanner.finance.names
        plain = names.screen(session, "Yousef Hadad", threshold=0.85)
        dated = names.screen(session, "Yousef Hadad", threshold=0.85, birth_year=1985)
        with pytest.raises(InvalidInput):
            names.screen(session, "Yousef Hadad", threshold=0.85, birth_year=12)
    assert sorted(hit.external_id for hit in plain) == ["501", "502", "503"]
    assert [hit.external_id for hit in dated] == ["503", "502", "501"]
    assert [hit.details["birth_year"]["verdict"] for hit in dated] == ["same", "unknown", "differs"]
    assert dated[0].details["birth_year"]["listed"] == [1985, 1986]
    assert "Birth year 1985: differs (listed: 1971)" in dated[-1].explanation
