"""``bastion keys ...``: a secret is shown once, never listed; revoked keys stop working."""

from __future__ import annotations

import json

from .conftest import Invoke


def test_create_list_revoke(cli: Invoke) -> None:
    created = cli(
        "keys", "create", "--name", "moderation-bot", "--scope", "scan", "--scope", "banks:read",
        "-f", "json",
    )  # fmt: skip
    assert created.exit_code == 0, created.stderr
    document = json.loads(created.stdout)
    secret, prefix = document["secret"], document["key"]["prefix"]
    assert secret.startswith(f"bst_{prefix}_")
    assert document["key"]["scopes"] == ["banks:read", "scan"]

    table = cli("keys", "create", "--name", "ops", "--scope", "admin")
    listed = cli("keys", "list")
    revoked = cli("keys", "revoke", prefix)
    after = json.loads(cli("keys", "list", "-f", "json").stdout)
    with_revoked = json.loads(cli("keys", "list", "--revoked", "-f", "json").stdout)

    assert "bst_" in table.stdout and "cannot be shown again" in table.stderr
    assert prefix in listed.stdout and "moderation-bot" in listed.stdout
    assert "bst_" not in listed.stdout  # secrets never listed
    assert revoked.exit_code == 0
    assert [k["name"] for k in after] == ["ops"]
    assert [k["name"] for k in with_revoked] == ["moderation-bot", "ops"]
    assert with_revoked[0]["revoked_at"] is not None
    actions = [e["action"] for e in json.loads(cli("audit", "list", "-f", "json").stdout)]
    assert actions == ["key.revoke", "key.create", "key.create"]


def test_bad_scope_and_unknown_prefix_are_input_errors(cli: Invoke) -> None:
    bad_scope = cli("keys", "create", "--name", "x", "--scope", "everything")
    unknown = cli("keys", "revoke", "deadbeef")
    no_scope = cli("keys", "create", "--name", "x")

    assert bad_scope.exit_code == 2 and "error: invalid_input: unknown scope" in bad_scope.stderr
    assert unknown.exit_code == 2 and "error: api_key_not_found:" in unknown.stderr
    assert no_scope.exit_code == 2 and "--scope" in no_scope.stderr
