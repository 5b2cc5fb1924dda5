"""StopNCII.org, against a local server speaking its FetchHashes and SubmitFeedback API."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from bastion.errors import FeedTooLarge, InvalidInput, RemoteFeedInvalid, RemoteRefused
from bastion.settings import Settings
from bastion.share.exchanges import StopNciiSource, build_source
from bastion.share.feeds import Feedback

from .conftest import Programme, Reply, Seen, big_stream, md5, partner, pdq, subscription

KEYS = {
    "subscription_key": "sub-key-secret-1",
    "fetch_function_key": "fetch-key-secret-2",
    "feedback_function_key": "feedback-key-secret-3",
}


def _record(
    n: int, kind: str = "ImagePDQ", value: str | None = None, status: str = "Active"
) -> dict[str, Any]:
    return {
        "lastModtimestamp": 1_700_000_000 + n,
        "signalType": kind,
        "hashValue": value if value is not None else pdq(n),
        "hashStatus": status,
        "caseNumbers": {},
        "CSPFeedbacks": [],
    }


def _answer(records: list[dict[str, Any]], token: str | None, next_ts: int) -> Reply:
    body = {
        "count": len(records),
        "nextPageToken": token,
        "nextSetTimestamp": next_ts,
        "hasMoreRecords": token is not None,
        "hashRecords": records,
    }
    return Reply(200, json.dumps(body).encode())


def stopncii_api(pages: dict[str, Reply]) -> Any:
    def handle(seen: Seen) -> Reply:
        if seen.headers.get("Ocp-Apim-Subscription-Key") != KEYS["subscription_key"]:
            return Reply(401, b'{"message": "Access denied due to invalid subscription key."}')
        if seen.path == "/v1/FetchHashes" and seen.method == "GET":
            if seen.headers.get("x-functions-key") != KEYS["fetch_function_key"]:
                return Reply(401, b"")
            return pages[seen.query.get("nextPageToken", "")]
        if seen.path == "/v1/SubmitFeedback" and seen.method == "POST":
            if seen.headers.get("x-functions-key") != KEYS["feedback_function_key"]:
                return Reply(401, b"")
            return Reply(200, b"{}")
        return Reply(404)

    return handle


def _source(
    programme: Programme, settings: Settings, keys: dict[str, str] = KEYS
) -> StopNciiSource:
    source = build_source(
        partner("stopncii", programme.url + "/v1"), keys, subscription("hashes"), settings
    )
    assert isinstance(source, StopNciiSource)
    return source


def test_fetch_hashes_pages(programme: Programme, settings: Settings) -> None:
    programme.handler = stopncii_api(
        {
            "": _answer(
                [
                    _record(1),
                    _record(2, "VideoMD5", md5(2)),
                    _record(3, status="Withdrawn"),
                    _record(4, "VideoTMK", "tmk"),
                ],
                "token-2",
                0,
            ),
            "token-2": _answer([_record(5, status="Deleted")], None, 1_700_000_100),
        }
    )
    pages = list(_source(programme, settings).pages({"start": 1_600_000_000}))
    assert [p.checkpoint for p in pages] == [
        {"start": 1_600_000_000, "token": "token-2"},
        {"start": 1_700_000_100},
    ]
    first = pages[0]
    assert [i.external_id for i in first.items] == [
        f"ImagePDQ:{pdq(1)}",
        f"VideoMD5:{md5(2)}",
        f"ImagePDQ:{pdq(3)}",
    ]
    assert [i.revoked for i in first.items] == [False, False, True]
    assert first.items[1].entry is not None and first.items[1].entry.signal_type == "md5"
    assert first.rejected[0]["code"] == "stix_unsupported"
    assert pages[1].items[0].revoked
    assert programme.seen[0].query == {"startTimestamp": "1600000000", "pageSize": "10"}
    assert programme.seen[1].query["nextPageToken"] == "token-2"


def test_refused_keys_never_logged(
    programme: Programme, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    programme.handler = stopncii_api({"": _answer([_record(1)], None, 5)})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RemoteRefused) as caught:
        list(_source(programme, settings, {**KEYS, "subscription_key": "wrong-sub-key"}).pages({}))
    assert "wrong-sub-key" not in caplog.text + str(caught.value.to_dict())
    list(_source(programme, settings).pages({}))
    _source(programme, settings).send_feedback(
        Feedback(kind="sighting", external_id=f"ImagePDQ:{pdq(1)}", seen_at=datetime.now(UTC))
    )
    for secret in KEYS.values():
        assert secret not in caplog.text and secret not in repr(_source(programme, settings))


def test_malformed_and_oversize(programme: Programme, settings: Settings) -> None:
    programme.handler = stopncii_api(
        {"": Reply(200, b'{"hashRecords": [], "hasMoreRecords": "maybe"}')}
    )
    with pytest.raises(RemoteFeedInvalid):
        list(_source(programme, settings).pages({}))
    huge = big_stream(
        b'{"hashRecords": [', lambda n: json.dumps(_record(n)).encode(), 1_000_000, b"]}"
    )
    programme.handler = stopncii_api({"": Reply(200, huge)})
    with pytest.raises(FeedTooLarge):
        list(_source(programme, settings).pages({}))


def test_feedback(programme: Programme, settings: Settings) -> None:
    programme.handler = stopncii_api({})
    source = _source(programme, settings)
    now = datetime.now(UTC)
    ref = source.send_feedback(
        Feedback(kind="opinion", external_id=f"ImagePDQ:{pdq(1)}", seen_at=now, opinion="agree")
    )
    assert ref == f"stopncii:Blocked:{pdq(1)}"
    sent = json.loads(programme.seen[-1].body)
    assert sent == {
        "count": 1,
        "hashFeedbacks": [{"hashValue": pdq(1), "tags": [], "feedbackValue": "Blocked"}],
    }
    source.send_feedback(Feedback(kind="sighting", external_id=f"ImagePDQ:{pdq(1)}", seen_at=now))
    assert (
        json.loads(programme.seen[-1].body)["hashFeedbacks"][0]["feedbackValue"] == "PendingReview"
    )
    without = _source(
        programme, settings, {k: v for k, v in KEYS.items() if k != "feedback_function_key"}
    )
    with pytest.raises(InvalidInput):
        without.send_feedback(
            Feedback(kind="sighting", external_id=f"ImagePDQ:{pdq(1)}", seen_at=now)
        )
