"""``bastion share partner ...``, ``share grant`` and ``share events``: who we share with, what
they may read and write, and what was shared with whom."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from sqlalchemy import select

from bastion.cli.context import cli_actor, open_bastion
from bastion.cli.output import FormatOption, OutputFormat, note, print_record, print_rows
from bastion.errors import InvalidInput
from bastion.share.partners import PartnerInfo
from bastion.storage.models import BankRow
from bastion.storage.share_models import PartnerRow, ShareEventRow

partner_app = typer.Typer(help="Partners: peers, TAXII servers and hash programmes.")
_COLUMNS = ["name", "kind", "url", "amber", "signer", "credentials", "enabled", "grants"]


def _record(info: PartnerInfo) -> dict[str, Any]:
    found = info.to_dict()
    found["credentials"] = ", ".join(found["credentials"]) or "-"
    found["grants"] = ", ".join(
        f"{g['bank']}({'r' if g['can_read'] else ''}{'w' if g['can_write'] else ''})"
        for g in found["grants"]
    )
    return found


def _credentials(pairs: list[str] | None, from_env: list[str] | None) -> dict[str, str] | None:
    """``--credential NAME=VALUE`` (visible in the shell's history: prefer ``--credential-env
    NAME=ENVVAR``, which reads the value from the environment)."""
    if not pairs and not from_env:
        return None
    found: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput("--credential takes NAME=VALUE")
        found[name] = value
    for pair in from_env or []:
        name, sep, variable = pair.partition("=")
        if not sep or not name or not variable:
            raise InvalidInput("--credential-env takes NAME=ENVIRONMENT_VARIABLE")
        from_environment = os.environ.get(variable)
        if from_environment is None:
            raise InvalidInput(f"environment variable {variable} is not set")
        found[name] = from_environment
    return found


CredentialOption = Annotated[
    list[str] | None,
    typer.Option("--credential", help="NAME=VALUE for reaching the partner; repeat."),
]
CredentialEnvOption = Annotated[
    list[str] | None,
    typer.Option("--credential-env", help="NAME=ENVVAR: read the value from the environment."),
]


def _options(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        found = json.loads(text)
    except ValueError:
        raise InvalidInput("--options must be a JSON object") from None
    if not isinstance(found, dict):
        raise InvalidInput("--options must be a JSON object")
    return found


@partner_app.command("add")
def add_partner(
    name: Annotated[str, typer.Argument(help="Lower-case name, e.g. partner-org.")],
    kind: Annotated[
        str, typer.Option(help="bastion, taxii, threatexchange, tat, ncmec, stopncii or file.")
    ],
    url: Annotated[str, typer.Option(help="Its TAXII API root or API address.")] = "",
    api_key: Annotated[
        str | None, typer.Option(help="Prefix of the API key it calls us with.")
    ] = None,
    amber: Annotated[bool, typer.Option(help="A named partner: may read amber banks.")] = False,
    signer: Annotated[str, typer.Option(help="Trust-store name of its signing key.")] = "",
    credential: CredentialOption = None,
    credential_env: CredentialEnvOption = None,
    options: Annotated[str | None, typer.Option(help="Programme options as JSON.")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Register a partner (audited). Credentials are stored encrypted and never shown again."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.partners.create(
            session,
            name=name,
            kind=kind,
            actor=cli_actor(),
            url=url,
            api_key=api_key,
            amber=amber,
            signer=signer,
            credentials=_credentials(credential, credential_env),
            options=_options(options),
        )
        print_record(_record(info), fmt)


@partner_app.command("list")
def list_partners(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Partners with their grants; credentials show as field names only."""
    with open_bastion() as bastion, bastion.db.session() as session:
        records = [_record(info) for info in bastion.partners.list(session)]
    print_rows(fmt, _COLUMNS, [[r[c] for c in _COLUMNS] for r in records], document=records)


@partner_app.command("show")
def show_partner(name: str, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """One partner."""
    with open_bastion() as bastion, bastion.db.session() as session:
        print_record(_record(bastion.partners.get(session, name)), fmt)


@partner_app.command("set")
def set_partner(
    name: str,
    url: Annotated[str | None, typer.Option()] = None,
    api_key: Annotated[str | None, typer.Option(help="Prefix of the key it calls us with.")] = None,
    amber: Annotated[bool | None, typer.Option("--amber/--no-amber")] = None,
    signer: Annotated[str | None, typer.Option()] = None,
    credential: CredentialOption = None,
    credential_env: CredentialEnvOption = None,
    clear_credentials: Annotated[bool, typer.Option(help="Remove stored credentials.")] = False,
    options: Annotated[str | None, typer.Option(help="Programme options as JSON.")] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Change a partner (audited); new credentials replace all stored ones."""
    credentials = {} if clear_credentials else _credentials(credential, credential_env)
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.partners.update(
            session,
            name,
            actor=cli_actor(),
            url=url,
            api_key=api_key,
            amber=amber,
            signer=signer,
            credentials=credentials,
            options=_options(options),
            enabled=enabled,
        )
        print_record(_record(info), fmt)


@partner_app.command("remove")
def remove_partner(name: str) -> None:
    """Remove a partner, its grants and its subscriptions (audited)."""
    with open_bastion() as bastion, bastion.db.session() as session:
        bastion.partners.delete(session, name, actor=cli_actor())
    note(f"removed partner {name}")


def grant(
    partner: Annotated[str, typer.Argument(help="Partner name.")],
    bank: Annotated[str, typer.Argument(help="Bank whose collection it may use.")],
    read: Annotated[bool, typer.Option("--read/--no-read", help="May read it.")] = True,
    write: Annotated[
        bool, typer.Option("--write/--no-write", help="May post feedback and indicators.")
    ] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Grant a partner a bank's TAXII collection (--no-read --no-write removes the grant).
    TLP still applies: red never leaves, amber only to partners marked --amber."""
    with open_bastion() as bastion, bastion.db.session() as session:
        info = bastion.partners.grant(
            session, partner, bank, actor=cli_actor(), can_read=read, can_write=write
        )
        print_record(_record(info), fmt)


def events(
    partner: Annotated[str | None, typer.Option(help="Only this partner.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """What was shared with whom: pages served to partners and received from them."""
    with open_bastion() as bastion, bastion.db.session() as session:
        query = (
            select(ShareEventRow, BankRow.name)
            .outerjoin(BankRow, BankRow.id == ShareEventRow.bank_id)
            .order_by(ShareEventRow.id.desc())
            .limit(limit)
        )
        if partner is not None:
            query = query.join(PartnerRow, PartnerRow.id == ShareEventRow.partner_id).where(
                PartnerRow.name == partner
            )
        records = [
            {
                "at": row.at,
                "direction": row.direction,
                "channel": row.channel,
                "who": row.who,
                "bank": bank_name,
                "objects": row.objects,
            }
            for row, bank_name in session.execute(query)
        ]
    columns = ["at", "direction", "channel", "who", "bank", "objects"]
    print_rows(fmt, columns, [[r[c] for c in columns] for r in records], document=records)


def register(app: typer.Typer) -> None:
    app.add_typer(partner_app, name="partner")
    app.command("grant")(grant)
    app.command("events")(events)
