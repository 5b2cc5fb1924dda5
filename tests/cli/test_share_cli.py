"""``bastion share`` for partners, grants, events and signed bundle files, from the host."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.main import app

from .conftest import Invoke


def test_partners_grants_and_credentials_that_never_show(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("bank", "create", "crisis", "--tlp", "green").exit_code == 0
    assert cli("bank", "create", "hidden", "--tlp", "red").exit_code == 0
    monkeypatch.setenv("ORG_A_TOKEN", "s3cret-token-value")
    added = cli(
        "share", "partner", "add", "org-a", "--kind", "threatexchange",
        "--credential-env", "access_token=ORG_A_TOKEN", "--options", '{"labels": ["tvec2"]}',
        "--format", "json",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    record = json.loads(added.stdout)
    assert record["credentials"] == "access_token"
    assert "s3cret" not in added.stdout + added.stderr
    granted = cli("share", "grant", "org-a", "crisis", "--write", "--format", "json")
    assert granted.exit_code == 0, granted.stderr
    assert json.loads(granted.stdout)["grants"] == "crisis(rw)"
    red = cli("share", "grant", "org-a", "hidden")
    assert red.exit_code == 2
    assert "invalid_input" in red.stderr and "TLP:RED" in red.stderr
    listed = cli("share", "partner", "list", "--format", "json")
    assert [p["name"] for p in json.loads(listed.stdout)] == ["org-a"]
    assert "s3cret" not in listed.stdout
    assert cli("share", "partner", "set", "org-a", "--disable").exit_code == 0
    bad = cli("share", "partner", "add", "Bad Name", "--kind", "taxii")
    assert bad.exit_code == 2 and "invalid_input" in bad.stderr
    missing_env = cli(
        "share", "partner", "add", "org-b", "--kind", "tat", "--credential-env", "password=NOPE_X"
    )
    assert missing_env.exit_code == 2 and "NOPE_X" in missing_env.stderr
    assert cli("share", "events").exit_code == 0
    assert cli("share", "partner", "remove", "org-a").exit_code == 0


def test_bundle_export_and_import_between_two_data_folders(
    cli: Invoke, cli_env: dict[str, str], tmp_path: Path
) -> None:
    assert cli("bank", "create", "crisis", "--tlp", "green").exit_code == 0
    values = [f"{n:032x}" for n in range(1, 4)]
    assert cli("bank", "add-hash", "crisis", *values, "--type", "md5").exit_code == 0
    bundle = tmp_path / "crisis.json"
    exported = cli("share", "export", "crisis", "-o", str(bundle), "--format", "json")
    assert exported.exit_code == 0, exported.stderr
    assert json.loads(exported.stdout)["objects"] == 4 + 3  # supporting objects, indicators
    public_key = json.loads(cli("share", "identity", "--format", "json").stdout)["public_key"]

    other = {**cli_env, "BASTION_DATA_DIR": str(tmp_path / "other")}
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args), env=other)
        return result.exit_code, result.stdout, result.stderr

    assert run("bank", "create", "from-a", "--tlp", "green")[0] == 0
    code, _out, err = run("share", "import", "from-a", str(bundle))
    assert code == 2 and "signer_untrusted" in err
    assert run("share", "trust", "add", "--", "org-a", public_key)[0] == 0
    code, out, err = run("share", "import", "from-a", str(bundle), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["added"] == 3
    assert json.loads(out)["signer"] == "org-a"


def test_subscriptions_from_the_host(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("bank", "create", "from-peer", "--tlp", "green").exit_code == 0
    # A peer that is down: port 9 (discard) on loopback refuses connections.
    monkeypatch.setenv("BASTION_SHARE_ALLOW_PRIVATE", "true")
    assert (
        cli(
            "share",
            "partner",
            "add",
            "peer",
            "--kind",
            "taxii",
            "--url",
            "http://127.0.0.1:9/taxii2/api/",
        ).exit_code
        == 0
    )
    made = cli(
        "share", "subscribe", "peer", "from-peer", "coll-1", "--interval", "60", "--format", "json"
    )
    assert made.exit_code == 0, made.stderr
    subscription = json.loads(made.stdout)
    assert subscription["require_signature"] is False  # a third-party TAXII server
    listed = cli("share", "subscriptions", "--format", "json")
    assert [s["bank"] for s in json.loads(listed.stdout)["subscriptions"]] == ["from-peer"]
    polled = cli("share", "poll", str(subscription["id"]), "--format", "json")
    assert polled.exit_code == 1  # the poll ran and failed: a finding, not bad input
    assert json.loads(polled.stdout)["error_code"] == "remote_unavailable"
    both = cli("share", "poll", str(subscription["id"]), "--all")
    assert both.exit_code == 2 and "invalid_input" in both.stderr
    not_partner = cli("share", "feedback", "from-peer", "999", "sighting")
    assert not_partner.exit_code == 2
    assert cli("share", "unsubscribe", str(subscription["id"])).exit_code == 0
