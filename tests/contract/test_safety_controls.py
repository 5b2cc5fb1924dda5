"""Flood control, gradual roll-out and index propagation, on SQLite and PostgreSQL."""

from __future__ import annotations

import random

from bastion.banks.records import NewEntry
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.signals.base import Signal

from .helpers import flip_bits, random_pdq

ACTOR = "test:analyst"


def _bank(bastion: Bastion, name: str, values: list[str], **kwargs: object) -> list[int]:
    with bastion.db.session() as s:
        bastion.banks.create(s, name=name, actor=ACTOR, **kwargs)  # type: ignore[arg-type]
        entries = [NewEntry("pdq", value) for value in values]
        return [e.id for e in bastion.banks.add_entries(s, name, entries, actor=ACTOR).added]


def _scan(bastion: Bastion, pdq: str, sha: str) -> list[dict[str, object]]:
    signals = [Signal("sha256", sha), Signal("pdq", pdq, quality=100)]
    return [m.to_dict() for m in bastion.scanner.scan_signals(signals).matches]


def test_flood_control_quarantines_an_entry_that_matches_too_much(tmp_path, database_url) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, database_url=database_url, flood_max_matches=3)
    bastion = Bastion.from_settings(settings)
    try:
        rng = random.Random(30)
        known = random_pdq(rng)
        (entry_id,) = _bank(bastion, "propaganda", [known])
        outcomes = [_scan(bastion, flip_bits(known, 3, rng), f"{n:064x}")[0] for n in range(5)]
        assert [m["review_only"] for m in outcomes] == [False, False, False, True, True]
        assert "flood control" in str(outcomes[3]["review_reason"])
        with bastion.db.session() as s:
            entry = bastion.banks.get_entry(s, "propaganda", entry_id)
            assert entry.quarantined_at is not None
            (alert,) = bastion.alerts.list(s)
            assert (alert.kind, alert.entry_id, alert.bank) == (
                "flood_quarantine",
                entry_id,
                "propaganda",
            )
            events = [e for e in bastion.audit.list(s) if e.action == "bank.entry.quarantine"]
            assert events and events[0].actor == "system:flood-control"
            bastion.banks.release_quarantine(s, "propaganda", entry_id, actor=ACTOR)
            bastion.alerts.acknowledge(s, alert.id, actor=ACTOR)
        # Released: counting starts afresh, so it acts again until it floods again.
        released = [_scan(bastion, known, f"{n:064x}")[0] for n in range(100, 105)]
        assert [m["review_only"] for m in released] == [False, False, False, True, True]
        with bastion.db.session() as s:
            assert len(bastion.alerts.list(s)) == 2
            assert len(bastion.alerts.list(s, open_only=True)) == 1
    finally:
        bastion.close()


def test_rollout_ratio_selects_a_stable_share_of_content(bastion: Bastion) -> None:
    rng = random.Random(31)
    known = random_pdq(rng)
    _bank(bastion, "new-bank", [known], enable_ratio=0.5)
    shas = [f"{n:064x}" for n in range(200)]
    first = [bool(_scan(bastion, known, sha)) for sha in shas]
    again = [bool(_scan(bastion, known, sha)) for sha in shas]
    assert first == again  # the same item always gets the same answer
    assert 70 <= sum(first) <= 130
    with bastion.db.session() as s:
        bastion.banks.update(s, "new-bank", actor=ACTOR, enable_ratio=0.0)
    assert not any(_scan(bastion, known, sha) for sha in shas[:20])
    with bastion.db.session() as s:
        bastion.banks.update(s, "new-bank", actor=ACTOR, enable_ratio=1.0)
    assert all(_scan(bastion, known, sha) for sha in shas[:20])


def test_changes_reach_another_process_view_of_the_same_database(settings: Settings) -> None:
    """Two Bastion instances stand for two processes: each keeps its own indexes."""
    writer, reader = Bastion.from_settings(settings), Bastion.from_settings(settings)
    try:
        rng = random.Random(32)
        known = random_pdq(rng)
        assert not reader.scanner.scan_signals([Signal("pdq", known)]).matched
        (entry_id,) = _bank(writer, "crisis", [known])
        assert reader.scanner.scan_signals([Signal("pdq", known)]).matched
        with writer.db.session() as s:
            writer.banks.delete_entry(s, "crisis", entry_id, actor=ACTOR)
        assert not reader.scanner.scan_signals([Signal("pdq", known)]).matched
        status = reader.scanner.cache.status()
        assert status["pdq"]["size"] == 0 and status["pdq"]["version"] >= 2
    finally:
        writer.close()
        reader.close()


def test_group_operations_treat_one_files_signals_together(bastion: Bastion) -> None:
    rng = random.Random(33)
    with bastion.db.session() as s:
        bastion.banks.create(s, name="files", actor=ACTOR)
        added = bastion.banks.add_entries(
            s,
            "files",
            [NewEntry("pdq", random_pdq(rng)), NewEntry("md5", "ab" * 16)],
            actor=ACTOR,
            group=True,
        ).added
        group = added[0].id
        assert {e.group_id for e in added} == {group}
        assert len(bastion.banks.group_entries(s, "files", group)) == 2
        bastion.banks.delete_group(s, "files", group, actor=ACTOR)
        assert bastion.banks.list_entries(s, "files") == []
