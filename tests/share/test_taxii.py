"""The TAXII 2.1 read side, through a real server on loopback and the third-party taxii2-client."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Collection, Server, as_pages

from bastion.api.routers.taxii import TAXII_MEDIA_TYPE
from bastion.banks.records import NewEntry
from bastion.settings import Settings
from bastion.share import stix
from bastion.share.collection_feed import Cursor

from ..api.conftest import ApiServer, serving

STRICT = ValidationOptions(version="2.1", strict=True)
SUPPORTING = 4  # project identity, extension definition, instance identity, TLP marking


def _md5(n: int) -> str:
    return f"{n:032x}"


@pytest.fixture(scope="module")
def taxii(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    data_dir: Path = tmp_path_factory.mktemp("taxii")
    with serving(Settings(data_dir=data_dir)) as server:
        bastion = server.bastion
        with bastion.db.session() as session:
            for name, tlp in (
                ("shared-green", "green"),
                ("shared-clear", "clear"),
                ("partner-amber", "amber"),
                ("strict-amber", "amber+strict"),
                ("never-red", "red"),
            ):
                bastion.banks.create(session, name=name, actor="test", tlp=tlp)
            bastion.banks.add_entries(
                session, "never-red", [NewEntry("md5", _md5(9000))], actor="test"
            )
            bastion.banks.add_entries(
                session, "partner-amber", [NewEntry("md5", _md5(8000))], actor="test"
            )
        # Two batches, apart in time, for added_after.
        for batch in (range(1, 6), range(6, 8)):
            with bastion.db.session() as session:
                entries = [NewEntry("md5", _md5(n), labels=["tvec6"]) for n in batch]
                bastion.banks.add_entries(session, "shared-green", entries, actor="test")
            time.sleep(0.05)
        yield server


@pytest.fixture(scope="module")
def key(taxii: ApiServer) -> str:
    return taxii.make_key("taxii:read")


@pytest.fixture(scope="module")
def amber_key(taxii: ApiServer) -> str:
    return taxii.make_key("taxii:read", "taxii:amber")


def _server(taxii: ApiServer, secret: str) -> Server:
    return Server(f"{taxii.base_url}/taxii2/", user="partner", password=secret)


def _titles(taxii: ApiServer, secret: str) -> dict[str, str]:
    root = _server(taxii, secret).default
    assert root is not None
    return {c.title: c.url for c in root.collections}


def _collection(taxii: ApiServer, secret: str, title: str) -> Collection:
    url = _titles(taxii, secret)[title]
    return Collection(url, user="partner", password=secret)


def _http(taxii: ApiServer, secret: str, **headers: str) -> httpx.Client:
    merged = {"Authorization": f"Bearer {secret}", "Accept": TAXII_MEDIA_TYPE, **headers}
    return httpx.Client(base_url=taxii.base_url, headers=merged, timeout=30)


def test_discovery_and_api_root_through_taxii2_client(taxii: ApiServer, key: str) -> None:
    server = _server(taxii, key)
    assert server.title == "Bastion TAXII server"
    assert server.default is not None
    assert server.default.url == f"{taxii.base_url}/taxii2/api/"
    assert server.default.versions == [TAXII_MEDIA_TYPE]
    assert server.default.max_content_length > 0


def test_collections_follow_tlp(taxii: ApiServer, key: str, amber_key: str) -> None:
    plain = _titles(taxii, key)
    assert set(plain) == {"shared-green", "shared-clear"}
    partner = _titles(taxii, amber_key)
    assert set(partner) == {"shared-green", "shared-clear", "partner-amber", "strict-amber"}
    collection = _collection(taxii, key, "shared-green")
    assert collection.can_read is True
    assert collection.can_write is False
    assert collection.media_types == ["application/stix+json;version=2.1"]
    assert uuid.UUID(collection.id)


def test_red_bank_is_never_served(taxii: ApiServer, admin_red_id: str, amber_key: str) -> None:
    with _http(taxii, amber_key) as http:
        for path in ("", "objects/", "manifest/"):
            response = http.get(f"/taxii2/api/collections/{admin_red_id}/{path}")
            assert response.status_code == 404
            assert response.headers["content-type"] == TAXII_MEDIA_TYPE
            body = response.json()
            assert body["http_status"] == "404"
            assert body["title"] and body["description"]


@pytest.fixture(scope="module")
def admin_red_id(taxii: ApiServer) -> str:
    """The red bank's collection id, computed as the server would (it is never listed)."""
    from bastion.api.routers.taxii import collection_id, instance_of

    return collection_id(instance_of(taxii.bastion).name, "never-red")


def test_amber_bank_needs_the_partner_scope(taxii: ApiServer, key: str, amber_key: str) -> None:
    url = _titles(taxii, amber_key)["partner-amber"]
    objects = Collection(url, user="partner", password=amber_key).get_objects()
    assert [o["type"] for o in objects["objects"]][-1] == "indicator"
    with _http(taxii, key) as http:
        assert http.get(url).status_code == 404
        assert http.get(f"{url}objects/").status_code == 404


