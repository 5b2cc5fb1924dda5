"""Rendering shared by every command: Rich tables for people, JSON and CSV for programs.

Data goes to stdout and nothing else does: progress, summaries and per-file errors go to stderr, so
``bastion scan --format json DIR > out.json`` always yields a parseable document.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from bastion.ingest.folder import Hashed, hash_files, resolve_workers
from bastion.signals.base import HashLimits

# Piped table output would otherwise be cut to 80 columns, folding every hash in two.
_PIPE_WIDTH = 200


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format", "-f", case_sensitive=False, help="Output: table (people), json or csv."
    ),
]


def stdout_console() -> Console:
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else _PIPE_WIDTH
    return Console(file=sys.stdout, highlight=False, width=width)


def stderr_console() -> Console:
    return Console(file=sys.stderr, highlight=False, soft_wrap=True)


def jsonable(value: Any) -> Any:
    """Dataclasses, datetimes, enums and paths as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def cell(value: Any) -> str:
    """One value as text in a table or CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Mapping):
        return " ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        # ';' separated, so label cells read back through the importer's label parser.
        return ";".join(cell(v) for v in value)
    return str(value)


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(jsonable(document), indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(value) for value in row])
    sys.stdout.flush()


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> None:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        # Text, not str: a file named "[red]x" must print as itself, not as Rich markup.
        table.add_row(*(Text(cell(value)) for value in row))
    stdout_console().print(table)


def print_record(record: Mapping[str, Any], fmt: OutputFormat) -> None:
    """One object: a two-column table, a JSON object or a one-row CSV."""
    if fmt is OutputFormat.JSON:
        print_json(record)
    elif fmt is OutputFormat.CSV:
        print_csv(list(record), [list(record.values())])
    else:
        print_table(["field", "value"], record.items())


def print_rows(
    fmt: OutputFormat,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    document: Any,
    empty: str = "nothing to show",
) -> None:
    """A list of objects: a table or CSV of ``rows``, or ``document`` as JSON."""
    if fmt is OutputFormat.JSON:
        print_json(document)
    elif fmt is OutputFormat.CSV:
        print_csv(columns, rows)
    elif rows:
        print_table(columns, rows)
    else:
        note(empty)


def note(message: str) -> None:
    """A human message on stderr (never mixed into data on stdout)."""
    stderr_console().print(Text(message))


def problem(subject: str, code: str, detail: str) -> None:
    """One failed item as ``subject: code: detail`` on stderr; the work goes on."""
    sys.stderr.write(f"{subject}: {code}: {detail}\n")
    sys.stderr.flush()


class FileProgress:
    """A progress bar on stderr, shown only to a person watching a terminal.

    Started explicitly (``start``) rather than on creation, so callers can start worker
    processes first: the bar's refresh thread must not exist when they fork.
    """

    def __init__(self, total: int, *, label: str, quiet: bool) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=stderr_console(),
            disable=quiet or not sys.stderr.isatty(),
            transient=True,
        )
        self._task = self._progress.add_task(label, total=total)

    def start(self) -> None:
        self._progress.start()

    def advance(self) -> None:
        self._progress.advance(self._task)

    def stop(self) -> None:
        self._progress.stop()


def hash_with_progress(
    files: Sequence[Path],
    limits: HashLimits,
    *,
    workers: int,
    label: str,
    quiet: bool,
    for_bank: bool = False,
) -> Iterator[Hashed]:
    """Hash ``files`` on the worker pool (``workers`` 0 = one per core) behind a progress bar.

    Bad files are reported on stderr as they come; each outcome is still yielded in turn.
    """
    progress = FileProgress(len(files), label=label, quiet=quiet)
    try:
        for hashed in hash_files(
            files,
            limits,
            workers=resolve_workers(workers, len(files)),
            on_started=progress.start,
            for_bank=for_bank,
        ):
            progress.advance()
            if hashed.problem is not None:
                problem(hashed.path, hashed.problem.code, hashed.problem.detail)
            yield hashed
    finally:
        progress.stop()
