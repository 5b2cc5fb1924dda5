"""NCMEC's hash-sharing XML API (v2), as python-threatexchange's client documents it.

HTTP basic authentication. ``GET <environment>/v2/entries?from=&to=`` answers ``<images
maxTimestamp=...>`` and ``<videos ...>`` holding ``<image>``/``<video>`` (or ``<deletedImage>``/
``<deletedVideo>``) entries ``<id/><member id=""/><classification/><fingerprints><md5/><pdq/>
...</fingerprints>``, and ``<paging><next>/v2/entries?...&start=&size=&max=</next></paging>``.
Entries are *not* in time order, so the ``from`` time only moves once a whole ``[from, to]``
window is read; while paging, the checkpoint holds the window and the ``next`` path.

Feedback is an up- or down-vote on one fingerprint of one entry:
``PUT v2/entries/<member>/<entry>/<FINGERPRINT>/feedback``; a down-vote names a reason from
``GET v2/feedback/<FINGERPRINT>/reasons``. An item's id is ``<member>/<entry>/<FINGERPRINT>`` so a
vote finds its way back.
"""

from __future__ import annotations

import base64
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from bastion.errors import InvalidInput, RemoteFeedInvalid
from bastion.settings import Settings
from bastion.share.exchanges._http import PartnerHttp, join
from bastion.share.exchanges._pages import (
    Record,
    answer_pages,
    item_or_refusal,
    refusal,
    revocation,
    skip_of,
)
from bastion.share.feeds import Feedback, FeedPage

try:  # the environments' addresses, from python-threatexchange when it is installed
    from threatexchange.exchanges.clients.ncmec.hash_api import NCMECEnvironment

    ENVIRONMENTS: dict[str, str] = {e.name: str(e.value) for e in NCMECEnvironment}
except ImportError:  # pragma: no cover - it is a dependency
    ENVIRONMENTS = {"Industry": "https://report.cybertip.org/hashsharing"}

_DATE: Final = "%Y-%m-%dT%H:%M:%SZ"
_NS: Final = "https://hashsharing.ncmec.org/hashsharing/v2"
_SETTLE_SECONDS: Final = 5  # NCMEC's index lags a little; stop the window just short of now
# NCMEC fingerprint element names (lower case in entries, upper case in feedback paths).
SIGNAL_TYPES: Final = {"md5": "md5", "pdq": "pdq"}


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


