"""``bastion scan``: hash files in parallel, match them against the banks, report the matches.

``--text`` scans a post given as text instead (``-`` reads it from stdin); ``--caption`` and
``--ocr`` add text to media, as the API's form fields do.

Exit code precedence: 1 when any file has a positive, unsuppressed match, even if other files
were bad, because a match is what the caller must act on; otherwise 2 when any path or file could
not be scanned; otherwise 0. Every bad file is still listed on stderr, whatever the exit code.

A post or file the text classifier flags, with no bank match, exits 0 and says ``review`` in the
output (and ``"review": true`` in JSON): the classifier is a signal for a person, never a reason
for automatic action, and scripts written for "1 = matched" must not start acting on it.
"""

from __future__ import annotations

import sys
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
from bastion.cli.text_output import print_finance_stage, print_text_stage
from bastion.ingest.folder import Problem, find_files
from bastion.match.scanner import Scanner, ScanResult, check_caption, check_post_text
from bastion.settings import Settings
from bastion.signals.base import ContentKind
from bastion.signals.extract import Extraction

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
    list[Path] | None,
    typer.Argument(
        help="Files and folders (folders are walked recursively), documents included.",
        show_default=False,
    ),
]
TextOption = Annotated[
    str | None,
    typer.Option(
        "--text",
        help="Scan this post's text instead of files; '-' reads it from stdin.",
        show_default=False,
    ),
]
LanguageOption = Annotated[
    str | None,
    typer.Option(
        "--language",
        help="With --text: a language hint (en, ar, pt-BR), used when detection cannot decide.",
        show_default=False,
    ),
]
CaptionOption = Annotated[
    str | None,
    typer.Option(
        "--caption",
        help="Text posted with the media: matched and analysed with each file.",
        show_default=False,
    ),
]
OcrOption = Annotated[
    bool | None,
    typer.Option(
        "--ocr/--no-ocr",
        help="Read the text in photos (Tesseract). Default: BASTION_OCR_IMAGES.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
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
        return
    if rows:
        print_table(MATCH_COLUMNS, rows)
    for outcome in outcomes:
        if outcome.result is not None:
            rendered = outcome.result.to_dict()
            print_text_stage(outcome.path, rendered)
            print_finance_stage(outcome.path, rendered)


def _read_text(value: str) -> str:
    """``--text``: the value itself, or stdin for ``-`` (undecodable bytes replaced, not fatal)."""
    if value == "-":
        value = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    return check_post_text(value)


def _scan_post(
    text: str, *, language: str | None, fmt: OutputFormat, quiet: bool, no_record: bool
) -> None:
    """One post: the API's JSON (``--format json``), or its matches and text stage as tables."""
    with open_bastion() as bastion:
        result = bastion.scanner.scan_text(
            text, source="cli", record=not no_record, language=language
        )
    outcome = FileOutcome("text", result=result)
    if fmt is OutputFormat.JSON:
        print_json(result.to_dict())
    else:
        _render(fmt, [outcome], {})
    if not quiet:
        note(f"scanned the text: {_verdict(result)}")
    raise typer.Exit(1 if result.matched else 0)


def _verdict(result: ScanResult) -> str:
    verdict = "matched" if result.matched else "no match"
    return f"{verdict}, review" if result.review else verdict


def _with_text(
    scanner: Scanner,
    path: str,
    extraction: Extraction,
    caption: str | None,
    ocr: bool | None,
    settings: Settings,
) -> Extraction:
    """The file's extraction with the caption and OCR added (files are hashed in worker
    processes, which neither see the caption nor run OCR)."""
    read = settings.ocr_images if ocr is None else ocr
    if caption is None and not read:
        return extraction
    data = None
    if read and extraction.media.kind == ContentKind.PHOTO:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:  # gone since it was hashed: scan what was hashed, say why
            extraction.media.extra["ocr_error"] = exc.strerror or str(exc)
    return scanner.add_text(extraction, data, caption=caption, ocr=ocr)


def scan_command(
    paths: PathsArgument = None,
    fmt: FormatOption = OutputFormat.TABLE,
    as_json: JsonOption = False,
    text: TextOption = None,
    language: LanguageOption = None,
    caption: CaptionOption = None,
    ocr: OcrOption = None,
    workers: WorkersOption = None,
    hidden: HiddenOption = False,
    quiet: QuietOption = False,
    no_record: NoRecordOption = False,
) -> None:
    """Scan files and folders, or a post's text, against every enabled bank; exit 1 if anything
    matched. A classifier flag without a match says "review" and exits 0."""
    fmt = OutputFormat.JSON if as_json else fmt
    if text is not None:
        if paths:
            raise typer.BadParameter("give files or --text, not both", param_hint="--text")
        _scan_post(_read_text(text), language=language, fmt=fmt, quiet=quiet, no_record=no_record)
    if not paths:
        raise typer.BadParameter("give files or folders to scan, or --text", param_hint="PATHS")
    caption = check_caption(caption)
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
            extraction = _with_text(
                bastion.scanner, hashed.path, hashed.extraction, caption, ocr, settings
            )
            result = bastion.scanner.scan_extraction(
                extraction,
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
        review = sum(1 for o in outcomes if o.result is not None and o.result.review)
        if review:
            note(f"{review} file(s) to review (text classifier or quarantined entry; no action)")
    raise typer.Exit(exit_code(outcomes, walk_problems))


def register(app: typer.Typer) -> None:
    app.command("scan")(scan_command)
