"""The finance routes over real HTTP: list upload and versions, screening, extraction, FtM export,
wallet banks, case evidence reports; scopes; hostile list files refused with nothing stored."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest

from bastion.settings import Settings

from ..finance.samples import ENTITY_UID, SDN_XML, WALLET
from .conftest import ApiServer, serving

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE sdnList [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<sdnList><publshInformation><Publish_Date>11/20/2026</Publish_Date></publshInformation>
<sdnEntry><uid>1</uid><lastName>&c;</lastName><sdnType>Entity</sdnType></sdnEntry></sdnList>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE sdnList [<!ENTITY leak SYSTEM "file:///etc/passwd">]>
<sdnList><publshInformation><Publish_Date>11/20/2026</Publish_Date></publshInformation>
<sdnEntry><uid>1</uid><lastName>&leak;</lastName><sdnType>Entity</sdnType></sdnEntry></sdnList>
"""


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """A server of its own: the lists imported here must not change other tests' scans."""
    data_dir: Path = tmp_path_factory.mktemp(f"finance-{request.param}")
    database_url = ""
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_database")
    with serving(Settings(data_dir=data_dir, database_url=database_url)) as api:
        yield api


@pytest.fixture(scope="module")
def imported(server: ApiServer) -> dict[str, object]:
    with server.client() as http:
        answer = http.post(
            "/v1/finance/lists",
            content=SDN_XML.encode(),
            params={"file_name": "sdn.xml"},
            headers={"Content-Type": "application/xml"},
        )
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_list_import_and_versions(server: ApiServer, imported: dict[str, object]) -> None:
    assert imported["source"] == "ofac_sdn" and imported["published"] == "2026-11-20"
    assert (imported["entities"], imported["wallets"], imported["new"]) == (2, 1, True)
    with server.client() as http:
        again = http.post("/v1/finance/lists", content=SDN_XML.encode())
        assert again.status_code == 200 and again.json()["new"] is False
        assert again.json()["id"] == imported["id"]
        listed = http.get("/v1/finance/lists").json()["lists"]
        assert [item["id"] for item in listed] == [imported["id"]]
        one = http.get(f"/v1/finance/lists/{imported['id']}").json()
        assert one["file_name"] == "sdn.xml" and one["status"] == "active"
        assert http.get("/v1/finance/lists/999999").json()["error"]["code"] == (
            "sanctions_list_not_found"
        )


