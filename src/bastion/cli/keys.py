"""``bastion keys ...``: scoped API keys for the HTTP API."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from bastion.accounts.keys import SCOPES, ApiKeyInfo
from bastion.cli.context import cli_actor, open_bastion
from bastion.cli.output import (
    FormatOption,
    OutputFormat,
    note,
    print_json,
    print_record,
    print_rows,
)

app = typer.Typer(help="API keys: create (the secret is shown once), list, revoke.")

_SCOPE_HELP = "Scope (repeatable): " + ", ".join(SCOPES) + "."


def key_record(info: ApiKeyInfo) -> dict[str, Any]:
    return {
        "prefix": info.prefix,
        "name": info.name,
        "scopes": info.scopes,
        "created_by": info.created_by,
        "created_at": info.created_at,
        "expires_at": info.expires_at,
        "revoked_at": info.revoked_at,
        "last_used_at": info.last_used_at,
    }


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", "-n", help="Who or what uses the key.")],
    scope: Annotated[list[str], typer.Option("--scope", "-s", help=_SCOPE_HELP)],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Create a key and print its secret: it is stored only as a hash and never shown again."""
    with open_bastion() as bastion, bastion.db.session() as session:
        created = bastion.keys.create(session, name=name, scopes=scope, actor=cli_actor())
    if fmt is OutputFormat.JSON:
        print_json({"key": key_record(created.info), "secret": created.secret})
        return
    print_record({**key_record(created.info), "secret": created.secret}, fmt)
    if fmt is OutputFormat.TABLE:
        note("store the secret now: it cannot be shown again (only its hash is kept)")


@app.command("list")
def list_keys(
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked keys.")] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List keys (never their secrets)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        found = bastion.keys.list(session, include_revoked=revoked)
    columns = ["prefix", "name", "scopes", "created_by", "created_at", "last_used_at", "revoked_at"]
    records = [key_record(info) for info in found]
    rows = [[record[c] for c in columns] for record in records]
    print_rows(fmt, columns, rows, document=records, empty="no API keys")


@app.command("revoke")
def revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (the part after bst_).")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Revoke a key: requests using it are refused from now on."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.keys.revoke(session, prefix, actor=cli_actor())
    print_record(key_record(info), fmt)
