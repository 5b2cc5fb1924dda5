"""``bastion users ...``: create with a prompted or piped password, change, disable, unlock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastion.errors import LoginFailed
from bastion.runtime import Bastion
from bastion.settings import Settings

from .conftest import PASSWORD, Invoke


def test_create_with_stdin_and_prompt_then_list(cli: Invoke) -> None:
    piped = cli(
        "users", "create", "alice", "--role", "admin", "--password-stdin",
        "--display-name", "Alice A.", "-l", "ar", "-l", "EN", "-f", "json",
        input=PASSWORD + "\n",
    )  # fmt: skip
    prompted = cli(
        "users", "create", "bob", "--role", "Moderator", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    listed = json.loads(cli("users", "list", "-f", "json").stdout)
    table = cli("users", "list")

    assert piped.exit_code == 0, piped.stderr
    record = json.loads(piped.stdout)
    assert record["role"] == "admin" and record["languages"] == ["ar", "en"]
    assert record["display_name"] == "Alice A." and record["created_by"].startswith("cli:")
    assert prompted.exit_code == 0, prompted.stderr
    assert PASSWORD not in prompted.stdout + prompted.stderr  # hidden input, never echoed
    assert [(u["username"], u["role"]) for u in listed] == [
        ("alice", "admin"),
        ("bob", "moderator"),
    ]
    assert "alice" in table.stdout and "argon2" not in table.stdout


def test_prompt_mismatch_and_weak_password_and_duplicates(cli: Invoke) -> None:
    mismatch = cli("users", "create", "bob", "--role", "analyst", input=f"{PASSWORD}\nother one\n")
    weak = cli("users", "create", "bob", "--role", "analyst", "--password-stdin", input="short\n")
    empty = cli("users", "create", "bob", "--role", "analyst", "--password-stdin", input="")
    bad_role = cli("users", "create", "bob", "--role", "root", "--password-stdin", input=PASSWORD)
    cli("users", "create", "bob", "--role", "analyst", "--password-stdin", input=PASSWORD)
    again = cli("users", "create", "BOB", "--role", "analyst", "--password-stdin", input=PASSWORD)
    missing = cli("users", "disable", "nobody")

    assert mismatch.exit_code == 2
    assert weak.exit_code == 2 and "error: weak_password:" in weak.stderr
    assert empty.exit_code == 2 and "error: invalid_input:" in empty.stderr
    assert bad_role.exit_code == 2 and "root" in bad_role.stderr
    assert again.exit_code == 2 and "error: user_exists:" in again.stderr
    assert missing.exit_code == 2 and "error: user_not_found:" in missing.stderr


def test_change_commands_are_audited(cli: Invoke) -> None:
    cli("users", "create", "root", "--role", "admin", "--password-stdin", input=PASSWORD)
    cli("users", "create", "alice", "--role", "moderator", "--password-stdin", input=PASSWORD)
    role = cli("users", "set-role", "alice", "analyst", "-f", "json")
    password = cli(
        "users", "set-password", "alice", "--password-stdin", input="new passphrase 99\n"
    )
    disabled = cli("users", "disable", "alice", "-f", "json")
    active = json.loads(cli("users", "list", "--active", "-f", "json").stdout)
    enabled = cli("users", "enable", "alice", "-f", "json")
    last_admin = cli("users", "disable", "root")

    assert json.loads(role.stdout)["role"] == "analyst"
    assert password.exit_code == 0 and "must sign in again" in password.stderr
    assert json.loads(disabled.stdout)["active"] is False
    assert [u["username"] for u in active] == ["root"]
    assert json.loads(enabled.stdout)["active"] is True
    assert last_admin.exit_code == 2 and "last active admin" in last_admin.stderr
    events = json.loads(cli("audit", "list", "-f", "json").stdout)
    assert [e["action"] for e in events] == [
        "user.enable", "user.disable", "user.set_password", "user.set_role",
        "user.create", "user.create",
    ]  # fmt: skip
    assert all(e["actor"].startswith("cli:") for e in events)


def test_unlock(cli: Invoke, tmp_path: Path) -> None:
    cli("users", "create", "alice", "--role", "moderator", "--password-stdin", input=PASSWORD)
    bastion = Bastion.from_settings(Settings(data_dir=tmp_path / "data", database_url=""))
    try:
        for _ in range(bastion.settings.login_max_failures):
            with pytest.raises(LoginFailed), bastion.db.session() as session:
                bastion.users.authenticate(session, "alice", "not the password")
    finally:
        bastion.close()
    locked = json.loads(cli("users", "list", "-f", "json").stdout)[0]
    unlocked = json.loads(cli("users", "unlock", "alice", "-f", "json").stdout)

    assert locked["locked_until"] is not None
    assert unlocked["locked_until"] is None and unlocked["failed_logins"] == 0
    actions = [e["action"] for e in json.loads(cli("audit", "list", "-f", "json").stdout)]
    assert actions[0] == "user.unlock" and "user.locked" in actions
