"""Meta ThreatExchange (GIFCT members' hash sharing) through the Graph API's threat_updates.

``GET <graph>/<privacy group>/threat_updates?start_time=&stop_time=&limit=&fields=&after=`` answers
``{data: [indicator...], paging: {cursors: {after}, next}}``; an indicator is ``{id, indicator,
type, last_updated, should_delete, descriptors: {data: [{id, owner, tags, status}]}}`` and a
``should_delete`` (or descriptor-less) indicator is a tombstone. One poll reads the window from the
last poll's end to now: while paging, the checkpoint holds the window and the cursor; once the
window is read, its end. Paging uses the ``after`` cursor with our own URL, never the ``next`` URL,
which embeds the access token and could point anywhere.

The token goes in the ``Authorization: OAuth`` header the Graph API accepts, not ``access_token=``
in the URL, so it never reaches a log line. Feedback is a reaction on the indicator's descriptors
(SAW_THIS_TOO, HELPFUL, NON_MALICIOUS), as python-threatexchange's ``react_to_threat_descriptor``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any, Final

from bastion.errors import InvalidInput, RemoteFeedInvalid, RemoteRefused, RemoteUnavailable
from bastion.settings import Settings
from bastion.share.exchanges._http import Answer, PartnerHttp, join, parse_json
from bastion.share.exchanges._pages import (
    Record,
    answer_pages,
    item_or_refusal,
    refusal,
    revocation,
    skip_of,
    split_tags,
    timestamp,
)
from bastion.share.feeds import Feedback, FeedPage

DEFAULT_URL: Final = "https://graph.facebook.com/v26.0"  # python-threatexchange's version
MAX_PAGE: Final = 1000
FIELDS: Final = (
    "id,indicator,type,last_updated,should_delete,descriptors{id,owner{id},tags,status,added_on}"
)
SIGNAL_TYPES: Final = {
    "HASH_PDQ": "pdq",
    "HASH_MD5": "md5",
    "HASH_VIDEO_MD5": "md5",
    "HASH_SHA256": "sha256",
    "URI": "url",
    "RAW_URI": "url",
}
_REACTIONS: Final = {
    "strongly-agree": "HELPFUL",
    "agree": "HELPFUL",
    "disagree": "NON_MALICIOUS",
    "strongly-disagree": "NON_MALICIOUS",
}
_MAX_DESCRIPTORS_REACTED: Final = 20
_GRAPH_ERRORS: Final = frozenset({400})


class ThreatExchangeSource:
    def __init__(
        self,
        http: PartnerHttp,
        *,
        base_url: str,
        token: str,
        privacy_group: str,
        labels: list[str],
        settings: Settings,
    ) -> None:
        if not privacy_group.isdigit():
            raise InvalidInput("a ThreatExchange subscription names a privacy group id (digits)")
        self._http = http
        self._base = base_url or DEFAULT_URL
        self._token = token
        self._group = privacy_group
        self._labels = labels
        self._page_size = min(settings.share_page_objects, MAX_PAGE)
        self._provenance = f"threatexchange:privacy-group/{privacy_group}"

    def __repr__(self) -> str:
        return f"ThreatExchangeSource({self._group!r})"  # never the token

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"OAuth {self._token}", "Accept": "application/json"}
        answer = self._http.request(method, url, headers=headers, accept=_GRAPH_ERRORS, **kwargs)
        body = parse_json("threatexchange", answer.body)
        if answer.status != 200 or (isinstance(body, dict) and "error" in body):
            raise _graph_error(answer, body)
        return body

    def pages(self, checkpoint: Mapping[str, Any]) -> Iterator[FeedPage]:
        since, until, cursor = (
            checkpoint.get("since", 0),
            checkpoint.get("until"),
            checkpoint.get("after", ""),
        )
        if not isinstance(since, int) or not isinstance(cursor, str):
            raise InvalidInput("the ThreatExchange checkpoint is corrupt")
        if not isinstance(until, int):
            until, cursor = int(time.time()), ""  # a fresh window up to now
        skip = skip_of(checkpoint)
        while True:
            params: dict[str, str | int] = {
                "stop_time": until,
                "limit": self._page_size,
                "fields": FIELDS,
            }
            if since > 0:
                params["start_time"] = since
            if cursor:
                params["after"] = cursor
            body = self._call("GET", join(self._base, self._group, "threat_updates"), params=params)
            records, next_cursor, more = self._parse(body)
            if more and (not next_cursor or next_cursor == cursor):
                raise RemoteFeedInvalid("threatexchange gave a next page without a new cursor")
            window = {"since": since, "until": until}
            yield from answer_pages(
                records,
                request={**window, "after": cursor} if cursor else window,
                after={**window, "after": next_cursor} if more else {"since": until},
                more=more,
                page_size=self._page_size,
                skip=skip,
            )
            if not more:
                return
            cursor, skip = next_cursor, 0

    def _parse(self, body: Any) -> tuple[list[Record], str, bool]:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise RemoteFeedInvalid("threatexchange answered without a data list")
        paging = body.get("paging") or {}
        cursors = paging.get("cursors") or {} if isinstance(paging, dict) else None
        if not isinstance(paging, dict) or not isinstance(cursors, dict):
            raise RemoteFeedInvalid("threatexchange answered with malformed paging")
        cursor = cursors.get("after") or ""
        if not isinstance(cursor, str):
            raise RemoteFeedInvalid("threatexchange answered with a malformed cursor")
        records = [self._record(n, raw) for n, raw in enumerate(body["data"])]
        return records, cursor, bool(paging.get("next"))

    def _record(self, n: int, raw: Any) -> Record:
        if not isinstance(raw, dict) or not str(raw.get("id", "")).isdigit():
            return refusal(f"update {n}", RemoteFeedInvalid.code, "an update without an id")
        external_id = str(raw["id"])
        try:
            modified = timestamp(raw.get("last_updated"))
        except (ValueError, OverflowError):
            return refusal(external_id, RemoteFeedInvalid.code, "last_updated is not a time")
        descriptors = raw.get("descriptors")
        if raw.get("should_delete") or not isinstance(descriptors, dict):
            return revocation(external_id, modified)
        statuses: set[str] = set()
        tags: list[str] = []
        for descriptor in descriptors.get("data") or []:
            if not isinstance(descriptor, dict):
                continue
            statuses.add(str(descriptor.get("status", "")))
            tags.extend(_tags(descriptor.get("tags")))
        if statuses and statuses <= {"NON_MALICIOUS"}:
            # Every member who described it calls it harmless: it is no longer a signal to hold.
            return revocation(external_id, modified)
        kind, value = raw.get("type"), raw.get("indicator")
        if not isinstance(kind, str) or not isinstance(value, str):
            return refusal(external_id, RemoteFeedInvalid.code, "type or indicator missing")
        labels, others = split_tags(tags)
        note = f"ThreatExchange: {len(descriptors.get('data') or [])} descriptor(s)"
        if others:
            note += "; tags " + ", ".join(sorted(set(others)))
        return item_or_refusal(
            external_id,
            SIGNAL_TYPES.get(kind),
            value,
            foreign_type=kind,
            added_from=self._provenance,
            labels=sorted(set(self._labels) | set(labels)),
            note=note,
            modified=modified,
        )

    def send_feedback(self, feedback: Feedback) -> str:
        if feedback.kind == "sighting":
            reaction = "SAW_THIS_TOO"
        elif feedback.opinion in _REACTIONS:
            reaction = _REACTIONS[feedback.opinion]
        else:
            raise InvalidInput(
                "ThreatExchange takes sightings and agree/disagree opinions, "
                f"not {feedback.opinion or 'an empty opinion'!r}"
            )
        if not feedback.external_id.isdigit():
            raise InvalidInput("not a ThreatExchange indicator id")
        body = self._call(
            "GET", join(self._base, feedback.external_id), params={"fields": "descriptors{id}"}
        )
        found = (body.get("descriptors") or {}).get("data") if isinstance(body, dict) else None
        ids = [
            str(d["id"])
            for d in found or []
            if isinstance(d, dict) and str(d.get("id", "")).isdigit()
        ]
        if not ids:
            raise RemoteFeedInvalid(
                "threatexchange shows no descriptor of that indicator to react to"
            )
        for descriptor_id in ids[:_MAX_DESCRIPTORS_REACTED]:
            self._call("POST", join(self._base, descriptor_id), data={"reactions": reaction})
        return f"threatexchange:{reaction}:{','.join(ids[:_MAX_DESCRIPTORS_REACTED])}"


def _tags(raw: Any) -> list[str]:
    """Descriptor tags: a list of names, or Graph's ``{data: [{text}]}`` edge form."""
    if isinstance(raw, dict):
        raw = [t.get("text") for t in raw.get("data") or [] if isinstance(t, dict)]
    if not isinstance(raw, list):
        return []
    return [str(t)[:64] for t in raw if isinstance(t, str)][:50]


def _graph_error(answer: Answer, body: Any) -> Exception:
    """Graph API errors: an OAuth error (code 190, or type OAuthException) is a refusal."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and (
        error.get("type") == "OAuthException" or error.get("code") in (10, 190, 200)
    ):
        return RemoteRefused(f"threatexchange refused the access token (HTTP {answer.status})")
    return RemoteUnavailable(f"threatexchange answered an error (HTTP {answer.status})")