def test_objects_page_through_as_pages(taxii: ApiServer, key: str) -> None:
    collection = _collection(taxii, key, "shared-green")
    pages = list(as_pages(collection.get_objects, per_request=3))
    assert len(pages) == 4  # 4 supporting objects + 7 indicators, 3 per page
    assert [p["more"] for p in pages] == [True, True, True, False]
    objects = [o for p in pages for o in p["objects"]]
    assert len({o["id"] for o in objects}) == len(objects) == SUPPORTING + 7
    assert [o["type"] for o in objects[:SUPPORTING]] == [
        "identity",
        "extension-definition",
        "identity",
        "marking-definition",
    ]
    indicators = objects[SUPPORTING:]
    assert [o["pattern"] for o in indicators] == [
        f"[file:hashes.MD5 = '{_md5(n)}']" for n in range(1, 8)
    ]
    assert all(o["object_marking_refs"] == [stix.TLP_MARKING_IDS["green"]] for o in indicators)
    # The whole collection is valid STIX 2.1 under the OASIS validator's strict rules.
    results = validate_instance(json.loads(json.dumps(stix.bundle(objects))), STRICT)
    assert results.is_valid, [e.message for e in results.errors]


def test_date_added_headers_and_added_after(taxii: ApiServer, key: str) -> None:
    url = _titles(taxii, key)["shared-green"]
    with _http(taxii, key) as http:
        manifest = http.get(f"{url}manifest/").json()["objects"]
        assert len(manifest) == SUPPORTING + 7
        assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest)
        fifth = manifest[SUPPORTING + 4]["date_added"]  # the last entry of the first batch
        response = http.get(f"{url}objects/", params={"added_after": fifth})
        assert response.status_code == 200
        after = response.json()["objects"]
        assert [o["pattern"] for o in after] == [f"[file:hashes.MD5 = '{_md5(n)}']" for n in (6, 7)]
        headers = response.headers
        assert headers["X-TAXII-Date-Added-First"] == manifest[SUPPORTING + 5]["date_added"]
        assert headers["X-TAXII-Date-Added-Last"] == manifest[-1]["date_added"]
    # The same through taxii2-client.
    collection = Collection(url, user="partner", password=key)
    assert len(collection.get_objects(added_after=fifth)["objects"]) == 2


def test_match_filters_single_object_and_versions(taxii: ApiServer, key: str) -> None:
    collection = _collection(taxii, key, "shared-green")
    indicators = collection.get_objects(type="indicator")["objects"]
    assert len(indicators) == 7
    assert collection.get_objects(type="marking-definition")["objects"][0]["name"] == "TLP:GREEN"
    third = indicators[2]
    by_id = collection.get_objects(id=third["id"])["objects"]
    assert by_id == [third]
    assert collection.get_object(third["id"])["objects"] == [third]
    assert collection.object_versions(third["id"])["versions"] == [third["modified"]]
    assert collection.get_objects(id=third["id"], version=third["modified"])["objects"] == [third]
    for version in ("first", "last", "all"):
        assert len(collection.get_objects(type="indicator", version=version)["objects"]) == 7
    assert "objects" not in collection.get_objects(id=third["id"], version="2001-01-01T00:00:00Z")
    assert len(collection.get_objects(spec_version="2.1")["objects"]) == SUPPORTING + 7
    assert "objects" not in collection.get_objects(spec_version="2.0")
    with _http(taxii, key) as http:
        missing = http.get(f"{collection.url}objects/indicator--{uuid.uuid4()}/")
        assert missing.status_code == 404
        assert missing.json()["http_status"] == "404"


def test_accept_header_is_negotiated(taxii: ApiServer, key: str) -> None:
    with _http(taxii, key) as http:
        for accept in ("application/json", "application/taxii+json;version=2.0", "text/html"):
            response = http.get("/taxii2/", headers={"Accept": accept})
            assert response.status_code == 406, accept
            assert response.json()["http_status"] == "406"
        for accept in ("*/*", "application/taxii+json", "text/html, application/*;q=0.5"):
            assert http.get("/taxii2/", headers={"Accept": accept}).status_code == 200
        assert http.get("/taxii2/api/").headers["content-type"] == TAXII_MEDIA_TYPE


def test_bad_parameters_are_400(taxii: ApiServer, key: str) -> None:
    url = _titles(taxii, key)["shared-green"]
    with _http(taxii, key) as http:
        for params in (
            {"added_after": "yesterday"},
            {"limit": "zero"},
            {"limit": "0"},
            {"next": "not-a-cursor"},
            {"match[version]": "soon"},
        ):
            response = http.get(f"{url}objects/", params=params)
            assert response.status_code == 400, params
            body = response.json()
            assert body["http_status"] == "400"
            assert body["error_code"] == "invalid_input"


def test_keys_and_scopes(taxii: ApiServer, key: str) -> None:
    with httpx.Client(base_url=taxii.base_url, timeout=30) as http:
        missing = http.get("/taxii2/")
        assert missing.status_code == 401
        assert missing.json()["http_status"] == "401"
        assert "Basic" in missing.headers["WWW-Authenticate"]
        basic = base64.b64encode(f"anyone:{key}".encode()).decode()
        assert http.get("/taxii2/", headers={"Authorization": f"Basic {basic}"}).is_success
        assert http.get("/taxii2/", headers={"Authorization": f"Bearer {key}"}).is_success
        wrong = base64.b64encode(b"anyone:bst_nope_nope").decode()
        assert http.get("/taxii2/", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
        scan_only = taxii.make_key("scan")
        forbidden = http.get("/taxii2/", headers={"Authorization": f"Bearer {scan_only}"})
        assert forbidden.status_code == 403
        assert forbidden.json()["details"]["required_scope"] == "taxii:read"


def test_cursor_round_trip() -> None:
    assert Cursor.decode(Cursor(1234, 7).encode()) == Cursor(1234, 7)
    assert Cursor.decode(Cursor(-2).encode()) == Cursor(-2, 0)
    assert Cursor.decode(Cursor().encode()).entry == -99  # nothing sent yet: all supporting
