"""``bastion share export`` and ``share import``: signed STIX bundle files for partners who
exchange files rather than run TAXII."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bastion.cli.context import cli_actor, open_bastion
from bastion.cli.output import FormatOption, OutputFormat, print_record
from bastion.share.bundles import export_bundle, import_bundle
from bastion.share.instance import this_instance
from bastion.share.signing import InstanceIdentity, TrustStore


def export(
    bank: Annotated[str, typer.Argument(help="The bank to export.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The bundle file to write.")],
    amber: Annotated[
        bool, typer.Option(help="Include TLP:AMBER (for named partners only).")
    ] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Write BANK as a STIX 2.1 bundle signed by this instance (OUTPUT and OUTPUT.sig.json).
    Red entries never leave; amber ones only with --amber. Removed entries are revoked."""
    with open_bastion() as bastion, bastion.db.session() as session:
        data_dir = bastion.settings.data_dir
        report = export_bundle(
            session,
            bastion.banks,
            this_instance(data_dir),
            InstanceIdentity.load_or_create(data_dir),
            bank,
            output,
            amber=amber,
        )
    print_record(
        {
            "bundle": str(report.path),
            "signature": str(report.signature),
            "objects": report.objects,
            "sha256": report.sha256,
        },
        fmt,
    )


def import_(
    bank: Annotated[str, typer.Argument(help="The bank that receives the entries.")],
    file: Annotated[Path, typer.Argument(help="A STIX 2.1 bundle.")],
    signature: Annotated[
        Path | None, typer.Option("--signature", "-s", help="Its signature [FILE.sig.json].")
    ] = None,
    unsigned: Annotated[
        bool, typer.Option("--unsigned", help="Accept a bundle that has no signature.")
    ] = False,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Verify FILE's signature against the trusted signers, then add its indicators to BANK
    (revocations remove what the same feed brought). All or nothing."""
    with open_bastion() as bastion, bastion.db.session() as session:
        report = import_bundle(
            session,
            bastion.banks,
            bastion.audit,
            TrustStore.open(bastion.settings.data_dir),
            bank,
            file,
            actor=cli_actor(),
            max_bytes=bastion.settings.max_upload_bytes,
            signature=signature,
            allow_unsigned=unsigned,
        )
    print_record(
        {
            "bank": report.bank,
            "signer": report.signer or "(unsigned)",
            "objects": report.objects,
            "added": report.counts.added,
            "updated": report.counts.updated,
            "revoked": report.counts.revoked,
            "unchanged": report.counts.unchanged,
            "ignored": report.ignored,
            "rejected": len(report.rejected),
        },
        fmt,
    )


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("import")(import_)
