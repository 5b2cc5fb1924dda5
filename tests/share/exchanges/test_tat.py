"""Tech Against Terrorism's hash list, against a local server speaking its documented API."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from bastion.errors import FeedTooLarge, InvalidInput, RemoteFeedInvalid, RemoteRefused
from bastion.settings import Settings
from bastion.share.exchanges import TatSource, build_source
from bastion.share.feeds import Feedback

from .conftest import Programme, Reply, Seen, big_stream, md5, partner, pdq, subscription

CREDENTIALS = {"username": "alice", "password": "tat-secret-pw"}
TOKEN = "jwt-token-value-123"


def _row(n: int, **extra: Any) -> dict[str, Any]:
    row = {
        "id": n,
        "hash_digest": pdq(n),
        "algorithm": "PDQ",
        "ideology": "far-right",
        "file_type": "jpg",
        "deleted": False,
        "updated_on": 1_700_000_000 + n,
        "created_on": "2024-01-01T00:00:00Z",
    }
    row.update(extra)
    return row


def _answer(results: list[dict[str, Any]], checkpoint: str, more: bool) -> Reply:
    body = {
        "count": len(results),
        "next": "https://elsewhere.example/api/hash-list/v2/all?offset=3" if more else None,
        "previous": None,
        "checkpoint": checkpoint,
        "results": results,
    }
    return Reply(200, json.dumps(body).encode())


def tat_api(pages: dict[str, Reply]) -> Any:
    def handle(seen: Seen) -> Reply:
        if seen.method == "POST" and seen.path == "/token-auth/tcap/":
            form = dict(p.split("=", 1) for p in seen.body.decode().split("&"))
            if form.get("username") == "alice" and form.get("password") == "tat-secret-pw":
                return Reply(200, json.dumps({"token": TOKEN}).encode())
            return Reply(401, b'{"detail": "bad credentials"}')
        if seen.path.startswith("/api/hash-list/v2/"):
            if seen.headers.get("Authorization") != f"Bearer {TOKEN}":
                return Reply(403, b"{}")
            return pages.get(seen.query.get("after", ""), _answer([], seen.query["after"], False))
        return Reply(404)

    return handle


def _source(programme: Programme, settings: Settings, credentials: dict[str, str] = CREDENTIALS):
    return build_source(
        partner("tat", programme.url + "/", labels=["tvec1"]),
        credentials,
        subscription("all"),
        settings,
    )


def test_pages_map_entries_revocations_and_refusals(
    programme: Programme, settings: Settings
) -> None:
    programme.handler = tat_api(
        {
            "": _answer(
                [
                    _row(1),
                    _row(
                        2, algorithm="MD5", hash_digest=md5(2), file_type="mp4", ideology="islamist"
                    ),
                    _row(3, deleted=True),
                    _row(4, algorithm="SHA1", hash_digest="ab" * 20),
                    _row(5, hash_digest="not-a-hash"),
                ],
                "1700000005,5",
                more=True,
            ),
            "1700000005,5": _answer([_row(6)], "1700000006,6", more=False),
        }
    )
    source = _source(programme, settings)
    assert isinstance(source, TatSource)
    pages = list(source.pages({}))
    assert [p.checkpoint for p in pages] == [{"after": "1700000005,5"}, {"after": "1700000006,6"}]
    assert [p.more for p in pages] == [True, False]
    first = pages[0]
    assert [i.external_id for i in first.items] == ["1", "2", "3"]
    one = first.items[0].entry
    assert one is not None and one.signal_type == "pdq" and one.value == pdq(1)
    assert one.labels == ["tvec1"]
    assert "ideology far-right" in one.note and "file type jpg" in one.note
    assert one.added_from == "tat:hash-list/all"
    assert first.items[0].modified == datetime.fromtimestamp(1_700_000_001, UTC)
    assert first.items[1].entry is not None and first.items[1].entry.signal_type == "md5"
    assert first.items[2].revoked and first.items[2].entry is None
    assert [(r["id"], r["code"]) for r in first.rejected] == [
        ("4", "stix_unsupported"),
        ("5", "invalid_signal"),
    ]
    lists = [s for s in programme.seen if s.method == "GET"]
    assert lists[0].path == "/api/hash-list/v2/all"
    assert (
        lists[0].query == {"order": "asc", "after": "", "limit": "10"}
        or lists[0].query.get("limit") == "10"
    )
    # The absolute ``next`` URL is never followed: the second page asks our server again.
    assert lists[1].query["after"] == "1700000005,5"
    # Polling again from the last checkpoint applies nothing.
    again = list(source.pages(pages[-1].checkpoint))
    assert [len(p.items) for p in again] == [0]


def test_big_answer_is_cut_into_pages_that_resume(programme: Programme, settings: Settings) -> None:
    programme.handler = tat_api({"": _answer([_row(n) for n in range(25)], "9,24", more=False)})
    source = _source(programme, settings)
    pages = list(source.pages({}))
    assert [len(p.items) for p in pages] == [10, 10, 5]
    assert pages[0].checkpoint == {"after": "", "skip": 10} and pages[0].more
    assert pages[-1].checkpoint == {"after": "9,24"} and not pages[-1].more
    resumed = list(source.pages(pages[0].checkpoint))
    assert [p.items[0].external_id for p in resumed] == ["10", "20"]


def test_wrong_credentials_are_refused_and_never_logged(
    programme: Programme, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    programme.handler = tat_api({})
    caplog.set_level(logging.DEBUG)
    wrong = {"username": "alice", "password": "wrong-secret-pw"}
    with pytest.raises(RemoteRefused) as caught:
        list(_source(programme, settings, wrong).pages({}))
    assert "wrong-secret-pw" not in caplog.text and "wrong-secret-pw" not in str(
        caught.value.to_dict()
    )
    programme.handler = tat_api({"": _answer([_row(1)], "1,1", more=False)})
    list(_source(programme, settings).pages({}))
    assert "tat-secret-pw" not in caplog.text and TOKEN not in caplog.text
    assert "tat-secret-pw" not in repr(_source(programme, settings))


def test_malformed_answer_yields_nothing(programme: Programme, settings: Settings) -> None:
    programme.handler = tat_api({"": Reply(200, b'{"count": 1, "results": "nope"}')})
    with pytest.raises(RemoteFeedInvalid):
        list(_source(programme, settings).pages({}))
    programme.handler = tat_api({"": Reply(200, b"<html>not json")})
    with pytest.raises(RemoteFeedInvalid):
        list(_source(programme, settings).pages({}))


def test_a_million_entries_are_refused_without_reading_them_all(
    programme: Programme, settings: Settings
) -> None:
    stream = big_stream(
        b'{"count": 1000000, "next": null, "previous": null, "checkpoint": "1,1", "results": [',
        lambda n: json.dumps(_row(n)).encode(),
        1_000_000,
        b"]}",
    )
    programme.handler = tat_api({"": Reply(200, stream)})
    with pytest.raises(FeedTooLarge):
        list(_source(programme, settings).pages({}))


def test_no_feedback(programme: Programme, settings: Settings) -> None:
    with pytest.raises(InvalidInput):
        _source(programme, settings).send_feedback(
            Feedback(kind="sighting", external_id="1", seen_at=datetime.now(UTC))
        )
