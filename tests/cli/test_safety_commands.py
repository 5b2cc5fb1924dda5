"""``bastion alerts``, ``bank entry-release``, ``bank rollout`` and ``index``: by hand."""

from __future__ import annotations

import json

from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.signals.base import Signal

from .conftest import Invoke

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def test_flood_quarantine_alert_and_release(cli: Invoke, cli_env: dict[str, str]) -> None:
    assert cli("bank", "create", "propaganda", "--label", "tvec1").exit_code == 0
    assert cli("bank", "add-hash", "propaganda", "--type", "pdq", PDQ).exit_code == 0
    # Two uploads matching the same entry, as the API or a worker would record them.
    settings = Settings(data_dir=cli_env["BASTION_DATA_DIR"], database_url="", flood_max_matches=1)
    bastion = Bastion.from_settings(settings)
    try:
        for sha in ("a" * 64, "b" * 64):
            bastion.scanner.scan_signals([Signal("sha256", sha), Signal("pdq", PDQ)])
    finally:
        bastion.close()

    alerts = json.loads(cli("alerts", "list", "--open", "-f", "json").stdout)
    assert [a["kind"] for a in alerts] == ["flood_quarantine"]
    entry_id = alerts[0]["entry_id"]
    entries = json.loads(cli("bank", "entries", "propaganda", "-f", "json").stdout)
    assert entries[0]["quarantined_at"] is not None

    released = cli("bank", "entry-release", "propaganda", str(entry_id), "-f", "json")
    acked = cli("alerts", "ack", str(alerts[0]["id"]), "-f", "json")
    assert released.exit_code == 0 and json.loads(released.stdout)["quarantined_at"] is None
    assert acked.exit_code == 0 and json.loads(acked.stdout)["acknowledged_by"].startswith("cli:")
    assert json.loads(cli("alerts", "list", "--open", "-f", "json").stdout) == []
    actions = [e["action"] for e in json.loads(cli("audit", "list", "-f", "json").stdout)]
    assert actions[:3] == ["alert.acknowledge", "bank.entry.release", "bank.entry.quarantine"]
    assert cli("alerts", "ack", "999").exit_code == 2


def test_rollout_and_index_status(cli: Invoke) -> None:
    assert cli("bank", "create", "trial", "--ratio", "0.25").exit_code == 0
    assert cli("bank", "add-hash", "trial", "--type", "pdq", PDQ).exit_code == 0
    shown = json.loads(cli("bank", "rollout", "trial", "0.5", "-f", "json").stdout)
    assert shown["enable_ratio"] == 0.5
    assert cli("bank", "rollout", "trial", "1.5").exit_code == 2
    status = json.loads(cli("index", "status", "-f", "json").stdout)
    assert [(s["signal_type"], s["size"]) for s in status] == [("pdq", 1)]
    snapshot = cli("index", "snapshot")
    assert snapshot.exit_code == 0 and "wrote" in snapshot.stderr
