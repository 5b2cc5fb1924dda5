"""``bastion db ...``: schema migrations."""

from __future__ import annotations

import typer

from bastion.cli.context import open_bastion
from bastion.cli.output import FormatOption, OutputFormat, note, print_record

app = typer.Typer(help="Database schema: apply migrations, show the current revision.")


@app.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration (safe to run again)."""
    with open_bastion(upgrade=False) as bastion:
        bastion.db.upgrade()
        note(f"database at revision {bastion.db.current_revision()}")


@app.command("current")
def current(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Show the database's revision and the one this code expects."""
    with open_bastion(upgrade=False) as bastion:
        revision = bastion.db.current_revision()
        head = bastion.db.head_revision()
    print_record({"current": revision, "head": head, "up_to_date": revision == head}, fmt)
