"""The work behind /c: HMA's banks and "bank content" on Bastion's banks and entry groups.

An HMA bank is a Bastion bank; its ``matching_enabled_ratio`` is the bank's roll-out ratio (0 when
the bank is disabled). An HMA "bank content" is a Bastion entry group: the entries banked together
from one file or one ``/signal`` call, identified by the group id.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bastion.api.hma.matching_work import extract
from bastion.api.hma.names import (
    HMA_NAME,
    MAX_TYPES,
    HmaType,
    hma_type,
    to_bastion,
    to_hma,
    types_for,
)
from bastion.api.hma.schemas import HMA_NAME_RULE, HmaBankCreate, HmaBankUpdate, HmaContentUpdate
from bastion.api.inputs import MediaInput
from bastion.banks.from_media import entries_from_extraction
from bastion.banks.records import AddReport, BankInfo, EntryInfo, NewEntry
from bastion.errors import BankNotFound, Conflict, EntryNotFound, InvalidInput
from bastion.runtime import Bastion
from bastion.signals.base import ContentKind

# HMA's disable_until_ts: 0 disables for good, 1 enables, anything else is a unix time.
TS_DISABLED = 0
TS_ENABLED = 1
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)
_MAX_DISABLE = timedelta(days=365 * 5)
_NAME_RULE = re.compile(HMA_NAME_RULE)


# --- banks ----------------------------------------------------------------------------------------


def bank_json(info: BankInfo) -> dict[str, Any]:
    return {"name": info.name, "matching_enabled_ratio": info.enable_ratio if info.enabled else 0.0}


def _check_name(name: str) -> str:
    if not _NAME_RULE.match(name):
        raise InvalidInput(f"Bank names must be UPPER_WITH_UNDERSCORE, not {name[:130]!r}")
    return name


def _ratio(body: HmaBankCreate | HmaBankUpdate) -> float | None:
    if body.enabled_ratio is not None:
        return body.enabled_ratio
    return body.matching_enabled_ratio


def create_bank(bastion: Bastion, body: HmaBankCreate, actor: str) -> dict[str, Any]:
    ratio = _ratio(body)
    enabled = body.enabled is not False or ratio is not None
    with bastion.db.session() as session:
        info = bastion.banks.create(
            session,
            name=_check_name(body.name),
            actor=actor,
            enabled=enabled,
            enable_ratio=1.0 if ratio is None else ratio,
        )
    return bank_json(info)


def update_bank(bastion: Bastion, name: str, body: HmaBankUpdate, actor: str) -> dict[str, Any]:
    """Applied as HMA applies it: ``name``, then ``enabled``, then the ratio (which wins)."""
    enabled: bool | None = body.enabled
    ratio = 1.0 if body.enabled else None
    explicit = _ratio(body)
    if explicit is not None:
        ratio = explicit
        if explicit > 0:
            enabled = True
    with bastion.db.session() as session:
        info = bastion.banks.update(
            session,
            name,
            actor=actor,
            new_name=_check_name(body.name) if body.name is not None else None,
            enabled=enabled,
            enable_ratio=ratio,
        )
    return bank_json(info)


def delete_bank(bastion: Bastion, name: str, actor: str) -> None:
    """Deleting a bank that does not exist succeeds, as in HMA."""
    try:
        with bastion.db.session() as session:
            bastion.banks.delete(session, name, actor=actor)
    except BankNotFound:
        return


# --- bank content -------------------------------------------------------------------------------


def _source(media: MediaInput, url: str | None, content_uri: str | None) -> str:
    """Where banked content came from; a fetched URL is kept without its query (tokens)."""
    if content_uri:
        return content_uri[:1000]
    if url:
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))[:1000]
    return f"upload:{media.name}"[:1000] if media.name else "upload"


def _added(report: AddReport, names: dict[str, str], bank: str) -> dict[str, Any]:
    if not report.added:
        raise Conflict(
            f"every signal of this content is in bank {bank!r} already; nothing was added",
            duplicates=report.duplicates,
        )
    return {
        "id": report.added[0].group_id,
        "signals": {names[e.signal_type]: to_hma(e.signal_type, e.value) for e in report.added},
    }


def add_content(
    bastion: Bastion,
    bank: str,
    media: MediaInput,
    *,
    hint: ContentKind | None,
    requested: list[HmaType] | None,
    url: str | None,
    content_uri: str | None,
    note: str | None,
    actor: str,
) -> dict[str, Any]:
    """Hash a file and bank the signals of the requested (or HMA's default) types as one content."""
    with bastion.db.session() as session:
        bastion.banks.get(session, bank)  # an unknown bank fails before a long video is hashed
    extraction = extract(bastion, media, hint, for_bank=True)
    types = types_for(extraction.media.kind, requested)
    entries, skipped = entries_from_extraction(
        extraction,
        source=_source(media, url, content_uri),
        note=note or "",
        min_quality=bastion.settings.pdq_min_quality,
        signal_types=[item.bastion_type for item in types],
    )
    if not entries:
        raise InvalidInput("No signals to bank: " + ("; ".join(skipped) or "none computed"))
    with bastion.db.session() as session:
        report = bastion.banks.add_entries(session, bank, entries, actor=actor, group=True)
    return _added(report, {item.bastion_type: item.name for item in types}, bank)


def add_signals(bastion: Bastion, bank: str, body: Any, actor: str) -> dict[str, Any]:
    """``POST /c/bank/{name}/signal``: ``{signal_type: value, ...}`` banked as one content."""
    if not isinstance(body, dict) or not body:
        raise InvalidInput('No signals given: send {"<signal type>": "<value>", ...}')
    if len(body) > MAX_TYPES:
        raise InvalidInput(f"at most {MAX_TYPES} signals per content")
    names: dict[str, str] = {}
    entries: list[NewEntry] = []
    for name, value in body.items():
        item = hma_type(name)
        names.setdefault(item.bastion_type, item.name)
        entries.append(NewEntry(item.bastion_type, to_bastion(item, value), added_from="api"))
    with bastion.db.session() as session:
        report = bastion.banks.add_entries(session, bank, entries, actor=actor, group=True)
    return _added(report, names, bank)


def _disable_until_ts(entries: list[EntryInfo]) -> int:
    stamps = [e.disabled_until for e in entries if e.disabled_until is not None]
    if not stamps:
        return TS_ENABLED
    latest = max(stamps)
    return TS_DISABLED if latest >= FOREVER else int(latest.timestamp())


def content_json(
    info: BankInfo, group_id: int, entries: list[EntryInfo], signals: HmaType | bool
) -> dict[str, Any]:
    """HMA's BankContentResponse; ``signals`` is a type to show, True for all, False for none."""
    now = datetime.now(UTC)
    source = entries[0].added_from
    body: dict[str, Any] = {
        "id": group_id,
        "disable_until_ts": _disable_until_ts(entries),
        "enabled": all(e.disabled_until is None or e.disabled_until <= now for e in entries),
        "collab_metadata": {},
        "original_media_uri": source if source.startswith(("http://", "https://")) else None,
        "bank": bank_json(info),
        "note": entries[0].note or None,
        "metadata": None,
    }
    if isinstance(signals, HmaType):
        names = {signals.bastion_type: signals.name}
    elif signals:
        names = HMA_NAME
    else:
        return body
    body["signals"] = {
        names[e.signal_type]: to_hma(e.signal_type, e.value)
        for e in entries
        if e.signal_type in names
    }
    return body


def get_content(
    bastion: Bastion, bank: str, group_id: int, signals: HmaType | bool
) -> dict[str, Any]:
    with bastion.db.session() as session:
        info = bastion.banks.get(session, bank)
        entries = bastion.banks.group_entries(session, bank, group_id)
    return content_json(info, group_id, entries, signals)


def _disabled_until(body: HmaContentUpdate) -> datetime | bool | None:
    """The domain's ``disabled_until`` for an update: False leaves it, None re-enables."""
    if body.disable_until_ts is not None:
        stamp = body.disable_until_ts
        if stamp < 0:
            raise InvalidInput("disable_until_ts must be a non-negative integer")
        if stamp == TS_DISABLED:
            return FOREVER
        if stamp == TS_ENABLED:
            return None
        until = datetime.fromtimestamp(stamp, UTC)
        if until > datetime.now(UTC) + _MAX_DISABLE:
            raise InvalidInput("disable_until_ts must be less than 5 years in the future")
        return until
    if body.enabled is not None:
        return None if body.enabled else FOREVER
    return False


def update_content(
    bastion: Bastion, bank: str, group_id: int, body: HmaContentUpdate, actor: str
) -> dict[str, Any]:
    disabled = _disabled_until(body)
    with bastion.db.session() as session:
        info = bastion.banks.get(session, bank)
        entries = bastion.banks.update_group(
            session, bank, group_id, actor=actor, disabled_until=disabled, note=body.note
        )
    return content_json(info, group_id, entries, False)


def delete_content(bastion: Bastion, bank: str, group_id: int, actor: str) -> int:
    """How many contents were deleted: 1, or 0 when the bank has no such content (as HMA)."""
    with bastion.db.session() as session:
        bastion.banks.get(session, bank)
        try:
            bastion.banks.delete_group(session, bank, group_id, actor=actor)
        except EntryNotFound:
            return 0
    return 1
