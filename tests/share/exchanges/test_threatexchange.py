"""Meta ThreatExchange, against a local server speaking the Graph API's threat_updates."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import pytest

from bastion.errors import (
    FeedTooLarge,
    InvalidInput,
    RemoteFeedInvalid,
    RemoteRefused,
    UrlBlocked,
)
from bastion.settings import Settings
from bastion.share.exchanges import ThreatExchangeSource, build_source
from bastion.share.feeds import Feedback

from .conftest import Programme, Reply, Seen, big_stream, md5, partner, pdq, subscription

TOKEN = "1234567890|te-app-secret-abcdefghijkl"
GROUP = "303636684709969"


def _indicator(
    n: int, kind: str = "HASH_PDQ", value: str | None = None, **extra: Any
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": str(1000 + n),
        "indicator": value if value is not None else pdq(n),
        "type": kind,
        "last_updated": 1_700_000_000 + n,
        "should_delete": False,
        "descriptors": {
            "data": [
                {
                    "id": str(9000 + n),
                    "owner": {"id": "42"},
                    "tags": ["tvec1", "gifct-hash-sharing"],
                    "status": "MALICIOUS",
                }
            ]
        },
    }
    row.update(extra)
    return row


def _page(data: list[dict[str, Any]], after: str | None) -> Reply:
    paging: dict[str, Any] = {"cursors": {"before": "b", "after": after or "end"}}
    if after:
        paging["next"] = (
            f"https://graph.facebook.com/v26.0/x/threat_updates?access_token={TOKEN}&after={after}"
        )
    return Reply(200, json.dumps({"data": data, "paging": paging}).encode())


def graph_api(pages: dict[str, Reply]) -> Any:
    def handle(seen: Seen) -> Reply:
        if seen.headers.get("Authorization") != f"OAuth {TOKEN}":
            error = {
                "message": "Invalid OAuth access token.",
                "type": "OAuthException",
                "code": 190,
            }
            return Reply(400, json.dumps({"error": error}).encode())
        if seen.path == f"/{GROUP}/threat_updates" and seen.method == "GET":
            assert "access_token" not in seen.query
            return pages[seen.query.get("after", "")]
        if seen.method == "GET" and seen.path == "/1001":
            assert seen.query["fields"] == "descriptors{id}"
            return Reply(
                200, b'{"id": "1001", "descriptors": {"data": [{"id": "9001"}, {"id": "9002"}]}}'
            )
        if seen.method == "POST" and seen.path in ("/9001", "/9002"):
            return Reply(200, b'{"success": true}')
        return Reply(404, b"{}")

    return handle


def _source(programme: Programme, settings: Settings, token: str = TOKEN) -> ThreatExchangeSource:
    source = build_source(
        partner("threatexchange", programme.url),
        {"access_token": token},
        subscription(GROUP),
        settings,
    )
    assert isinstance(source, ThreatExchangeSource)
    return source


def test_threat_updates_pages(programme: Programme, settings: Settings) -> None:
    programme.handler = graph_api(
        {
            "": _page(
                [
                    _indicator(1),
                    _indicator(2, "HASH_MD5", md5(2)),
                    _indicator(3, should_delete=True),
                    {"id": "1004", "type": "HASH_PDQ", "indicator": pdq(4), "last_updated": 1},
                    _indicator(5, "HASH_TMK", "tmk-data"),
                    _indicator(6, descriptors={"data": [{"id": "1", "status": "NON_MALICIOUS"}]}),
                ],
                "cursor-1",
            ),
            "cursor-1": _page([_indicator(7, "URI", "https://example.org/bad")], None),
        }
    )
    source = _source(programme, settings)
    pages = list(source.pages({"since": 1_600_000_000}))
    first, second = pages
    assert first.more and not second.more
    until = first.checkpoint["until"]
    assert first.checkpoint == {"since": 1_600_000_000, "until": until, "after": "cursor-1"}
    assert second.checkpoint == {"since": until}
    assert [i.external_id for i in first.items] == ["1001", "1002", "1003", "1004", "1006"]
    entry = first.items[0].entry
    assert entry is not None and entry.signal_type == "pdq" and entry.labels == ["tvec1"]
    assert "gifct-hash-sharing" in entry.note
    assert entry.added_from == f"threatexchange:privacy-group/{GROUP}"
    assert first.items[0].modified == datetime.fromtimestamp(1_700_000_001, UTC)
    assert first.items[1].entry is not None and first.items[1].entry.signal_type == "md5"
    assert [i.revoked for i in first.items] == [False, False, True, True, True]
    assert [(r["id"], r["code"]) for r in first.rejected] == [("1005", "stix_unsupported")]
    assert second.items[0].entry is not None and second.items[0].entry.signal_type == "url"
    asked = [s.query for s in programme.seen]
    assert asked[0]["start_time"] == "1600000000" and asked[0]["limit"] == "10"
    assert "descriptors{" in asked[0]["fields"] and asked[1]["after"] == "cursor-1"


def test_resume_mid_window_uses_the_cursor(programme: Programme, settings: Settings) -> None:
    programme.handler = graph_api({"cursor-1": _page([_indicator(7)], None)})
    pages = list(_source(programme, settings).pages({"since": 5, "until": 99, "after": "cursor-1"}))
    assert pages[-1].checkpoint == {"since": 99}
    assert programme.seen[0].query["stop_time"] == "99"


def test_bad_token_is_refused_and_never_logged(
    programme: Programme, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    programme.handler = graph_api({"": _page([_indicator(1)], None)})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RemoteRefused) as caught:
        list(_source(programme, settings, "999|wrong-token-value").pages({}))
    assert "wrong-token-value" not in caplog.text + str(caught.value.to_dict())
    list(_source(programme, settings).pages({}))
    assert "te-app-secret" not in caplog.text
    assert "te-app-secret" not in repr(_source(programme, settings))


def test_malformed_and_oversize_pages(programme: Programme, settings: Settings) -> None:
    programme.handler = graph_api({"": Reply(200, b'{"data": {"not": "a list"}}')})
    with pytest.raises(RemoteFeedInvalid):
        list(_source(programme, settings).pages({}))
    huge = big_stream(b'{"data": [', lambda n: json.dumps(_indicator(n)).encode(), 1_000_000, b"]}")
    programme.handler = graph_api({"": Reply(200, huge)})
    with pytest.raises(FeedTooLarge):
        list(_source(programme, settings).pages({}))


def test_feedback_reacts_on_the_descriptors(programme: Programme, settings: Settings) -> None:
    programme.handler = graph_api({})
    source = _source(programme, settings)
    now = datetime.now(UTC)
    ref = source.send_feedback(Feedback(kind="sighting", external_id="1001", seen_at=now))
    assert ref == "threatexchange:SAW_THIS_TOO:9001,9002"
    posts = [s for s in programme.seen if s.method == "POST"]
    assert [p.path for p in posts] == ["/9001", "/9002"]
    assert parse_qs(posts[0].body.decode()) == {"reactions": ["SAW_THIS_TOO"]}
    source.send_feedback(
        Feedback(kind="opinion", external_id="1001", seen_at=now, opinion="disagree")
    )
    assert parse_qs(programme.seen[-1].body.decode()) == {"reactions": ["NON_MALICIOUS"]}
    with pytest.raises(InvalidInput):
        source.send_feedback(
            Feedback(kind="opinion", external_id="1001", seen_at=now, opinion="neutral")
        )


def test_loopback_is_refused_unless_allowed(programme: Programme, settings: Settings) -> None:
    programme.handler = graph_api({"": _page([_indicator(1)], None)})
    closed = settings.model_copy(update={"share_allow_private": False})
    with pytest.raises(UrlBlocked):
        list(_source(programme, closed).pages({}))
    assert programme.seen == []
