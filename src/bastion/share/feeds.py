"""What every partner feed gives a subscription: pages of items, each with a checkpoint.

A TAXII collection (``bastion.share.taxii_client``) and a hash programme's API
(``bastion.share.exchanges``) both read as a :class:`FeedSource`. The subscription applies one
:class:`FeedPage` in one transaction and stores its ``checkpoint`` in the same transaction, so a
page is never half applied and a poll that fails part-way resumes after the last page applied.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from bastion.banks.records import NewEntry

FeedbackKind = Literal["sighting", "opinion"]


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One item of a partner's feed: an entry to hold, or the revocation of one held before."""

    external_id: str  # the partner's id of the item: a STIX id, a descriptor id, a list row id
    entry: NewEntry | None  # None for a revocation
    modified: datetime | None = None  # the item's version; older versions than held are ignored
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[FeedItem]
    checkpoint: dict[str, Any]  # where the next poll starts once this page is applied
    more: bool = False
    # Objects the page held that are not entries (identities, markings, relationships...).
    ignored: int = 0
    # Items refused one by one (an unknown pattern, a bad hash): ``{"id", "code", "detail"}``.
    rejected: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Feedback:
    """A sighting or an opinion to send back about an item the partner shared."""

    kind: FeedbackKind
    external_id: str
    seen_at: datetime
    count: int = 1
    opinion: str = ""  # for opinions: strongly-disagree ... strongly-agree
    explanation: str = ""


class FeedSource(Protocol):
    """A partner feed, ready to read with the partner's credentials."""

    def pages(self, checkpoint: Mapping[str, Any]) -> Iterator[FeedPage]:
        """Pages after ``checkpoint`` (``{}`` on the first poll), oldest first.

        Raises :class:`bastion.errors.RemoteUnavailable`, ``RemoteRefused``, ``RemoteFeedInvalid``
        or ``FeedTooLarge``; pages already yielded stay valid.
        """
        ...

    def send_feedback(self, feedback: Feedback) -> str:
        """Deliver one piece of feedback; returns the partner's reference for it.

        Raises :class:`bastion.errors.InvalidInput` when the partner's API takes no feedback of
        this kind, and the ``Remote*`` errors when delivery fails.
        """
        ...
