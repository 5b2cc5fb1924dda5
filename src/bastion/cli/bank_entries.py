"""``bastion bank add|add-hash|add-text|add-url|import|export|entries|entry-*``: a bank's contents.

Like ``scan``, commands that take many inputs keep going past bad ones, list each on stderr and
exit 2 if any input was rejected, even when the rest was added.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from bastion.banks.exporter import ExportFormat, start_export, stream_export
from bastion.banks.from_media import entries_from_extraction
from bastion.banks.importer import ImportFormat, guess_format, import_entries
from bastion.banks.records import AddReport, EntryInfo, NewEntry
from bastion.cli.context import cli_actor, load_settings, open_bastion
from bastion.cli.output import (
    FormatOption,
    OutputFormat,
    hash_with_progress,
    note,
    print_record,
    print_rows,
    problem,
)
from bastion.content.documents import DEFAULT_LIMITS as DEFAULT_TEXT_LIMITS
from bastion.errors import InvalidInput
from bastion.ingest.folder import Problem, find_files
from bastion.signals.extract import text_extraction
from bastion.signals.registry import get_signal_type
from bastion.taxonomy import normalize_labels

NameArgument = Annotated[str, typer.Argument(help="Bank name.")]
EntryArgument = Annotated[int, typer.Argument(help="Entry id (see `bastion bank entries`).")]
LabelOption = Annotated[
    list[str] | None,
    typer.Option(
        "--label", "-l", help="TVEC label for the new entries (repeatable).", show_default=False
    ),
]
NoteOption = Annotated[str, typer.Option("--note", help="Free text kept with each new entry.")]
# Long values (a whole video's vPDQ) are summarised in tables; JSON and CSV carry them whole.
_TABLE_VALUE_CHARS = 64


def entry_record(entry: EntryInfo) -> dict[str, Any]:
    return {
        "id": entry.id,
        "bank": entry.bank,
        "signal_type": entry.signal_type,
        "value": entry.value,
        "quality": entry.quality,
        "labels": entry.labels,
        "note": entry.note,
        "added_by": entry.added_by,
        "added_from": entry.added_from,
        "added_at": entry.added_at,
        "first_seen": entry.first_seen,
        "last_seen": entry.last_seen,
        "disabled_until": entry.disabled_until,
        "group_id": entry.group_id,
        "quarantined_at": entry.quarantined_at,
        "quarantine_reason": entry.quarantine_reason,
    }


def _short(value: str) -> str:
    if len(value) <= _TABLE_VALUE_CHARS:
        return value
    lines = value.count("\n") + 1
    return f"{value[:24]}... ({lines} lines)" if lines > 1 else f"{value[:48]}..."


def _report(bank: str, report: AddReport, problems: list[Problem], fmt: OutputFormat) -> None:
    for skipped in report.skipped:
        note(f"skipped: {skipped}")
    for error in report.errors:
        where = next((f"{k} {error[k]}" for k in ("line", "item") if k in error), "?")
        problem(where, str(error.get("code", "invalid_input")), str(error.get("detail", "")))
    record = {
        "bank": bank,
        "added": len(report.added),
        "duplicates": report.duplicates,
        "skipped_low_quality": sum(1 for item in report.skipped if " quality " in item),
        "left_out": len(report.skipped),
        "rejected": len(problems) + len(report.errors),
        "entry_ids": [entry.id for entry in report.added],
    }
    if fmt is OutputFormat.JSON:
        record["skipped"] = report.skipped
        record["errors"] = report.errors + [
            {"path": p.path, "code": p.code, "detail": p.detail} for p in problems
        ]
        record["entries"] = [entry_record(entry) for entry in report.added]
    print_record(record, fmt)
    if problems or report.errors:
        raise typer.Exit(2)


def add(
    name: NameArgument,
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to hash and bank.")],
    label: LabelOption = None,
    note_text: NoteOption = "",
    signal_type: Annotated[
        list[str] | None,
        typer.Option(
            help="Only bank these signal types (repeatable), e.g. pdq.", show_default=False
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", min=0, help="Hashing processes; 0 = one per core."),
    ] = None,
    hidden: Annotated[
        bool, typer.Option("--hidden", help="Include hidden files and folders.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Hash files and folders and add their signals to a bank (provenance file:<path>)."""
    settings = load_settings()
    # Check everything cheap before hashing what may be thousands of files.
    labels = normalize_labels(label or [])
    wanted = [get_signal_type(name).name for name in signal_type] if signal_type else None
    files, problems = find_files(paths, hidden=hidden)
    for item in problems:
        problem(item.path, item.code, item.detail)
    entries: list[NewEntry] = []
    skipped: list[str] = []
    with open_bastion() as bastion:
        with bastion.db.session() as session:
            bastion.banks.get(session, name)
        hashing = hash_with_progress(
            files,
            bastion.scanner.limits,
            workers=settings.scan_workers if workers is None else workers,
            label="hashing",
            quiet=quiet,
            for_bank=True,
        )
        for hashed in hashing:
            if hashed.extraction is None:
                assert hashed.problem is not None
                problems.append(hashed.problem)
                continue
            found, left_out = entries_from_extraction(
                hashed.extraction,
                source=f"file:{hashed.path}",
                labels=labels,
                note=note_text,
                min_quality=settings.pdq_min_quality,
                signal_types=wanted,
            )
            entries.extend(found)
            skipped.extend(left_out)
        with bastion.db.session() as session:
            report = bastion.banks.add_entries(session, name, entries, actor=cli_actor())
    report.skipped.extend(skipped)
    _report(name, report, problems, fmt)


