"""Interoperability: a bank subscribed to a collection of medallion (the OASIS TAXII 2.1 reference
server, memory backend), and a sighting posted back to it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from bastion.banks.records import Tlp
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.share import stix
from bastion.share.feeds import Feedback
from bastion.share.taxii_client import TaxiiFeedSource, list_collections
from bastion.storage.models import BankEntryRow

COLLECTION = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
PDQ = "f" * 64
GREEN = stix.TLP_MARKING_IDS[Tlp.GREEN]


def _indicator(number: int, pattern: str, added: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--6a1c5e7b-3d2f-4c8a-9b1e-{number:012d}",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-02-01T00:00:00Z",
        "labels": ["tvec6"],
        "object_marking_refs": [GREEN],
        "_date_added": added,
    }


def _data() -> dict[str, Any]:
    objects = [
        _indicator(1, f"[file:hashes.MD5 = '{1:032x}']", "2026-02-01T00:00:01.000000Z"),
        _indicator(2, f"[file:hashes.MD5 = '{2:032x}']", "2026-02-01T00:00:02.000000Z"),
        _indicator(3, f"[file:hashes.'x_bastion_pdq' = '{PDQ}']", "2026-02-01T00:00:03.000000Z"),
        _indicator(4, "[file:hashes.'SHA-256' = '" + "ab" * 32 + "']", "2026-02-01T00:00:04Z"),
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": "identity--9b7f5a3e-1c2d-4e6f-8a0b-1c2d3e4f5a6b",
            "created": "2026-02-01T00:00:00.000Z",
            "modified": "2026-02-01T00:00:00.000Z",
            "name": "A partner",
            "_date_added": "2026-02-01T00:00:05.000000Z",
        },
    ]
    manifest = [
        {
            "id": obj["id"],
            "date_added": obj["_date_added"],
            "version": obj["modified"],
            "media_type": "application/stix+json;version=2.1",
        }
        for obj in objects
    ]
    return {
        "/discovery": {
            "title": "medallion under test",
            "default": "/trustgroup1/",
            "api_roots": ["/trustgroup1/"],  # relative: resolved against the discovery URL
        },
        "trustgroup1": {
            "information": {
                "title": "Trust group 1",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 9_765_625,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION,
                    "title": "Hashes of known TVEC",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": objects,
                    "manifest": manifest,
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def medallion(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """medallion on loopback; its base URL (the API root is ``<base>/trustgroup1/``)."""
    import medallion as medallion_package  # type: ignore[import-untyped]

    folder: Path = tmp_path_factory.mktemp("medallion")
    data = folder / "data.json"
    data.write_text(json.dumps(_data()))
    config = folder / "config.json"
    config.write_text(
        json.dumps(
            {
                "backend": {
                    "module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend",
                    "filename": str(data),
                },
                "users": {"reader": "s3cret"},
                "taxii": {"max_page_size": 100},
            }
        )
    )
    app = medallion_package.load_app(str(config))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


CREDENTIALS = {"username": "reader", "password": "s3cret"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        share_allow_private=True,
        share_page_objects=2,  # medallion pages with one session "next" token
        share_poll_enabled=False,
    )


def test_subscribe_poll_and_send_a_sighting(
    medallion: str, bastion: Bastion, settings: Settings
) -> None:
    api_root = f"{medallion}/trustgroup1/"
    found = list_collections(f"{medallion}/taxii2/", CREDENTIALS, settings)
    assert [c["id"] for c in found] == [COLLECTION]
    with bastion.db.session() as session:
        bastion.banks.create(session, name="from-medallion", actor="test", source="partner")
        bastion.partners.create(
            session,
            name="medallion",
            kind="taxii",
            url=api_root,
            actor="test",
            credentials=CREDENTIALS,
        )
        sub = bastion.subscriptions.create(
            session,
            partner="medallion",
            bank="from-medallion",
            remote_collection=COLLECTION,
            actor="test",
        )
    assert sub.require_signature is False  # a third-party TAXII server cannot sign

    report = bastion.subscriptions.poll(sub.id, actor="test")
    assert report.error_code == "", report.error
    assert report.added == 4 and report.ignored >= 1 and report.pages >= 3
    with bastion.db.session() as session:
        rows = session.scalars(select(BankEntryRow).order_by(BankEntryRow.id)).all()
        entries = [(r.signal_type, r.value, r.added_from, r.added_by) for r in rows]
        checkpoint = bastion.subscriptions.get(session, sub.id).checkpoint
    provenance = f"taxii:{api_root}collections/{COLLECTION}/"
    assert {e[0] for e in entries} == {"md5", "pdq", "sha256"}
    assert {e[2] for e in entries} == {provenance}
    assert {e[3] for e in entries} == {"partner:medallion"}
    assert checkpoint["added_after"] >= "2026-02-01T00:00:05.000000Z"
    # Nothing new: the next poll reads only the last object again (objects may share its
    # date_added, so a poll resumes a microsecond before it) and adds nothing.
    again = bastion.subscriptions.poll(sub.id, actor="test")
    assert (again.objects, again.added, again.updated) == (1, 0, 0)

    source = TaxiiFeedSource(api_root, COLLECTION, CREDENTIALS, settings, require_signature=False)
    indicator_id = "indicator--6a1c5e7b-3d2f-4c8a-9b1e-000000000001"
    seen = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    status_id = source.send_feedback(Feedback("sighting", indicator_id, seen, count=2))
    assert status_id
    # Read back from medallion: the sighting is in the collection now; a poll counts it among
    # the objects that are not entries.
    answer = httpx.get(
        f"{api_root}collections/{COLLECTION}/objects/",
        params={"match[type]": "sighting"},
        auth=("reader", "s3cret"),
        headers={"Accept": "application/taxii+json;version=2.1"},
    )
    posted = answer.json()["objects"]
    assert (indicator_id, 2) in [(o["sighting_of_ref"], o["count"]) for o in posted]
    later = list(source.pages({"added_after": "2026-02-01T00:00:05.000000Z"}))
    assert sum(page.ignored for page in later) >= 1
    assert sum(len(page.items) for page in later) == 0
