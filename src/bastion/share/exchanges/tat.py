"""Tech Against Terrorism's hash list (TCAP), as python-threatexchange's client documents it.

Authentication posts the username and password to ``token-auth/tcap/`` for a JWT, sent as a
bearer token. ``GET api/hash-list/v2/<list>?order=asc&after=<checkpoint>&limit=<n>`` answers
``{count, next, previous, checkpoint, results: [{id, hash_digest, algorithm, ideology, file_type,
deleted, updated_on, created_on}]}``, where ``checkpoint`` ("<timestamp>,<id>") is the position of
the page's last record: asking again with ``after=`` that checkpoint gives the next page, so we
never follow the absolute ``next`` URL (it could point anywhere). ``next`` only says whether there
is more. The list takes no feedback.
"""

from __future__ import annotations

import re
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

DEFAULT_URL: Final = "https://app.terrorismanalytics.org/"
AUTH_PATH: Final = "token-auth/tcap/"
LIST_PATH: Final = "api/hash-list/v2/"
_LIST_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")

# TAT's algorithm names; any file's MD5 is an exact hash in Bastion, not only videos'.
SIGNAL_TYPES: Final = {"PDQ": "pdq", "MD5": "md5", "SHA256": "sha256", "SHA-256": "sha256"}


class TatSource:
    """One TAT hash list (``all``, ``islamist``, ``far-right``) read as a feed."""

    def __init__(
        self,
        http: PartnerHttp,
        *,
        base_url: str,
        username: str,
        password: str,
        list_name: str,
        labels: list[str],
        settings: Settings,
    ) -> None:
        list_name = list_name or "all"
        if not _LIST_NAME.match(list_name):
            raise InvalidInput("a TAT subscription names a hash list such as 'all' or 'islamist'")
        self._http = http
        self._base = base_url or DEFAULT_URL
        self._username = username
        self._password = password
        self._list = list_name
        self._labels = labels
        self._page_size = settings.share_page_objects
        self._provenance = f"tat:hash-list/{list_name}"

    def __repr__(self) -> str:
        return f"TatSource({self._list!r})"  # never the credentials

    def _token(self) -> str:
        answer = self._http.request(
            "POST",
            join(self._base, AUTH_PATH),
            data={"username": self._username, "password": self._password, "resend": "false"},
        )
        body = parse_json("tat", answer.body)
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise RemoteFeedInvalid("tat answered the log-in without a token")
        return token

    def pages(self, checkpoint: Mapping[str, Any]) -> Iterator[FeedPage]:
        after = checkpoint.get("after", "")
        if not isinstance(after, str):
            raise InvalidInput("the TAT checkpoint is corrupt: 'after' is not text")
        skip = skip_of(checkpoint)
        token = self._token()
        while True:
            answer = self._http.request(
                "GET",
                join(self._base, LIST_PATH, self._list),
                params={"order": "asc", "after": after, "limit": self._page_size},
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
            records, next_after, more = self._parse(parse_json("tat", answer.body))
            if more and next_after in ("", after):
                raise RemoteFeedInvalid("tat said there is more but its checkpoint did not move")
            yield from answer_pages(
                records,
                request={"after": after},
                after={"after": next_after or after},
                more=more,
                page_size=self._page_size,
                skip=skip,
            )
            if not more:
                return
            after, skip = next_after, 0

    def _parse(self, body: Any) -> tuple[list[Record], str, bool]:
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise RemoteFeedInvalid("tat answered without a list of results")
        next_url = body.get("next")
        position = body.get("checkpoint") or ""
        if next_url is not None and not isinstance(next_url, str):
            raise RemoteFeedInvalid("tat answered with a malformed 'next'")
        if not isinstance(position, str):
            raise RemoteFeedInvalid("tat answered with a malformed checkpoint")
        return (
            [self._record(n, raw) for n, raw in enumerate(body["results"])],
            position,
            bool(next_url),
        )

    def _record(self, n: int, raw: Any) -> Record:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), int | str):
            return refusal(f"result {n}", RemoteFeedInvalid.code, "a result without an id")
        external_id = str(raw["id"])
        try:
            modified = timestamp(raw.get("updated_on"))
        except (ValueError, OverflowError):
            return refusal(external_id, RemoteFeedInvalid.code, "updated_on is not a time")
        if raw.get("deleted") is True:
            return revocation(external_id, modified)
        algorithm = str(raw.get("algorithm", ""))
        digest = raw.get("hash_digest")
        if not isinstance(digest, str):
            return refusal(external_id, RemoteFeedInvalid.code, "hash_digest is missing")
        # Ideology and file type are kept, but as text: bank labels are TVEC codes only.
        facts = [
            f"{name} {str(raw[key])[:64]}"
            for key, name in (("ideology", "ideology"), ("file_type", "file type"))
            if raw.get(key)
        ]
        return item_or_refusal(
            external_id,
            SIGNAL_TYPES.get(algorithm.upper()),
            digest,
            foreign_type=algorithm,
            added_from=self._provenance,
            labels=self._labels,
            note="TAT: " + "; ".join(facts) if facts else "TAT",
            modified=modified,
        )

    def send_feedback(self, feedback: Feedback) -> str:
        raise InvalidInput("Tech Against Terrorism's hash list takes no feedback")
