"""What every programme module shares: building entries, and cutting one answer into pages.

A programme's answer may hold more records than the caller should apply in one transaction (a
partner sending a million entries at once). :func:`answer_pages` cuts it into pages of at most
``share_page_objects`` records; every page but the last carries the checkpoint of the request
that produced the answer plus ``skip``, the number of records already handed out, so a poll that
stops part-way asks for the same answer again and skips what was applied. The last page carries
the checkpoint of the next request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bastion.banks.records import NewEntry
from bastion.errors import BastionError, InvalidInput, StixUnsupported
from bastion.share.feeds import FeedItem, FeedPage
from bastion.signals.registry import get_signal_type
from bastion.taxonomy import BY_CODE, normalize_labels

# One record of an answer: an item to apply, or a refusal ``{"id", "code", "detail"}``.
Record = FeedItem | dict[str, Any]

NOTE_LIMIT = 1000


def entry(
    signal_type: str,
    value: str,
    *,
    external_id: str,
    added_from: str,
    labels: Sequence[str] = (),
    note: str = "",
    modified: datetime | None = None,
) -> NewEntry:
    """A checked entry; raises InvalidSignal for an unknown type or a malformed value."""
    kind = get_signal_type(signal_type)
    return NewEntry(
        signal_type=kind.name,
        value=kind.normalize(value.strip()),
        labels=list(labels),
        note=note[:NOTE_LIMIT],
        added_from=added_from,
        external_id=external_id,
        external_modified=modified,
    )


def item_or_refusal(
    external_id: str,
    signal_type: str | None,
    value: str,
    *,
    foreign_type: str,
    added_from: str,
    labels: Sequence[str] = (),
    note: str = "",
    modified: datetime | None = None,
) -> Record:
    """One record: ``signal_type`` None means the programme's ``foreign_type`` has no Bastion
    equivalent, which refuses that record alone and never the page."""
    if signal_type is None:
        return refusal(
            external_id, StixUnsupported.code, f"signal type {foreign_type[:64]!r} is not supported"
        )
    try:
        new = entry(
            signal_type,
            value,
            external_id=external_id,
            added_from=added_from,
            labels=labels,
            note=note,
            modified=modified,
        )
    except BastionError as exc:
        return refusal(external_id, exc.code, exc.detail)
    return FeedItem(external_id=external_id, entry=new, modified=modified)


def revocation(external_id: str, modified: datetime | None = None) -> FeedItem:
    return FeedItem(external_id=external_id, entry=None, modified=modified, revoked=True)


def refusal(external_id: str, code: str, detail: str) -> dict[str, Any]:
    return {"id": external_id[:255], "code": code, "detail": detail[:500]}


def split_tags(tags: Sequence[str]) -> tuple[list[str], list[str]]:
    """Tags that are TVEC codes (labels), and the rest, which only fit in the note.

    Bank labels are TVEC codes only (:func:`bastion.taxonomy.normalize_labels`), so a partner's
    free-form tags ("ideology: far-right", "mp4") are kept as text rather than dropped.
    """
    labels: list[str] = []
    others: list[str] = []
    for tag in tags:
        code = tag.strip().lower().replace(".", "").replace("-", "").replace("_", "")
        if code in BY_CODE:
            labels.append(code)
        elif tag.strip():
            others.append(tag.strip())
    return labels, others


def default_labels(options: Mapping[str, Any]) -> list[str]:
    """The TVEC labels an operator set on the partner (``options.labels``) for all its entries."""
    raw = options.get("labels") or []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise InvalidInput("partner option 'labels' must be a list of TVEC codes")
    return normalize_labels(raw)


def timestamp(value: Any) -> datetime | None:
    """A Unix time (number or digits) or an ISO 8601 text as an aware datetime; None if absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromtimestamp(float(text), UTC)
        except ValueError:
            pass
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
            text = text[:-2] + ":" + text[-2:]  # Graph API writes +0000
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"not a time: {type(value).__name__}")


def answer_pages(
    records: Sequence[Record],
    *,
    request: Mapping[str, Any],
    after: dict[str, Any],
    more: bool,
    page_size: int,
    skip: int = 0,
    ignored: int = 0,
) -> Iterator[FeedPage]:
    """Pages of one answer's ``records`` from ``skip`` on; see the module documentation."""
    total = len(records)
    start = min(max(skip, 0), total)
    if start >= total:
        yield FeedPage(items=[], checkpoint=after, more=more, ignored=ignored)
        return
    while start < total:
        end = min(start + page_size, total)
        chunk = records[start:end]
        last = end >= total
        yield FeedPage(
            items=[r for r in chunk if isinstance(r, FeedItem)],
            checkpoint=after if last else {**request, "skip": end},
            more=more or not last,
            ignored=ignored if last else 0,
            rejected=[r for r in chunk if not isinstance(r, FeedItem)],
        )
        start = end


def skip_of(checkpoint: Mapping[str, Any]) -> int:
    skip = checkpoint.get("skip", 0)
    return skip if isinstance(skip, int) and skip > 0 else 0


def need(credentials: Mapping[str, str], programme: str, *names: str) -> list[str]:
    """The named credential fields, or InvalidInput naming (only) the missing fields."""
    missing = [n for n in names if not credentials.get(n)]
    if missing:
        raise InvalidInput(
            f"{programme} partner needs credential field(s): {', '.join(missing)}",
            missing=missing,
        )
    return [credentials[n] for n in names]
