"""``bastion index ...``: the matching indexes of this process's database."""

from __future__ import annotations

import typer

from bastion.cli.context import open_bastion
from bastion.cli.output import FormatOption, OutputFormat, note, print_rows

app = typer.Typer(help="Matching indexes: status and start-up snapshots.")


@app.command("status")
def status(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Entries per signal type and the change-log version the indexes are current to."""
    with open_bastion() as bastion:
        found = bastion.scanner.cache.status()
    columns = ["signal_type", "size", "version", "updated_at"]
    records = [{"signal_type": name, **info} for name, info in found.items()]
    rows = [[record[c] for c in columns] for record in records]
    print_rows(fmt, columns, rows, document=records, empty="no bank entries yet")


@app.command("snapshot")
def snapshot() -> None:
    """Write the PDQ index to BASTION_DATA_DIR/index so new processes start fast."""
    with open_bastion() as bastion:
        path = bastion.scanner.cache.save_snapshot()
    note(f"wrote {path}" if path else "no PDQ entries: nothing to snapshot")
