"""``bastion scan``: hash files in parallel, match them against the banks, report the matches.

Exit code precedence: 1 when any file has a positive, unsuppressed match, even if other files
were bad, because a match is what the caller must act on; otherwise 2 when any path or file could
not be scanned; otherwise 0. Every bad file is still listed on stderr, whatever the exit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from bastion.cli.context import load_settings, open_bastion
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
from bastion.ingest.folder import Problem, find_files
from bastion.match.scanner import ScanResult

MATCH_COLUMNS = [
    "file",
    "bank",
    "labels",
    "signal",
    "distance",
    "threshold",
    "suppressed",
    "reason",
]

PathsArgument = Annotated[
    list[Path], typer.Argument(help="Files and folders (folders are walked recursively).")
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-w",
        min=0,
        help="Hashing processes; 0 means one per core. Default: BASTION_SCAN_WORKERS.",
        show_default=False,
    ),
]
HiddenOption = Annotated[
    bool, typer.Option("--hidden", help="Include hidden files and folders (names starting '.').")
]
NoRecordOption = Annotated[
    bool,
    typer.Option(
        "--no-record",
        help="Match only: keep no content, signal or match records (bank sightings included).",
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress bar and no summary on stderr.")
]


@dataclass(slots=True)
class FileOutcome:
    path: str
    result: ScanResult | None = None
    problem: Problem | None = None

    @property
    def status(self) -> str:
        if self.problem is not None or self.result is None:
            return "error"
        if self.result.matched:
            return "matched"
        if any(m.bank_kind == "positive" for m in self.result.matches):
            return "suppressed"
        return "clean"

    def to_dict(self) -> dict[str, Any]:
        if self.result is None:
            assert self.problem is not None
            return {
                "path": self.path,
                "status": "error",
                "error": {"code": self.problem.code, "detail": self.problem.detail},
            }
        return {"path": self.path, "status": self.status, **self.result.to_dict()}


def exit_code(outcomes: list[FileOutcome], walk_problems: list[Problem]) -> int:
    if any(outcome.status == "matched" for outcome in outcomes):
        return 1
    if walk_problems or any(outcome.status == "error" for outcome in outcomes):
        return 2
    return 0


def _summary(outcomes: list[FileOutcome], walk_problems: list[Problem]) -> dict[str, int]:
    counts = {"files": len(outcomes), "matched": 0, "suppressed": 0, "clean": 0, "error": 0}
    for outcome in outcomes:
        counts[outcome.status] += 1
    counts["error"] += len(walk_problems)
    return counts


def _match_rows(outcomes: list[FileOutcome]) -> list[list[Any]]:
    """Positive matches, active or suppressed. Negative-bank matches only explain suppression,
    which the suppressed row's reason already names; JSON keeps every match."""
    rows: list[list[Any]] = []
    for outcome in outcomes:
        if outcome.result is None:
            continue
        for match in outcome.result.matches:
            if match.bank_kind != "positive":
                continue
            rows.append(
                [
                    outcome.path,
                    match.bank,
                    match.labels,
                    match.signal_type,
                    match.distance,
                    match.threshold,
                    match.suppressed,
                    match.reason,
                ]
            )
    return rows


def _render(fmt: OutputFormat, outcomes: list[FileOutcome], summary: dict[str, int]) -> None:
    if fmt is OutputFormat.JSON:
        print_json({"summary": summary, "files": [outcome.to_dict() for outcome in outcomes]})
        return
    rows = _match_rows(outcomes)
    if fmt is OutputFormat.CSV:
        print_csv(MATCH_COLUMNS, rows)
    elif rows:
        print_table(MATCH_COLUMNS, rows)


def scan_command(
    paths: PathsArgument,
    fmt: FormatOption = OutputFormat.TABLE,
    workers: WorkersOption = None,
    hidden: HiddenOption = False,
    quiet: QuietOption = False,
    no_record: NoRecordOption = False,
) -> None:
    """Scan files and folders against every enabled bank; exit 1 if anything matched."""
    settings = load_settings()
    files, walk_problems = find_files(paths, hidden=hidden)
    for item in walk_problems:
        problem(item.path, item.code, item.detail)
    order = {str(path): index for index, path in enumerate(files)}
    outcomes: list[FileOutcome] = []
    with open_bastion() as bastion:
        for hashed in hash_with_progress(
            files,
            bastion.scanner.limits,
            workers=settings.scan_workers if workers is None else workers,
            label="scanning",
            quiet=quiet,
        ):
            if hashed.extraction is None:
                assert hashed.problem is not None
                outcomes.append(FileOutcome(hashed.path, problem=hashed.problem))
                continue
            result = bastion.scanner.scan_extraction(
                hashed.extraction,
                name=hashed.path,
                source="cli",
                size=hashed.size,
                record=not no_record,
            )
            outcomes.append(FileOutcome(hashed.path, result=result))
    outcomes.sort(key=lambda outcome: order.get(outcome.path, len(order)))
    summary = _summary(outcomes, walk_problems)
    _render(fmt, outcomes, summary)
    if not quiet:
        note(
            f"scanned {summary['files']} file(s): {summary['matched']} matched, "
            f"{summary['suppressed']} suppressed (known false positives), "
            f"{summary['clean']} clean, {summary['error']} could not be scanned"
        )
    raise typer.Exit(exit_code(outcomes, walk_problems))


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_command)
