"""``bastion alerts ...``: what an operator must look at, e.g. flood-control quarantines."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from bastion.cli.context import cli_actor, open_bastion
from bastion.cli.output import FormatOption, OutputFormat, print_record, print_rows

app = typer.Typer(help="Alerts: list and acknowledge.")
_COLUMNS = [
    "id",
    "kind",
    "severity",
    "created_at",
    "bank",
    "entry_id",
    "acknowledged_at",
    "summary",
]


@app.command("list")
def list_alerts(
    open_only: Annotated[bool, typer.Option("--open", help="Only unacknowledged alerts.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Alerts, newest first."""
    with open_bastion() as bastion, bastion.db.session() as session:
        alerts = bastion.alerts.list(session, open_only=open_only, limit=limit)
    records = [dataclasses.asdict(alert) for alert in alerts]
    rows = [[record[c] for c in _COLUMNS] for record in records]
    print_rows(fmt, _COLUMNS, rows, document=records, empty="no alerts")


@app.command("ack")
def acknowledge(
    alert_id: Annotated[int, typer.Argument(help="The alert's id.")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Acknowledge an alert (recorded in the audit log)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        alert = bastion.alerts.acknowledge(session, alert_id, actor=cli_actor())
    print_record(dataclasses.asdict(alert), fmt)
