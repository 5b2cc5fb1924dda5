"""``bastion bank ...``: create, list, show, change and delete banks.

Entry commands (add, import, entries, ...) live in :mod:`bastion.cli.bank_entries`; both register
on the one ``bank`` group.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from bastion.banks.records import BankInfo
from bastion.cli import bank_entries
from bastion.cli.context import cli_actor, open_bastion
from bastion.cli.output import FormatOption, OutputFormat, note, print_record, print_rows

app = typer.Typer(help="Banks of known content: positive (act on) and negative (false positives).")
bank_entries.register(app)

NameArgument = Annotated[str, typer.Argument(help="Bank name.")]
LabelOption = Annotated[
    list[str] | None,
    typer.Option(
        "--label", "-l", help="TVEC label code (repeatable), e.g. tvec1.", show_default=False
    ),
]


def parse_thresholds(values: list[str]) -> dict[str, str]:
    """``pdq=20`` pairs; the bank service checks the names and numbers."""
    thresholds: dict[str, str] = {}
    for value in values:
        name, sep, number = value.partition("=")
        if not sep or not name.strip() or not number.strip():
            raise typer.BadParameter(
                f"{value!r}: use SIGNAL=DISTANCE, e.g. pdq=20", param_hint="--threshold"
            )
        thresholds[name.strip()] = number.strip()
    return thresholds


def bank_record(info: BankInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "kind": info.kind,
        "enabled": info.enabled,
        "labels": info.labels,
        "severity": info.severity,
        "tlp": info.tlp,
        "source": info.source,
        "thresholds": info.thresholds,
        "entries": info.entry_count,
        "enable_ratio": info.enable_ratio,
        "description": info.description,
        "created_at": info.created_at,
        "updated_at": info.updated_at,
    }


@app.command("create")
def create(
    name: NameArgument,
    kind: Annotated[
        str, typer.Option(help="positive (act on matches) or negative (known false positives).")
    ] = "positive",
    label: LabelOption = None,
    severity: Annotated[str, typer.Option(help="low, medium, high or critical.")] = "high",
    tlp: Annotated[
        str, typer.Option(help="Sharing marking: clear, green, amber, amber+strict, red.")
    ] = "amber",
    threshold: Annotated[
        list[str] | None,
        typer.Option(
            help="Per-signal match threshold, e.g. pdq=20 (repeatable).", show_default=False
        ),
    ] = None,
    description: Annotated[
        str, typer.Option(help="What the bank holds and where it came from.")
    ] = "",
    ratio: Annotated[
        float,
        typer.Option(
            "--ratio", min=0.0, max=1.0, help="Share of content matched against it (roll-out)."
        ),
    ] = 1.0,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Create a bank."""
    thresholds = parse_thresholds(threshold or [])
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.banks.create(
            session,
            name=name,
            actor=cli_actor(),
            description=description,
            kind=kind,
            labels=label or [],
            severity=severity,
            tlp=tlp,
            thresholds=thresholds,
            enable_ratio=ratio,
        )
    print_record(bank_record(info), fmt)


@app.command("list")
def list_banks(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List every bank with its entry count."""
    with open_bastion() as bastion, bastion.db.session() as session:
        banks = bastion.banks.list(session)
    columns = ["name", "kind", "enabled", "entries", "labels", "severity", "tlp", "thresholds"]
    rows = [[bank_record(b)[c] for c in columns] for b in banks]
    print_rows(fmt, columns, rows, document=[bank_record(b) for b in banks], empty="no banks yet")


@app.command("show")
def show(name: NameArgument, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Show one bank."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.banks.get(session, name)
    print_record(bank_record(info), fmt)


def _update(name: str, fmt: OutputFormat, **changes: Any) -> None:
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.banks.update(session, name, actor=cli_actor(), **changes)
    print_record(bank_record(info), fmt)


@app.command("rename")
def rename(
    old: Annotated[str, typer.Argument(help="Current name.")],
    new: Annotated[str, typer.Argument(help="New name.")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Rename a bank (its entries and history stay with it)."""
    _update(old, fmt, new_name=new)


@app.command("enable")
def enable(name: NameArgument, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Match against this bank again."""
    _update(name, fmt, enabled=True)


@app.command("rollout")
def rollout(
    name: NameArgument,
    ratio: Annotated[
        float, typer.Argument(min=0.0, max=1.0, help="Share of content, 0 to 1 (1 = all).")
    ],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Match only this share of content against the bank (gradual roll-out of a new bank)."""
    _update(name, fmt, enable_ratio=ratio)


@app.command("disable")
def disable(name: NameArgument, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Stop matching against this bank without deleting it."""
    _update(name, fmt, enabled=False)


@app.command("delete")
def delete(
    name: NameArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a bank and all its entries (recorded in the audit log)."""
    if not yes:
        if not sys.stdin.isatty():
            # A script that forgot --yes must fail loudly, not hang on a prompt or delete.
            raise typer.BadParameter(
                "deleting a bank needs --yes when not run interactively", param_hint="--yes"
            )
        if not typer.confirm(f"Delete bank {name!r} and all its entries?"):
            note("nothing deleted")
            return
    with open_bastion() as bastion, bastion.db.session() as session:
        bastion.banks.delete(session, name, actor=cli_actor())
    note(f"deleted bank {name!r}")
