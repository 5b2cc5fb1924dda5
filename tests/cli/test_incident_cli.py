"""``bastion incident``: declare (with its crisis bank), list, close; bad names are refused."""

from __future__ import annotations

import json

from tests.cli.conftest import Invoke


def test_an_incident_is_declared_listed_and_closed(cli: Invoke) -> None:
    declared = cli("incident", "declare", "attack-1", "--label", "tvec2", "--format", "json")
    assert declared.exit_code == 0, declared.stderr
    incident = json.loads(declared.stdout)
    assert incident["bank"] == "crisis-attack-1" and incident["status"] == "active"
    banks = json.loads(cli("bank", "list", "--format", "json").stdout)
    [bank] = [b for b in banks if b["name"] == "crisis-attack-1"]
    assert bank["labels"] == ["tvec2"] and bank["severity"] == "critical"

    listed = json.loads(cli("incident", "list", "--active", "--format", "json").stdout)
    assert [i["name"] for i in listed] == ["attack-1"]
    closed = cli("incident", "close", str(incident["id"]), "--format", "json")
    assert closed.exit_code == 0 and json.loads(closed.stdout)["status"] == "closed"
    assert json.loads(cli("incident", "list", "--active", "--format", "json").stdout) == []


def test_bad_incidents_are_refused_with_stable_codes(cli: Invoke) -> None:
    bad = cli("incident", "declare", "../x")
    assert bad.exit_code == 2 and "invalid_input" in bad.stderr
    assert cli("incident", "declare", "twice").exit_code == 0
    again = cli("incident", "declare", "twice")
    assert again.exit_code == 2 and "incident_exists" in again.stderr
    missing = cli("incident", "close", "999")
    assert missing.exit_code == 2 and "incident_not_found" in missing.stderr
