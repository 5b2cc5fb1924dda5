"""``bastion share ...``: identity, trusted signers, signing and verifying bundles."""

from __future__ import annotations

import json
from pathlib import Path

from bastion.share.signing import InstanceIdentity, sign_bundle
from tests.cli.conftest import Invoke

BUNDLE = b'{"type": "bundle", "id": "bundle--1", "objects": []}'


def _identity(cli: Invoke) -> dict[str, str]:
    result = cli("share", "identity", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, str] = json.loads(result.stdout)
    return document


def test_identity_is_shown_without_the_private_key(cli: Invoke, data_dir: Path) -> None:
    first = _identity(cli)
    assert first["fingerprint"].startswith("sha256:")
    assert _identity(cli) == first  # the same key on every call
    table = cli("share", "identity")
    assert table.exit_code == 0 and first["public_key"] in table.stdout
    pem = (data_dir / "identity" / "ed25519.pem").read_text()
    secret_lines = [line for line in pem.splitlines() if not line.startswith("-----")]
    for result in (table, cli("share", "identity", "--format", "csv")):
        assert "PRIVATE" not in result.stdout + result.stderr
        for line in secret_lines:
            assert line not in result.stdout + result.stderr


def test_sign_then_verify_with_own_key_trusted(cli: Invoke, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(BUNDLE)
    signed = cli("share", "sign", str(bundle))
    assert signed.exit_code == 0, signed.stderr
    envelope_path = tmp_path / "bundle.json.sig.json"
    envelope = json.loads(envelope_path.read_text())
    assert envelope["signer"] == _identity(cli)["fingerprint"]
    assert "PRIVATE" not in signed.stdout + signed.stderr

    refused = cli("share", "verify", str(bundle))
    assert refused.exit_code == 2
    assert "signer_untrusted" in refused.stderr

    added = cli("share", "trust", "add", "--", "myself", envelope["public_key"])
    assert added.exit_code == 0, added.stderr
    verified = cli("share", "verify", str(bundle), "--format", "json")
    assert verified.exit_code == 0, verified.stderr
    assert json.loads(verified.stdout)["signer"] == "myself"

    bundle.write_bytes(BUNDLE.replace(b"bundle--1", b"bundle--2"))
    tampered = cli("share", "verify", str(bundle))
    assert tampered.exit_code == 2
    assert "signature_invalid" in tampered.stderr


def test_verify_with_an_explicit_signature_and_a_partner(cli: Invoke, tmp_path: Path) -> None:
    partner = InstanceIdentity.load_or_create(tmp_path / "partner")
    bundle = tmp_path / "feed.json"
    bundle.write_bytes(BUNDLE)
    envelope = tmp_path / "elsewhere.json"

    envelope.write_bytes(sign_bundle(BUNDLE, partner).to_json())
    assert cli("share", "trust", "add", "--", "partner-org", partner.public_key).exit_code == 0
    ok = cli("share", "verify", str(bundle), "--signature", str(envelope))
    assert ok.exit_code == 0, ok.stderr
    assert "partner-org" in ok.stdout

    assert cli("share", "trust", "remove", "partner-org").exit_code == 0
    refused = cli("share", "verify", str(bundle), "--signature", str(envelope))
    assert refused.exit_code == 2 and "signer_untrusted" in refused.stderr

    envelope.write_text("{}")
    malformed = cli("share", "verify", str(bundle), "--signature", str(envelope))
    assert malformed.exit_code == 2 and "signature_malformed" in malformed.stderr

    missing = cli("share", "verify", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2 and "invalid_input" in missing.stderr


def test_trust_add_list_revoke_remove(cli: Invoke, tmp_path: Path) -> None:
    partner = InstanceIdentity.load_or_create(tmp_path / "partner")
    assert "no trusted signers" in cli("share", "trust", "list").stderr
    assert cli("share", "trust", "add", "--", "acme", partner.public_key).exit_code == 0
    listed = json.loads(cli("share", "trust", "list", "--format", "json").stdout)
    assert [(s["name"], s["fingerprint"]) for s in listed] == [("acme", partner.fingerprint)]

    bad = cli("share", "trust", "add", "other", "not-a-key")
    assert bad.exit_code == 2 and "public_key_malformed" in bad.stderr
    duplicate = cli("share", "trust", "add", "--", "acme2", partner.public_key)
    assert duplicate.exit_code == 2 and "conflict" in duplicate.stderr

    assert cli("share", "trust", "revoke", "acme").exit_code == 0
    bundle = tmp_path / "b.json"
    bundle.write_bytes(BUNDLE)

    (tmp_path / "b.json.sig.json").write_bytes(sign_bundle(BUNDLE, partner).to_json())
    revoked = cli("share", "verify", str(bundle))
    assert revoked.exit_code == 2 and "signer_revoked" in revoked.stderr

    assert cli("share", "trust", "remove", "acme").exit_code == 0
    gone = cli("share", "trust", "remove", "acme")
    assert gone.exit_code == 2 and "signer_not_found" in gone.stderr
