"""``bastion hash``: print the signals of files (MD5, SHA-256, PDQ with quality, vPDQ).

A video's vPDQ is one line per hashed frame; tables summarise it, and ``--vpdq-out`` writes it to
``<file name>.vpdq.txt`` in the line format other vPDQ tools read (``frame,quality,pdq,seconds``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from bastion.cli.context import load_settings
from bastion.cli.output import (
    FormatOption,
    OutputFormat,
    hash_with_progress,
    note,
    print_csv,
    print_json,
    print_table,
    problem,
)
from bastion.ingest.folder import Hashed, find_files
from bastion.match.scanner import limits_from
from bastion.signals.base import Signal
from bastion.signals.vpdq_format import parse_vpdq

COLUMNS = ["file", "signal", "value", "quality"]


def _vpdq_summary(signal: Signal) -> str:
    return f"{len(parse_vpdq(signal.value))} frames hashed (write them with --vpdq-out DIR)"


def _rows(hashed: list[Hashed], *, summarise_vpdq: bool) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for item in hashed:
        if item.extraction is None:
            continue
        for signal in item.extraction.signals:
            value = (
                _vpdq_summary(signal) if summarise_vpdq and signal.type == "vpdq" else signal.value
            )
            rows.append([item.path, signal.type, value, signal.quality])
    return rows


def _file_record(item: Hashed) -> dict[str, Any]:
    if item.extraction is None:
        assert item.problem is not None
        return {
            "file": item.path,
            "error": {"code": item.problem.code, "detail": item.problem.detail},
        }
    return {
        "file": item.path,
        "size": item.size,
        "media": item.extraction.media,
        "signals": [
            {k: v for k, v in dataclasses.asdict(s).items() if v is not None and v != ""}
            for s in item.extraction.signals
        ],
    }


def write_vpdq_files(hashed: list[Hashed], folder: Path) -> list[Path]:
    """One ``<name>.vpdq.txt`` per video; a name already used in this run gets ``-2``, ``-3``..."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    used: set[str] = set()
    for item in hashed:
        if item.extraction is None:
            continue
        for signal in item.extraction.signals:
            if signal.type != "vpdq":
                continue
            base = Path(item.path).name
            name, counter = f"{base}.vpdq.txt", 1
            while name in used:
                counter += 1
                name = f"{base}-{counter}.vpdq.txt"
            used.add(name)
            target = folder / name
            target.write_text(signal.value.rstrip("\n") + "\n", encoding="utf-8")
            written.append(target)
    return written


def hash_command(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (walked recursively).")],
    fmt: FormatOption = OutputFormat.TABLE,
    fps: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Video frames hashed per second; 0 hashes every frame. "
            "Default: BASTION_VIDEO_FRAMES_PER_SECOND.",
            show_default=False,
        ),
    ] = None,
    vpdq_out: Annotated[
        Path | None,
        typer.Option(
            "--vpdq-out",
            file_okay=False,
            help="Write each video's vPDQ to DIR/<name>.vpdq.txt.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", min=0, help="Hashing processes; 0 = one per core."),
    ] = None,
    hidden: Annotated[bool, typer.Option("--hidden", help="Include hidden files.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Print the signals of files without matching or recording anything."""
    settings = load_settings()
    limits = limits_from(settings)
    if fps is not None:
        limits = dataclasses.replace(limits, video_frames_per_second=fps)
    files, problems = find_files(paths, hidden=hidden)
    for item in problems:
        problem(item.path, item.code, item.detail)
    order = {str(path): index for index, path in enumerate(files)}
    results: list[Hashed] = []
    results.extend(
        hash_with_progress(
            files,
            limits,
            workers=settings.scan_workers if workers is None else workers,
            label="hashing",
            quiet=quiet,
        )
    )
    results.sort(key=lambda item: order.get(item.path, len(order)))
    if fmt is OutputFormat.JSON:
        print_json({"files": [_file_record(item) for item in results]})
    elif fmt is OutputFormat.CSV:
        print_csv(COLUMNS, _rows(results, summarise_vpdq=False))
    else:
        print_table(COLUMNS, _rows(results, summarise_vpdq=True))
    if vpdq_out is not None:
        for path in write_vpdq_files(results, vpdq_out):
            note(f"wrote {path}")
    if problems or any(item.problem is not None for item in results):
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command("hash")(hash_command)
