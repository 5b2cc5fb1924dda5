"""``bastion audit ...``: read and check the hash-chained audit log.

``verify`` exits 1 when the chain is broken: like a scan match, it is a finding someone must act
on (an event was edited or removed), not a usage error.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bastion.audit.log import AuditEvent
from bastion.cli.context import open_bastion
from bastion.cli.output import FormatOption, OutputFormat, print_record, print_rows

app = typer.Typer(help="The audit log: every change to banks and keys, hash-chained.")


def event_record(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "occurred_at": event.occurred_at,
        "actor": event.actor,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "details": event.details,
        "hash": event.hash,
    }


@app.command("list")
def list_events(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Most events to list.")] = 50,
    action: Annotated[
        str | None, typer.Option(help="Only this action, e.g. bank.create.", show_default=False)
    ] = None,
    before: Annotated[
        int | None,
        typer.Option(min=1, help="Events older than this id (paging).", show_default=False),
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List audit events, newest first."""
    with open_bastion() as bastion, bastion.db.session() as session:
        events = bastion.audit.list(session, action=action, limit=limit, before_id=before)
    records = [event_record(event) for event in events]
    columns = ["id", "occurred_at", "actor", "action", "target_type", "target_id", "details"]
    rows = [[record[c] for c in columns] for record in records]
    print_rows(fmt, columns, rows, document=records, empty="no audit events")


@app.command("verify")
def verify(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Check the hash chain; exit 1 if an event was altered or removed."""
    with open_bastion() as bastion, bastion.db.session() as session:
        report = bastion.audit.verify(session)
    print_record(
        {
            "intact": report.intact,
            "events_checked": report.events_checked,
            "first_broken_id": report.first_broken_id,
        },
        fmt,
    )
    if not report.intact:
        raise typer.Exit(1)
