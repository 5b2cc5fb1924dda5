"""NCMEC's hash-sharing API, against a local server speaking its v2 XML API."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bastion.errors import FeedTooLarge, InvalidInput, RemoteFeedInvalid, RemoteRefused
from bastion.settings import Settings
from bastion.share.exchanges import NcmecSource, build_source
from bastion.share.feeds import Feedback

from .conftest import Programme, Reply, Seen, md5, partner, pdq, subscription

CREDENTIALS = {"username": "esp-user", "password": "ncmec-secret-pw"}
GOOD_AUTH = "Basic " + base64.b64encode(b"esp-user:ncmec-secret-pw").decode()
NS = "https://hashsharing.ncmec.org/hashsharing/v2"


def _image(n: int, *, deleted: bool = False, extra: str = "") -> str:
    tag = "deletedImage" if deleted else "image"
    prints = (
        ""
        if deleted
        else f"<fingerprints><md5>{md5(n)}</md5><pdq>{pdq(n)}</pdq>{extra}</fingerprints>"
    )
    return (
        f"<{tag}><id>entry-{n}</id><member id='7'>Some ESP</member>"
        f"<classification>A1</classification>{prints}</{tag}>"
    )


def _answer(images: list[str], following: str = "") -> Reply:
    escaped = following.replace("&", "&amp;")
    paging = f"<paging><next>{escaped}</next></paging>" if following else ""
    body = (
        f"<?xml version='1.0'?><queryResult xmlns='{NS}'>"
        f"<images count='{len(images)}' maxTimestamp='2024-01-01T00:00:00Z'>"
        f"{''.join(images)}</images>"
        f"{paging}</queryResult>"
    )
    return Reply(200, body.encode(), {"Content-Type": "application/xml"})


def ncmec_api(first: Reply, more: dict[str, Reply] | None = None) -> Any:
    def handle(seen: Seen) -> Reply:
        if seen.headers.get("Authorization") != GOOD_AUTH:
            return Reply(401)
        if seen.path == "/v2/entries" and seen.method == "GET":
            if "start" in seen.query:
                return (more or {})[seen.query["start"]]
            return first
        if seen.path == "/v2/feedback/PDQ/reasons":
            reasons = "<reason guid='g-1' name='Not CSAM'/>"
            tag = "availableFeedbackReasons"
            body = f"<r xmlns='{NS}'><{tag}>{reasons}</{tag}></r>"
            return Reply(200, body.encode())
        if seen.method == "PUT" and seen.path.endswith("/feedback"):
            return Reply(200, b"")
        return Reply(404)

    return handle


def _source(
    programme: Programme, settings: Settings, credentials: dict[str, str] = CREDENTIALS
) -> NcmecSource:
    source = build_source(
        partner("ncmec", programme.url), credentials, subscription("Industry"), settings
    )
    assert isinstance(source, NcmecSource)
    return source


def test_entries_window_and_next_pages(programme: Programme, settings: Settings) -> None:
    following = "/v2/entries?from=2024-01-01T00:00:00Z&to=x&start=2&size=1000&max=3"
    programme.handler = ncmec_api(
        _answer([_image(1, extra="<sha1>abcd</sha1>"), _image(2, deleted=True)], following),
        {"2": _answer([_image(3)])},
    )
    pages = list(_source(programme, settings).pages({"from": 1_700_000_000}))
    first, second = pages
    end = first.checkpoint["to"]
    assert first.checkpoint == {"from": 1_700_000_000, "to": end, "next": following} and first.more
    assert second.checkpoint == {"from": end} and not second.more
    ids = [i.external_id for i in first.items]
    assert ids == ["7/entry-1/MD5", "7/entry-1/PDQ", "7/entry-2/MD5", "7/entry-2/PDQ"]
    assert [i.revoked for i in first.items] == [False, False, True, True]
    entry = first.items[1].entry
    assert entry is not None and entry.signal_type == "pdq" and "classification A1" in entry.note
    assert [(r["id"], r["code"]) for r in first.rejected] == [
        ("7/entry-1/SHA1", "stix_unsupported")
    ]
    assert programme.seen[0].query["from"] == "2023-11-14T22:13:20Z"
    assert programme.seen[1].query["start"] == "2"


def test_next_outside_the_api_is_refused(programme: Programme, settings: Settings) -> None:
    programme.handler = ncmec_api(_answer([_image(1)]), {})
    source = _source(programme, settings)
    with pytest.raises(RemoteFeedInvalid):
        list(source.pages({"from": 1, "to": 50, "next": "//evil.example/steal"}))
    assert programme.seen == []


def test_refused_and_never_logged(
    programme: Programme, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    programme.handler = ncmec_api(_answer([_image(1)]))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RemoteRefused) as caught:
        list(
            _source(
                programme, settings, {"username": "esp-user", "password": "wrong-pw-xyz"}
            ).pages({})
        )
    assert "wrong-pw-xyz" not in caplog.text + str(caught.value.to_dict())
    list(_source(programme, settings).pages({}))
    assert "ncmec-secret-pw" not in caplog.text and GOOD_AUTH not in caplog.text
    assert "ncmec-secret-pw" not in repr(_source(programme, settings))


def test_malformed_xml_and_huge_answers(programme: Programme, settings: Settings) -> None:
    programme.handler = ncmec_api(Reply(200, b"<queryResult><images>"))
    with pytest.raises(RemoteFeedInvalid):
        list(_source(programme, settings).pages({}))
    bomb = b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;'>]><x>&b;</x>"
    programme.handler = ncmec_api(Reply(200, bomb))
    with pytest.raises(RemoteFeedInvalid):
        list(_source(programme, settings).pages({}))

    def million() -> Iterator[bytes]:
        yield f"<queryResult xmlns='{NS}'><images>".encode()
        for n in range(0, 1_000_000, 500):
            yield "".join(_image(m) for m in range(n, n + 500)).encode()
        yield b"</images></queryResult>"

    programme.handler = ncmec_api(Reply(200, million()))
    with pytest.raises(FeedTooLarge):
        list(_source(programme, settings).pages({}))


def test_feedback_votes(programme: Programme, settings: Settings) -> None:
    programme.handler = ncmec_api(_answer([]))
    source = _source(programme, settings)
    now = datetime.now(UTC)
    ref = source.send_feedback(
        Feedback(kind="opinion", external_id="7/entry-1/PDQ", seen_at=now, opinion="agree")
    )
    assert ref == "ncmec:upvote:7/entry-1/PDQ"
    put = programme.seen[-1]
    assert put.method == "PUT" and put.path == "/v2/entries/7/entry-1/PDQ/feedback"
    assert b"<affirmative" in put.body
    source.send_feedback(
        Feedback(kind="opinion", external_id="7/entry-1/PDQ", seen_at=now, opinion="disagree")
    )
    assert b"<negative><reasonIds><guid>g-1</guid>" in programme.seen[-1].body
    with pytest.raises(InvalidInput):
        source.send_feedback(Feedback(kind="sighting", external_id="7/entry-1/PDQ", seen_at=now))