def add_hash(
    name: NameArgument,
    values: Annotated[list[str], typer.Argument(help="Hash values, e.g. PDQ as 64 hex digits.")],
    signal_type: Annotated[
        str, typer.Option("--type", "-t", help="Signal type of the values, e.g. pdq, md5.")
    ],
    label: LabelOption = None,
    note_text: NoteOption = "",
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Add hash values someone else computed (all or nothing: one bad value adds none)."""
    _add_values(name, signal_type, values, label or [], note_text, fmt)


TEXT_SIGNAL_TYPES = ("text_sha256", "text_minhash", "text_shingles")
# A text banked directly: up to what a document's extraction keeps (longer: bank it in parts).
MAX_BANKED_TEXT_CHARS = DEFAULT_TEXT_LIMITS.max_chars


def add_text(
    name: NameArgument,
    text: Annotated[str, typer.Argument(help="The post's text; '-' reads it from stdin.")],
    label: LabelOption = None,
    note_text: NoteOption = "",
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Bank a post's text: text_sha256 (exact), text_minhash (near copies) and text_shingles
    (excerpts). Its links are not banked: use add-url for those."""
    if text == "-":
        text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    if len(text) > MAX_BANKED_TEXT_CHARS:
        raise InvalidInput(
            f"text is {len(text)} characters, more than {MAX_BANKED_TEXT_CHARS}; bank it in parts",
            max_chars=MAX_BANKED_TEXT_CHARS,
        )
    labels = normalize_labels(label or [])
    found, skipped = entries_from_extraction(
        text_extraction(text),
        source="cli:text",
        labels=labels,
        note=note_text,
        signal_types=TEXT_SIGNAL_TYPES,
    )
    if not found:
        raise InvalidInput("the text has no words to bank (empty or only punctuation)")
    with open_bastion() as bastion, bastion.db.session() as session:
        report = bastion.banks.add_entries(session, name, found, actor=cli_actor())
    report.skipped.extend(skipped)
    _report(name, report, [], fmt)


def add_url(
    name: NameArgument,
    urls: Annotated[list[str], typer.Argument(help="Links, hosts or sites to bank.")],
    prefix: Annotated[
        bool,
        typer.Option("--prefix", help="Bank as url_prefix: also matches every link below it."),
    ] = False,
    domain: Annotated[
        bool,
        typer.Option("--domain", help="Bank the host as domain: matches it and its subdomains."),
    ] = False,
    label: LabelOption = None,
    note_text: NoteOption = "",
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Bank links: exact canonical URLs (default), URL prefixes or domains. All or nothing."""
    if prefix and domain:
        raise typer.BadParameter("give --prefix or --domain, not both", param_hint="--domain")
    signal_type = "url_prefix" if prefix else "domain" if domain else "url"
    _add_values(name, signal_type, urls, label or [], note_text, fmt)


def import_file(
    name: NameArgument,
    file: Annotated[Path, typer.Argument(help="CSV, JSON or JSON Lines file; - reads stdin.")],
    import_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="csv, json or jsonl; guessed from the name or content if omitted.",
            show_default=False,
        ),
    ] = None,
    partial: Annotated[
        bool, typer.Option("--partial", help="Import the good rows even if some are bad.")
    ] = False,
    output: Annotated[
        OutputFormat,
        typer.Option("--output", "-o", case_sensitive=False, help="Report as table, json or csv."),
    ] = OutputFormat.TABLE,
) -> None:
    """Import entries (columns signal_type,value,labels,note). One bad row imports nothing,
    unless --partial; every bad row is listed with its line number."""
    if str(file) == "-":
        data, source = sys.stdin.buffer.read(), "import:stdin"
    else:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise typer.BadParameter(f"{file}: {exc.strerror or exc}", param_hint="FILE") from None
        source = f"import:{file.name}"
    fmt = _import_format(import_format) if import_format else guess_format(data, file.name)
    with open_bastion() as bastion, bastion.db.session() as session:
        report = import_entries(
            bastion.banks,
            session,
            name,
            data,
            fmt=fmt,
            actor=cli_actor(),
            source=source,
            partial=partial,
        )
    _report(name, report, [], output)


def _import_format(value: str) -> ImportFormat:
    lowered = value.lower()
    if lowered == "csv":
        return "csv"
    if lowered == "json":
        return "json"
    if lowered in ("jsonl", "ndjson"):
        return "jsonl"
    raise typer.BadParameter(f"{value!r}: use csv, json or jsonl", param_hint="--format")


class ExportFormatChoice(StrEnum):
    JSONL = "jsonl"
    JSON = "json"
    CSV = "csv"


_EXPORT_FORMATS: dict[ExportFormatChoice, ExportFormat] = {
    ExportFormatChoice.JSONL: "jsonl",
    ExportFormatChoice.JSON: "json",
    ExportFormatChoice.CSV: "csv",
}


def export_bank(
    name: NameArgument,
    export_format: Annotated[
        ExportFormatChoice,
        typer.Option("--format", case_sensitive=False, help="jsonl, json or csv."),
    ] = ExportFormatChoice.JSONL,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file instead of stdout.", show_default=False
        ),
    ] = None,
    no_variants: Annotated[
        bool, typer.Option("--no-variants", help="Leave out PDQ entries' robust variants.")
    ] = False,
    skip_disabled: Annotated[
        bool,
        typer.Option("--skip-disabled", help="Leave out entries disabled until a future time."),
    ] = False,
) -> None:
    """Export a bank's entries in the form `bank import` reads (a backup, or to share a bank).

    Disabled and quarantined entries are included unless --skip-disabled."""
    with open_bastion() as bastion:
        # Its own unit of work: the audit record is committed before any entry is written, so an
        # export cut short is still on record, and an unknown bank fails before a file is made.
        with bastion.db.session() as session:
            job = start_export(
                session,
                bastion.banks,
                name,
                _EXPORT_FORMATS[export_format],
                actor=cli_actor(),
                audit=bastion.audit,
                include_variants=not no_variants,
                skip_disabled=skip_disabled,
            )
        with bastion.db.session() as session:
            chunks = stream_export(session, job)
            if output is None:
                for chunk in chunks:
                    sys.stdout.write(chunk)
                sys.stdout.flush()
            else:
                _write_atomically(output, chunks)
    where = "stdout" if output is None else str(output)
    note(f"exported {job.entry_count} entries from bank {name!r} to {where}")


def _write_atomically(path: Path, chunks: Iterator[str]) -> None:
    """Write beside ``path`` and rename at the end: a failed export never leaves a truncated
    file that looks like a complete backup."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        # newline="" keeps CSV's own line endings as written on every platform.
        with partial.open("w", encoding="utf-8", newline="") as file:
            for chunk in chunks:
                file.write(chunk)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise typer.BadParameter(f"{path}: {exc.strerror or exc}", param_hint="--output") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def entries(
    name: NameArgument,
    signal_type: Annotated[
        str | None, typer.Option(help="Only this signal type.", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most entries to list.")] = 100,
    after: Annotated[
        int, typer.Option(min=0, help="List entries with ids above this (paging).")
    ] = 0,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List a bank's entries, oldest first."""
    with open_bastion() as bastion, bastion.db.session() as session:
        found = bastion.banks.list_entries(
            session, name, signal_type=signal_type, limit=limit, after_id=after
        )
    columns = ["id", "signal_type", "value", "quality", "labels", "added_from", "disabled_until"]
    rows = [
        [e.id, e.signal_type, e.value, e.quality, e.labels, e.added_from, e.disabled_until]
        for e in found
    ]
    if fmt is OutputFormat.TABLE:
        rows = [[row[0], row[1], _short(str(row[2])), *row[3:]] for row in rows]
    print_rows(fmt, columns, rows, document=[entry_record(e) for e in found], empty="no entries")
    if len(found) == limit:
        note(f"more entries may follow: --after {found[-1].id}")


def _parse_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 time, e.g. 2026-12-01T00:00:00Z", param_hint="--until"
        ) from None


def entry_disable(
    name: NameArgument,
    entry_id: EntryArgument,
    until: Annotated[
        str, typer.Option(help="ISO 8601 time with a timezone, e.g. 2026-12-01T00:00:00Z.")
    ],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Stop an entry matching until a time (it matches again afterwards)."""
    when = _parse_time(until)
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.banks.update_entry(
            session, name, entry_id, actor=cli_actor(), disabled_until=when
        )
    print_record(entry_record(info), fmt)


def entry_enable(
    name: NameArgument, entry_id: EntryArgument, fmt: FormatOption = OutputFormat.TABLE
) -> None:
    """Let a disabled entry match again now."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.banks.update_entry(
            session, name, entry_id, actor=cli_actor(), disabled_until=None
        )
    print_record(entry_record(info), fmt)


def entry_delete(name: NameArgument, entry_id: EntryArgument) -> None:
    """Delete one entry (recorded in the audit log)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        bastion.banks.delete_entry(session, name, entry_id, actor=cli_actor())
    note(f"deleted entry {entry_id} from bank {name!r}")


def entry_release(
    name: NameArgument, entry_id: EntryArgument, fmt: FormatOption = OutputFormat.TABLE
) -> None:
    """Release an entry from flood-control quarantine: its matches may act again."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.banks.release_quarantine(session, name, entry_id, actor=cli_actor())
    print_record(entry_record(info), fmt)


def register(app: typer.Typer) -> None:
    app.command("add")(add)
    app.command("add-hash")(add_hash)
    app.command("add-text")(add_text)
    app.command("add-url")(add_url)
    app.command("import")(import_file)
    app.command("export")(export_bank)
    app.command("entries")(entries)
    app.command("entry-disable")(entry_disable)
    app.command("entry-enable")(entry_enable)
    app.command("entry-delete")(entry_delete)
    app.command("entry-release")(entry_release)


def _add_values(
    name: str,
    signal_type: str,
    values: list[str],
    labels: list[str],
    note_text: str,
    fmt: OutputFormat,
) -> None:
    """Bank values typed on the command line, all or nothing, and report what was added."""
    entries = [
        NewEntry(signal_type=signal_type, value=v, labels=labels, note=note_text, added_from="cli")
        for v in values
    ]
    with open_bastion() as bastion, bastion.db.session() as session:
        report = bastion.banks.add_entries(session, name, entries, actor=cli_actor())
    _report(name, report, [], fmt)
