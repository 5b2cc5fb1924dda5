"""The ``bastion`` Typer app, its global options, and the mapping of failures to exit codes.

Exit codes (see docs/cli.md): 0 clean, 1 matches found (or a broken audit chain), 2 usage or
input error, 3 internal error. Errors are one line on stderr; a traceback only with
``BASTION_LOG_LEVEL=debug``, because a traceback tells an operator nothing they can act on.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import OperationalError
from typer.core import TyperGroup

from bastion.cli import (
    alerts,
    audit,
    banks,
    db,
    demo,
    finance,
    hashing,
    incidents,
    index,
    keys,
    model,
    scan,
    serve,
    share,
    users,
    watch,
)
from bastion.cli.context import apply_overrides
from bastion.errors import BastionError

EXIT_OK = 0
EXIT_MATCH = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3


def _debug() -> bool:
    return os.environ.get("BASTION_LOG_LEVEL", "").strip().lower() == "debug"


def report_error(exc: BastionError) -> None:
    """``error: <code>: <detail>``, then any per-line problems the error carries (imports)."""
    sys.stderr.write(f"error: {exc.code}: {exc.detail}\n")
    items = exc.context.get("errors")
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict):
                where = next((f"{k} {item[k]}" for k in ("line", "item") if k in item), "")
                code = item.get("code", exc.code)
                sys.stderr.write(f"  {where}: {code}: {item.get('detail', '')}\n")
        total = exc.context.get("error_count")
        if isinstance(total, int) and total > len(items):
            sys.stderr.write(f"  ... and {total - len(items)} more\n")
    sys.stderr.flush()


class BastionGroup(TyperGroup):
    """Maps exceptions to exit codes inside the command, so ``run()`` and test runners agree."""

    # ``ctx`` is Typer's vendored click Context; typed loosely to avoid importing a private module.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.TyperException):
            raise  # exits and usage errors: Typer reports them (usage errors exit 2)
        except typer.Abort:
            sys.stderr.write("aborted\n")
            raise typer.Exit(EXIT_INPUT) from None
        except BastionError as exc:
            if _debug():
                traceback.print_exc()
            report_error(exc)
            raise typer.Exit(EXIT_INPUT) from exc
        except OperationalError as exc:
            # Not a bug in Bastion, but nothing the caller's input can fix either.
            if _debug():
                traceback.print_exc()
            sys.stderr.write(f"error: database_unavailable: {str(exc.orig).strip()}\n")
            raise typer.Exit(EXIT_INTERNAL) from exc
        except Exception as exc:
            if _debug():
                traceback.print_exc()
            sys.stderr.write(
                f"error: internal_error: {type(exc).__name__}: {exc} "
                "(set BASTION_LOG_LEVEL=debug for a traceback)\n"
            )
            raise typer.Exit(EXIT_INTERNAL) from exc


app = typer.Typer(
    cls=BastionGroup,
    name="bastion",
    help="Bank known terrorist and violent extremist content and scan files against the banks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global_options(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Data folder (sets BASTION_DATA_DIR for this command).", show_default=False
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL (sets BASTION_DATABASE_URL for this command).", show_default=False
        ),
    ] = None,
) -> None:
    apply_overrides(data_dir, database_url)
    logging.basicConfig(
        level=logging.DEBUG if _debug() else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


app.add_typer(db.app, name="db")
app.add_typer(banks.app, name="bank")
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.add_typer(audit.app, name="audit")
app.add_typer(alerts.app, name="alerts")
app.add_typer(incidents.app, name="incident")
app.add_typer(index.app, name="index")
app.add_typer(model.app, name="model")
app.add_typer(share.app, name="share")
app.add_typer(finance.app, name="finance")
hashing.register(app)
scan.register(app)
serve.register(app)
demo.register(app)
watch.register(app)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI in this process and return its exit code instead of exiting."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="bastion")
    except SystemExit as exc:
        if exc.code is None:
            return EXIT_OK
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    return EXIT_OK


def run() -> None:
    """The console script: usage errors exit 2 (Typer's own handling), the rest as above."""
    app(prog_name="bastion")


if __name__ == "__main__":
    run()
