"""``bastion incident ...``: crisis mode from the host (declare, list, close).

Footage goes into the incident's crisis bank with the usual bank commands (``bastion bank add``,
``bank import``, ``bank add-media``) or, from a stream the API watches, with
``POST /v1/streams/{id}/bank``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from bastion.cli.context import cli_actor, open_bastion
from bastion.cli.output import FormatOption, OutputFormat, print_record, print_rows

app = typer.Typer(help="Incidents (crisis mode): declare, list, close.")
_COLUMNS = ["id", "name", "status", "severity", "bank", "bank_entries", "open_cases", "declared_at"]


@app.command("declare")
def declare(
    name: Annotated[str, typer.Argument(help="1-120 letters, digits, '_', '.', '-'.")],
    description: Annotated[str, typer.Option(help="What is happening.")] = "",
    label: Annotated[
        list[str] | None, typer.Option("--label", help="TVEC code for the crisis bank; repeat.")
    ] = None,
    severity: Annotated[str, typer.Option(help="low, medium, high or critical.")] = "critical",
    tlp: Annotated[str, typer.Option(help="TLP 2.0 marking of the crisis bank.")] = "amber",
    bank: Annotated[
        str | None, typer.Option(help="Crisis bank name (default crisis-<name>).")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Declare an incident and create its crisis bank (audited)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.incidents.declare(
            session,
            name=name,
            actor=cli_actor(),
            description=description,
            labels=label or [],
            severity=severity,
            tlp=tlp,
            bank=bank,
        )
    print_record(dataclasses.asdict(info), fmt)


@app.command("list")
def list_incidents(
    active: Annotated[bool, typer.Option("--active", help="Only incidents not closed.")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Incidents, newest first, with their crisis bank's size and open cases."""
    with open_bastion() as bastion, bastion.db.session() as session:
        incidents = bastion.incidents.list(session, active_only=active)
    records = [dataclasses.asdict(info) for info in incidents]
    rows = [[record[c] for c in _COLUMNS] for record in records]
    print_rows(fmt, _COLUMNS, rows, document=records, empty="no incidents")


@app.command("close")
def close(
    incident_id: Annotated[int, typer.Argument(help="The incident's id.")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Close an incident (its crisis bank stays enabled)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.incidents.close(session, incident_id, actor=cli_actor())
    print_record(dataclasses.asdict(info), fmt)