class NcmecSource:
    def __init__(
        self,
        http: PartnerHttp,
        *,
        base_url: str,
        username: str,
        password: str,
        environment: str,
        labels: list[str],
        negative_reason: str,
        settings: Settings,
    ) -> None:
        self._http = http
        self._base = base_url or ENVIRONMENTS.get(environment or "Industry", "")
        if not self._base:
            known = ", ".join(ENVIRONMENTS)
            raise InvalidInput(f"unknown NCMEC environment {environment[:64]!r}; known: {known}")
        basic = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._auth = f"Basic {basic}"
        self._labels = labels
        self._negative_reason = negative_reason
        self._page_size = settings.share_page_objects
        self._provenance = f"ncmec:{environment or 'Industry'}"

    def __repr__(self) -> str:
        return f"NcmecSource({self._provenance!r})"  # never the credentials

    def _get(self, url: str, params: Mapping[str, str] | None = None) -> ET.Element:
        answer = self._http.request(
            "GET", url, params=params, headers={"Authorization": self._auth}
        )
        try:
            return SafeET.fromstring(answer.body)
        except (ET.ParseError, DefusedXmlException, ValueError):
            raise RemoteFeedInvalid("ncmec sent an answer that is not well-formed XML") from None

    def pages(self, checkpoint: Mapping[str, Any]) -> Iterator[FeedPage]:
        start, end, next_path = (
            checkpoint.get("from", 0),
            checkpoint.get("to"),
            checkpoint.get("next", ""),
        )
        if not isinstance(start, int) or not isinstance(next_path, str):
            raise InvalidInput("the NCMEC checkpoint is corrupt")
        if not isinstance(end, int):
            end, next_path = int(time.time()) - _SETTLE_SECONDS, ""
        if end <= start:
            return
        skip = skip_of(checkpoint)
        while True:
            if next_path:
                # ``next`` is a path on the same server; never a URL of the partner's choosing.
                if not next_path.startswith("/v2/entries?"):
                    raise RemoteFeedInvalid("ncmec sent a next page outside /v2/entries")
                root = self._get(self._base.rstrip("/") + next_path)
            else:
                root = self._get(
                    join(self._base, "v2", "entries"),
                    {"from": _date(start), "to": _date(end)},
                )
            records, following = self._parse(root)
            window = {"from": start, "to": end}
            yield from answer_pages(
                records,
                request={**window, "next": next_path} if next_path else window,
                after={**window, "next": following} if following else {"from": end},
                more=bool(following),
                page_size=self._page_size,
                skip=skip,
            )
            if not following:
                return
            if following == next_path:
                raise RemoteFeedInvalid("ncmec sent the same next page again")
            next_path, skip = following, 0

    def _parse(self, root: ET.Element) -> tuple[list[Record], str]:
        records: list[Record] = []
        for part in root:
            if _local(part.tag) not in ("images", "videos"):
                continue
            for element in part:
                records.extend(self._entry(element))
        paging = _child(root, "paging")
        following = ""
        if paging is not None:
            found = _child(paging, "next")
            following = (found.text or "").strip() if found is not None else ""
        return records, following

    def _entry(self, element: ET.Element) -> list[Record]:
        kind = _local(element.tag)
        ident, member = _child(element, "id"), _child(element, "member")
        entry_id = (ident.text or "").strip() if ident is not None else ""
        member_id = (member.get("id") or "").strip() if member is not None else ""
        if not entry_id or not member_id.isdigit() or "/" in entry_id:
            return [refusal(kind, RemoteFeedInvalid.code, "an entry without an id or member")]
        prefix = f"{member_id}/{entry_id}"
        listed = _child(element, "fingerprints")
        fingerprints = {
            _local(f.tag).lower(): (f.text or "").strip()
            for f in (listed if listed is not None else [])
            if (f.text or "").strip()
        }
        if kind.startswith("deleted"):
            names = fingerprints or SIGNAL_TYPES  # a deletion may not repeat its fingerprints
            return [revocation(f"{prefix}/{name.upper()}") for name in names]
        classification = _child(element, "classification")
        note = f"NCMEC {kind}"
        if classification is not None and classification.text:
            note += f"; classification {classification.text.strip()[:64]}"
        return [
            item_or_refusal(
                f"{prefix}/{name.upper()}",
                SIGNAL_TYPES.get(name),
                value,
                foreign_type=name,
                added_from=self._provenance,
                labels=self._labels,
                note=note,
            )
            for name, value in fingerprints.items()
        ]

    def send_feedback(self, feedback: Feedback) -> str:
        if feedback.kind != "opinion" or not feedback.opinion or feedback.opinion == "neutral":
            raise InvalidInput("NCMEC takes up- or down-votes only: an agree or disagree opinion")
        parts = feedback.external_id.split("/")
        if len(parts) != 3 or not parts[0].isdigit() or not all(parts):
            raise InvalidInput("not an NCMEC item id (member/entry/FINGERPRINT)")
        member, entry_id, fingerprint = parts
        root = ET.Element("feedbackSubmission", {"xmlns": _NS})
        if feedback.opinion.endswith("disagree"):
            vote = ET.SubElement(root, "negative")
            guid = ET.SubElement(ET.SubElement(vote, "reasonIds"), "guid")
            guid.text = self._reason(fingerprint)
            kind = "downvote"
        else:
            ET.SubElement(root, "affirmative")
            kind = "upvote"
        self._http.request(
            "PUT",
            join(self._base, "v2", "entries", member, entry_id, fingerprint, "feedback"),
            headers={
                "Authorization": self._auth,
                "Content-Type": "application/xml; charset=utf-8",
            },
            content=ET.tostring(root),
        )
        return f"ncmec:{kind}:{feedback.external_id}"

    def _reason(self, fingerprint: str) -> str:
        """The down-vote reason: the partner's ``negative_reason`` option, or the only one."""
        if self._negative_reason:
            return self._negative_reason
        root = self._get(join(self._base, "v2", "feedback", fingerprint, "reasons"))
        found = _child(root, "availableFeedbackReasons")
        reasons = [r.get("guid", "") for r in (found if found is not None else root)]
        reasons = [r for r in reasons if r]
        if len(reasons) != 1:
            raise InvalidInput(
                "NCMEC offers several down-vote reasons: set the partner option "
                "'negative_reason' to one of their guids",
                reasons=reasons[:20],
            )
        return reasons[0]


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime(_DATE)
