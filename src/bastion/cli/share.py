"""``bastion share ...``: this instance's signing identity, trusted partners, signed bundles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bastion.cli import share_bundles, share_feeds, share_partners
from bastion.cli.context import load_settings
from bastion.cli.output import FormatOption, OutputFormat, note, print_record, print_rows
from bastion.errors import InvalidInput
from bastion.share.signing import (
    InstanceIdentity,
    Signer,
    TrustStore,
    sign_bundle,
    verify_bundle,
)

app = typer.Typer(
    help="Sharing with other organisations: identity, trusted signers, signatures, partners, "
    "grants and subscriptions."
)
trust_app = typer.Typer(help="Partners whose signed bundles this instance accepts.")
app.add_typer(trust_app, name="trust")
share_partners.register(app)
share_feeds.register(app)
share_bundles.register(app)

SIGNATURE_SUFFIX = ".sig.json"


def _data_dir() -> Path:
    return load_settings().data_dir


def signer_record(signer: Signer) -> dict[str, Any]:
    return {
        "name": signer.name,
        "fingerprint": signer.fingerprint,
        "public_key": signer.public_key,
        "added_at": signer.added_at,
        "revoked_at": signer.revoked_at,
    }


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput(f"{what} {path} is a folder") from None


@app.command("identity")
def identity(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """Show this instance's fingerprint and public key (created on first use); give partners the
    public key. The private key is never shown."""
    me = InstanceIdentity.load_or_create(_data_dir())
    print_record(
        {"fingerprint": me.fingerprint, "public_key": me.public_key, "algorithm": "ed25519"}, fmt
    )


@trust_app.command("add")
def trust_add(
    name: Annotated[str, typer.Argument(help="A name for the partner (letters, digits, ._-).")],
    public_key: Annotated[str, typer.Argument(help="Their public key (base64url, 32 bytes).")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Trust bundles signed by this partner's key."""
    signer = TrustStore.open(_data_dir()).add(name, public_key)
    print_record(signer_record(signer), fmt)


@trust_app.command("list")
def trust_list(fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List trusted (and revoked) signers."""
    records = [signer_record(s) for s in TrustStore.open(_data_dir()).list()]
    columns = ["name", "fingerprint", "public_key", "added_at", "revoked_at"]
    rows = [[record[c] for c in columns] for record in records]
    print_rows(fmt, columns, rows, document=records, empty="no trusted signers")


@trust_app.command("remove")
def trust_remove(
    name: Annotated[str, typer.Argument(help="The partner's name.")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Forget a signer: their bundles are refused as signer_untrusted from now on."""
    signer = TrustStore.open(_data_dir()).remove(name)
    print_record(signer_record(signer), fmt)


@trust_app.command("revoke")
def trust_revoke(
    name: Annotated[str, typer.Argument(help="The partner's name.")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Keep a signer's key on record as revoked: their bundles are refused as signer_revoked."""
    signer = TrustStore.open(_data_dir()).revoke(name)
    print_record(signer_record(signer), fmt)


@app.command("sign")
def sign(
    file: Annotated[Path, typer.Argument(help="The bundle to sign (its exact bytes).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Where to write the signature [FILE.sig.json]."),
    ] = None,
) -> None:
    """Sign FILE with this instance's key; the detached signature goes to FILE.sig.json."""
    bundle = _read(file, "bundle")
    signed = sign_bundle(bundle, InstanceIdentity.load_or_create(_data_dir()))
    target = output if output is not None else file.with_name(file.name + SIGNATURE_SUFFIX)
    target.write_bytes(signed.to_json())
    note(f"signed {file} as {signed.envelope['signer']}: {target}")


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="The bundle to verify.")],
    signature: Annotated[
        Path | None,
        typer.Option("--signature", "-s", help="Its signature envelope [FILE.sig.json]."),
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Verify FILE against its signature and the trusted signers: exit 0 when verified, 2 (with
    the refusal's code) when not."""
    bundle = _read(file, "bundle")
    source = signature if signature is not None else file.with_name(file.name + SIGNATURE_SUFFIX)
    envelope = _read(source, "signature")
    signer = verify_bundle(bundle, envelope, TrustStore.open(_data_dir()))
    print_record({"verified": True, "signer": signer.name, "fingerprint": signer.fingerprint}, fmt)
