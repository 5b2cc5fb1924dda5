"""Bank export: a bank's entries as CSV, JSON or JSON Lines, exactly as the importer reads them.

An export is both a backup and the way to share a bank, so ``export -> import into another bank``
must reproduce every entry's ``signal_type``, ``value``, ``labels``, ``note`` and ``variants``.
To keep that true by construction the export writes only the importer's columns
(:data:`bastion.banks.importer.COLUMNS`) and nothing else: no header line with metadata, no
provenance or state fields (the importer would reject them as unknown fields).

Exporting is split in two so callers can stream safely:

* :func:`start_export` checks the bank, counts the entries and writes the ``bank.export`` audit
  record, all in the caller's unit of work: the caller commits it *before* streaming, so an export
  cut short (a client that disconnects, a broken pipe) is still on record.
* :func:`stream_export` then reads the entries in id order in batches (one statement with
  ``yield_per``), so a bank of millions of entries never sits in memory, and a single statement
  sees one consistent state of the bank even while others change it.

:func:`export_entries` does both in one session, for callers that need no such separation.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.banks.importer import COLUMNS
from bastion.banks.service import Banks
from bastion.errors import InvalidInput
from bastion.storage.models import BankEntryRow, utcnow

ExportFormat = Literal["jsonl", "json", "csv"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "json", "csv")
MEDIA_TYPES: dict[ExportFormat, str] = {
    "jsonl": "application/x-ndjson",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
}
# Rows fetched per round trip, and entries per chunk handed to the writer: large enough that
# per-chunk overhead is negligible, small enough that a chunk stays well under a megabyte or so
# (PDQ variants make an entry about 1 KB).
BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ExportJob:
    """An export that passed its checks and is on record; :func:`stream_export` writes it."""

    bank: str
    bank_id: int
    fmt: ExportFormat
    include_variants: bool
    skip_disabled: bool
    entry_count: int
    # The moment "disabled until a future time" is judged against, fixed so that the count on
    # record and the entries streamed agree.
    as_of: datetime

    @property
    def columns(self) -> tuple[str, ...]:
        return COLUMNS if self.include_variants else tuple(c for c in COLUMNS if c != "variants")

    @property
    def filename(self) -> str:
        # Bank names are letters, digits, '_', '.' and '-', so this is safe in a header as is.
        return f"{self.bank}.{self.fmt}"

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.fmt]


def _conditions(bank_id: int, skip_disabled: bool, as_of: datetime) -> list[Any]:
    conditions: list[Any] = [BankEntryRow.bank_id == bank_id]
    if skip_disabled:
        # Entries whose disabling has lapsed match again, so they belong in the export.
        conditions.append(
            or_(BankEntryRow.disabled_until.is_(None), BankEntryRow.disabled_until <= as_of)
        )
    return conditions


def start_export(
    session: Session,
    banks: Banks,
    bank_name: str,
    fmt: ExportFormat,
    *,
    actor: str,
    audit: AuditLog,
    include_variants: bool = True,
    skip_disabled: bool = False,
) -> ExportJob:
    """Check the bank and format, count the entries and record the export in the audit log.

    Raises ``BankNotFound`` for an unknown bank and ``InvalidInput`` for an unknown format before
    anything is written, so callers can report them as ordinary errors rather than mid-stream.
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"bad export format {fmt!r}; use one of: {', '.join(EXPORT_FORMATS)}")
    bank = banks.get(session, bank_name)
    as_of = utcnow()
    count = bank.entry_count
    if skip_disabled:
        query = select(func.count()).where(*_conditions(bank.id, skip_disabled, as_of))
        count = int(session.scalar(query) or 0)
    audit.record(
        session,
        actor=actor,
        action="bank.export",
        target_type="bank",
        target_id=bank.name,
        details={
            "format": fmt,
            "entry_count": count,
            "variants": include_variants,
            "skip_disabled": skip_disabled,
        },
    )
    return ExportJob(
        bank=bank.name,
        bank_id=bank.id,
        fmt=fmt,
        include_variants=include_variants,
        skip_disabled=skip_disabled,
        entry_count=count,
        as_of=as_of,
    )


def _batches(session: Session, job: ExportJob) -> Iterator[Sequence[Any]]:
    """Entry rows in id order, ``BATCH_SIZE`` at a time (columns only: no ORM identity map)."""
    query = (
        select(
            BankEntryRow.signal_type,
            BankEntryRow.value,
            BankEntryRow.labels,
            BankEntryRow.note,
            BankEntryRow.variants,
        )
        .where(*_conditions(job.bank_id, job.skip_disabled, job.as_of))
        .order_by(BankEntryRow.id)
        .execution_options(yield_per=BATCH_SIZE)
    )
    yield from session.execute(query).partitions()


def _record(row: Any, include_variants: bool) -> dict[str, Any]:
    """One entry as the importer's JSON form: labels a list, variants an object (or absent)."""
    record: dict[str, Any] = {
        "signal_type": row.signal_type,
        "value": row.value,
        "labels": list(row.labels or []),
        "note": row.note or "",
    }
    if include_variants and row.variants is not None:
        record["variants"] = row.variants
    return record


def _compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _jsonl(batches: Iterator[Sequence[Any]], job: ExportJob) -> Iterator[str]:
    for batch in batches:
        yield "".join(_compact(_record(row, job.include_variants)) + "\n" for row in batch)


def _json(batches: Iterator[Sequence[Any]], job: ExportJob) -> Iterator[str]:
    # One array, one entry per line: still a single JSON document, but readable and diffable.
    first = True
    for batch in batches:
        parts = []
        for row in batch:
            parts.append(("[\n" if first else ",\n") + _compact(_record(row, job.include_variants)))
            first = False
        yield "".join(parts)
    yield "[]\n" if first else "\n]\n"


def _csv(batches: Iterator[Sequence[Any]], job: ExportJob) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(job.columns)
    for batch in batches:
        for row in batch:
            cells = [
                row.signal_type,
                row.value,
                # The importer's label-list form for one cell (see taxonomy.parse_label_list).
                ";".join(row.labels or []),
                row.note or "",
            ]
            if job.include_variants:
                cells.append("" if row.variants is None else _compact(row.variants))
            writer.writerow(cells)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # only the header: an empty bank
        yield buffer.getvalue()


_WRITERS = {"jsonl": _jsonl, "json": _json, "csv": _csv}


def stream_export(session: Session, job: ExportJob) -> Iterator[str]:
    """The export's text, in chunks of up to ``BATCH_SIZE`` entries, oldest entry first."""
    yield from _WRITERS[job.fmt](_batches(session, job), job)


def export_entries(
    session: Session,
    banks: Banks,
    bank_name: str,
    fmt: ExportFormat,
    *,
    actor: str,
    audit: AuditLog,
    include_variants: bool = True,
    skip_disabled: bool = False,
) -> Iterator[str]:
    """Check, record and stream an export in one session (see the module docstring).

    The checks and the audit record happen now, not on first iteration, so an unknown bank is
    reported before any output; the caller's session must stay open while the result is read.
    """
    job = start_export(
        session,
        banks,
        bank_name,
        fmt,
        actor=actor,
        audit=audit,
        include_variants=include_variants,
        skip_disabled=skip_disabled,
    )
    return stream_export(session, job)
