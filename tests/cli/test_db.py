"""``bastion db ...`` and the global ``--database-url`` option."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Invoke


def test_upgrade_brings_a_new_database_to_the_expected_revision(
    cli: Invoke, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"

    before = json.loads(cli("--database-url", url, "db", "current", "-f", "json").stdout)
    upgraded = cli("--database-url", url, "db", "upgrade")
    after = json.loads(cli("--database-url", url, "db", "current", "-f", "json").stdout)

    assert before["current"] is None and before["up_to_date"] is False
    assert upgraded.exit_code == 0
    assert after == {"current": before["head"], "head": before["head"], "up_to_date": True}
    assert (tmp_path / "elsewhere.sqlite3").exists()


def test_a_junk_database_url_is_a_configuration_error(cli: Invoke) -> None:
    result = cli("--database-url", "not a url", "bank", "list")

    assert result.exit_code == 2
    assert result.stderr.startswith("error: configuration_error: BASTION_DATABASE_URL")
