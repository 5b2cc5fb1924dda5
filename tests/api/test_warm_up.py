"""The API loads the matching indexes at start-up, so the first upload does not pay for it."""

from __future__ import annotations

import time
from pathlib import Path

from bastion.banks.records import NewEntry
from bastion.runtime import Bastion
from bastion.settings import Settings

from .conftest import serving

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def test_indexes_are_loaded_before_the_first_request(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="")
    seed = Bastion.from_settings(settings)
    with seed.db.session() as s:
        seed.banks.create(s, name="known", actor="test")
        seed.banks.add_entries(s, "known", [NewEntry("pdq", PDQ)], actor="test")
    seed.close()
    with serving(settings) as server:
        indexes = server.bastion.scanner.cache.indexes
        deadline = time.monotonic() + 10
        while indexes.version < 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert indexes.version > 0  # loaded by the start-up thread, no request needed
