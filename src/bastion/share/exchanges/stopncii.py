"""StopNCII.org's hash exchange API, as python-threatexchange's client documents it.

Every call carries the ``Ocp-Apim-Subscription-Key`` header and the ``x-functions-key`` of the
function called (FetchHashes and SubmitFeedback have keys of their own).
``GET <base>/FetchHashes?startTimestamp=&pageSize=&nextPageToken=`` answers ``{count,
nextPageToken, nextSetTimestamp, hasMoreRecords, hashRecords: [{lastModtimestamp, signalType,
hashValue, hashStatus, caseNumbers, CSPFeedbacks}]}``. A record is the current state of one
(signal type, hash); ``Withdrawn`` and ``Deleted`` mean drop it. While paging, the checkpoint keeps
the start time and the page token; once the answers run out it becomes ``nextSetTimestamp``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Final

from bastion.errors import InvalidInput, RemoteFeedInvalid
from bastion.settings import Settings
from bastion.share.exchanges._http import PartnerHttp, join, parse_json
from bastion.share.exchanges._pages import (
    Record,
    answer_pages,
    item_or_refusal,
    refusal,
    revocation,
    skip_of,
    timestamp,
)
from bastion.share.feeds import Feedback, FeedPage

DEFAULT_URL: Final = "https://api.stopncii.org/v1"
DEFAULT_START: Final = 10  # the API's own default start time
MAX_PAGE: Final = 800  # the page size python-threatexchange asks for

SIGNAL_TYPES: Final = {"ImagePDQ": "pdq", "VideoMD5": "md5"}
GONE: Final = frozenset({"Withdrawn", "Deleted"})
# Feedback values of the API: a match awaiting review, or a reviewed verdict.
_OPINIONS: Final = {
    "strongly-agree": "Blocked",
    "agree": "Blocked",
    "disagree": "NotBlocked",
    "strongly-disagree": "NotBlocked",
}


class StopNciiSource:
    def __init__(
        self,
        http: PartnerHttp,
        *,
        base_url: str,
        subscription_key: str,
        fetch_key: str,
        feedback_key: str,
        labels: list[str],
        settings: Settings,
    ) -> None:
        self._http = http
        self._base = base_url or DEFAULT_URL
        self._subscription_key = subscription_key
        self._fetch_key = fetch_key
        self._feedback_key = feedback_key
        self._labels = labels
        self._page_size = min(settings.share_page_objects, MAX_PAGE)
        self._provenance = "stopncii:hashes"

    def __repr__(self) -> str:
        return "StopNciiSource()"  # never the keys

    def _headers(self, function_key: str) -> dict[str, str]:
        return {
            "Ocp-Apim-Subscription-Key": self._subscription_key,
            "x-functions-key": function_key,
            "Accept": "application/json",
        }

    def pages(self, checkpoint: Mapping[str, Any]) -> Iterator[FeedPage]:
        start = checkpoint.get("start", DEFAULT_START)
        token = checkpoint.get("token", "")
        if not isinstance(start, int) or not isinstance(token, str):
            raise InvalidInput("the StopNCII checkpoint is corrupt")
        skip = skip_of(checkpoint)
        while True:
            params: dict[str, str | int] = {"startTimestamp": start, "pageSize": self._page_size}
            if token:
                params["nextPageToken"] = token
            answer = self._http.request(
                "GET",
                join(self._base, "FetchHashes"),
                params=params,
                headers=self._headers(self._fetch_key),
            )
            records, next_token, next_start, more = self._parse(parse_json("stopncii", answer.body))
            if more and (not next_token or next_token == token):
                raise RemoteFeedInvalid("stopncii said there is more but gave no new page token")
            request: dict[str, Any] = (
                {"start": start, "token": token} if token else {"start": start}
            )
            after: dict[str, Any] = (
                {"start": start, "token": next_token} if more else {"start": next_start}
            )
            yield from answer_pages(
                records,
                request=request,
                after=after,
                more=more,
                page_size=self._page_size,
                skip=skip,
            )
            if not more:
                return
            token, skip = next_token, 0

    def _parse(self, body: Any) -> tuple[list[Record], str, int, bool]:
        if not isinstance(body, dict) or not isinstance(body.get("hashRecords", []), list):
            raise RemoteFeedInvalid("stopncii answered without a list of hash records")
        more = body.get("hasMoreRecords")
        next_start = body.get("nextSetTimestamp")
        token = body.get("nextPageToken") or ""
        if (
            not isinstance(more, bool)
            or not isinstance(next_start, int)
            or isinstance(next_start, bool)
        ):
            raise RemoteFeedInvalid("stopncii answered without hasMoreRecords or nextSetTimestamp")
        if not isinstance(token, str):
            raise RemoteFeedInvalid("stopncii answered with a malformed page token")
        records = [self._record(n, raw) for n, raw in enumerate(body.get("hashRecords", []))]
        return records, token, next_start, more

    def _record(self, n: int, raw: Any) -> Record:
        if not isinstance(raw, dict):
            return refusal(f"record {n}", RemoteFeedInvalid.code, "a record is not an object")
        kind, value = raw.get("signalType"), raw.get("hashValue")
        if not isinstance(kind, str) or not isinstance(value, str) or not value:
            return refusal(f"record {n}", RemoteFeedInvalid.code, "signalType or hashValue missing")
        external_id = f"{kind}:{value.strip()}"
        try:
            modified = timestamp(raw.get("lastModtimestamp"))
        except (ValueError, OverflowError):
            return refusal(external_id, RemoteFeedInvalid.code, "lastModtimestamp is not a time")
        if raw.get("hashStatus") in GONE:
            return revocation(external_id, modified)
        return item_or_refusal(
            external_id,
            SIGNAL_TYPES.get(kind),
            value,
            foreign_type=kind,
            added_from=self._provenance,
            labels=self._labels,
            note="StopNCII",
            modified=modified,
        )

    def send_feedback(self, feedback: Feedback) -> str:
        if not self._feedback_key:
            raise InvalidInput(
                "this StopNCII partner has no 'feedback_function_key' credential to send feedback"
            )
        if feedback.kind == "sighting":
            value = "PendingReview"  # the API's value for "there was a match"
        elif feedback.opinion in _OPINIONS:
            value = _OPINIONS[feedback.opinion]
        else:
            raise InvalidInput(
                "StopNCII takes sightings and agree/disagree opinions, "
                f"not {feedback.opinion or 'an empty opinion'!r}"
            )
        _, sep, hash_value = feedback.external_id.partition(":")
        if not sep or not hash_value:
            raise InvalidInput("not a StopNCII item id (signalType:hashValue)")
        body = {
            "count": 1,
            "hashFeedbacks": [{"hashValue": hash_value, "tags": [], "feedbackValue": value}],
        }
        self._http.request(
            "POST",
            join(self._base, "SubmitFeedback"),
            headers={**self._headers(self._feedback_key), "Content-Type": "application/json"},
            content=json.dumps(body).encode("utf-8"),
        )
        return f"stopncii:{value}:{hash_value}"