def test_screening_names_and_wallets(server: ApiServer, imported: dict[str, object]) -> None:
    with server.client() as http:
        wallet = http.post("/v1/finance/screen", json={"wallet": f"bitcoin:{WALLET.upper()}"})
        [hit] = wallet.json()["hits"]
        assert hit["entity"]["external_id"] == ENTITY_UID and hit["match_kind"] == "wallet"
        assert hit["reference"] == f"OFAC SDN {ENTITY_UID} (AL-NASR FUNDRAISING NETWORK)"
        name = http.post("/v1/finance/screen", json={"name": "Yousef Hadad"})
        hits = name.json()["hits"]
        assert hits and hits[0]["entity"]["external_id"] == "48214"
        assert hits[0]["explanation"] and 0.85 <= hits[0]["score"] <= 1.0
        arabic = http.post("/v1/finance/screen", json={"name": "شبكة النصر"}).json()["hits"]
        assert arabic and arabic[0]["entity"]["external_id"] == ENTITY_UID
        nobody = http.post("/v1/finance/screen", json={"name": "Jane Smith"}).json()
        assert nobody["hits"] == []
        bad = http.post("/v1/finance/screen", json={"wallet": WALLET[:-1] + "5"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_signal"
        both = http.post("/v1/finance/screen", json={"name": "x", "wallet": WALLET})
        assert both.json()["error"]["code"] == "invalid_input"
        entity = http.get(f"/v1/finance/entities/{hit['entity']['id']}").json()
        assert entity["wallets"][0]["signal"] == f"btc:{WALLET}"
        assert "شبكة النصر" in [n["name"] for n in entity["names"]]
        missing = http.get("/v1/finance/entities/999999").json()["error"]["code"]
        assert missing == "sanctions_entity_not_found"


def test_extract(server: ApiServer) -> None:
    with server.client() as http:
        found = http.post(
            "/v1/finance/extract",
            json={"text": f"IBAN GB82 WEST 1234 5698 7654 32 or {WALLET}"},
        ).json()["instruments"]
    assert {(i["kind"], i["value"]) for i in found} == {
        ("iban", "GB82WEST12345698765432"),
        ("crypto_address", WALLET),
    }


def test_ftm_export_and_wallet_bank(server: ApiServer, imported: dict[str, object]) -> None:
    with server.client() as http:
        lines = http.get(f"/v1/finance/lists/{imported['id']}/ftm").text.splitlines()
        entities = [json.loads(line) for line in lines]
        schemas = [e["schema"] for e in entities]
        assert schemas == ["Organization", "Person", "CryptoWallet"]
        wallet = entities[-1]
        assert wallet["properties"]["publicKey"] == [WALLET]
        assert wallet["properties"]["holder"] == [entities[0]["id"]]
        made = http.post(
            "/v1/finance/wallet-banks", json={"source": "ofac_sdn", "bank": "ofac-wallets"}
        )
        assert made.json() == {"bank": "ofac-wallets", "added": 1, "duplicates": 0}
        entries = http.get("/v1/banks/ofac-wallets/entries").json()["entries"]
        assert entries[0]["value"] == f"btc:{WALLET}" and "48213" in entries[0]["note"]


def test_case_report_json_and_pdf(server: ApiServer, imported: dict[str, object]) -> None:
    with server.client() as http:
        scan = http.post(
            "/v1/scan",
            json={"text": f"Support the mujahideen, send BTC: {WALLET}"},
            params={"external_id": "p-9"},
        ).json()
        case_id = scan["case_id"]
        assert case_id and scan["verdict"]["priority"] >= 90
        panel = http.get(f"/v1/cases/{case_id}/finance").json()
        assert panel["hits"][0]["entity"]["external_id"] == ENTITY_UID
        report = http.get(f"/v1/cases/{case_id}/finance-report").json()
        assert report["case"]["id"] == case_id and report["tlp"] == "amber"
        pdf = http.get(f"/v1/cases/{case_id}/finance-report", params={"format": "pdf"})
        assert pdf.headers["content-type"] == "application/pdf"
        text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
        assert ENTITY_UID in text
        wrong = http.get(f"/v1/cases/{case_id}/finance-report", params={"tlp": "purple"})
        assert wrong.json()["error"]["code"] == "invalid_input"
        audit = http.get("/v1/audit", params={"action": "finance.report"}).json()
        assert len(audit["events"]) >= 2


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (BILLION_LAUGHS.encode(), "sanctions_list_invalid"),
        (XXE.encode(), "sanctions_list_invalid"),
        (SDN_XML.encode()[: len(SDN_XML) // 2], "sanctions_list_invalid"),
        (b"\x89PNG\r\n\x1a\nnot a list at all", "sanctions_list_unsupported"),
        (b"", "invalid_input"),
    ],
    ids=["billion-laughs", "xxe", "truncated", "not-a-list", "empty"],
)
def test_hostile_list_files_are_refused_and_nothing_stored(
    server: ApiServer, body: bytes, code: str
) -> None:
    with server.client() as http:
        before = http.get("/v1/finance/lists", params={"all": "true"}).json()["lists"]
        answer = http.post("/v1/finance/lists", content=body)
        assert answer.status_code in (400, 415, 422), answer.text
        assert answer.json()["error"]["code"] == code
        after = http.get("/v1/finance/lists", params={"all": "true"}).json()["lists"]
    assert after == before
    assert "root:" not in answer.text


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("POST", "/v1/finance/extract", "finance:read"),
        ("POST", "/v1/finance/screen", "finance:read"),
        ("GET", "/v1/finance/lists", "finance:read"),
        ("POST", "/v1/finance/lists", "finance:write"),
        ("DELETE", "/v1/finance/lists/1", "finance:write"),
        ("POST", "/v1/finance/wallet-banks", "finance:write"),
        ("GET", "/v1/cases/1/finance-report", "finance:read"),
    ],
)
def test_scopes(server: ApiServer, method: str, path: str, scope: str) -> None:
    other = "finance:read" if scope == "finance:write" else "scan"
    with server.client("") as anonymous:
        assert anonymous.request(method, path).status_code == 401
    with server.client(server.make_key(other)) as http:
        answer = http.request(method, path)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"


def test_a_listed_name_in_a_post_comes_back_explained(
    server: ApiServer, imported: dict[str, object]
) -> None:
    with server.client() as http:
        answer = http.post("/v1/scan", json={"text": "Yesterday Yusuf Haddad spoke in the square"})
    assert answer.status_code == 200, answer.text
    [hit] = answer.json()["finance"]["hits"]
    assert hit["match_kind"] == "name" and hit["entity"]["external_id"] == "48214"
    explanation = hit["details"]["explanation"]
    assert [a["query_token"] for a in explanation["alignments"]] == ["yusuf", "haddad"]
    assert answer.json()["verdict"]["action"] == "review"


def test_batch_screening(server: ApiServer, imported: dict[str, object]) -> None:
    items = [
        {"id": "a", "name": "Yousef Hadad"},
        {"id": "b", "wallet": WALLET},
        {"id": "c", "wallet": "0xnothex"},
        {"name": "Jane Smith"},
    ]
    with server.client() as http:
        answer = http.post("/v1/finance/screen/batch", json={"items": items})
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert [r["id"] for r in results] == ["a", "b", "c", "4"]
        assert results[0]["hits"][0]["entity"]["external_id"] == "48214"
        assert results[1]["hits"][0]["entity"]["external_id"] == ENTITY_UID
        assert results[2]["error"]["code"] == "invalid_signal"
        assert results[3]["hits"] == []
        too_many = http.post("/v1/finance/screen/batch", json={"items": [{"name": "x"}] * 10_001})
        assert too_many.status_code == 422
        assert http.post("/v1/finance/screen/batch", json={"items": []}).status_code == 422
