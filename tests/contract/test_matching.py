"""Matching and recording through the scanner, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bastion.banks.records import NewEntry
from bastion.runtime import Bastion
from bastion.signals.base import Signal
from bastion.storage.models import BankEntryRow, ContentRow, MatchRow, SignalRow

from .helpers import flip_bits, random_pdq, vpdq_text

ACTOR = "test:analyst"


def _bank(
    bastion: Bastion, name: str, values: list[tuple[str, str]], **kwargs: object
) -> list[int]:
    with bastion.db.session() as s:
        bastion.banks.create(s, name=name, actor=ACTOR, **kwargs)  # type: ignore[arg-type]
        report = bastion.banks.add_entries(
            s, name, [NewEntry(t, v, added_from=f"test:{name}") for t, v in values], actor=ACTOR
        )
        return [entry.id for entry in report.added]


def test_pdq_matches_within_threshold_and_explains_why(bastion: Bastion) -> None:
    rng = random.Random(10)
    known = random_pdq(rng)
    (entry_id,) = _bank(bastion, "propaganda", [("pdq", known)], labels=["tvec1"])
    near, far = flip_bits(known, 20, rng), flip_bits(known, 40, rng)
    result = bastion.scanner.scan_signals([Signal("pdq", near, quality=100)], name="near")
    assert result.matched
    (match,) = result.matches
    assert (match.bank, match.entry_id, match.distance, match.threshold) == (
        "propaganda",
        entry_id,
        20.0,
        31.0,
    )
    assert match.labels == ["tvec1"] and match.provenance["added_from"] == "test:propaganda"
    assert "pdq distance 20 <= threshold 31" in match.reason
    assert not bastion.scanner.scan_signals([Signal("pdq", far, quality=100)]).matches


def test_per_bank_threshold_and_disabled_bank(bastion: Bastion) -> None:
    rng = random.Random(11)
    known = random_pdq(rng)
    _bank(bastion, "strict", [("pdq", known)], thresholds={"pdq": 10})
    _bank(bastion, "off", [("pdq", known)], enabled=False)
    result = bastion.scanner.scan_signals([Signal("pdq", flip_bits(known, 15, rng))])
    assert result.matches == []
    result = bastion.scanner.scan_signals([Signal("pdq", flip_bits(known, 8, rng))])
    assert [m.bank for m in result.matches] == ["strict"]
    with bastion.db.session() as s:
        bastion.banks.update(s, "off", actor=ACTOR, enabled=True)
    result = bastion.scanner.scan_signals([Signal("pdq", flip_bits(known, 8, rng))])
    assert sorted(m.bank for m in result.matches) == ["off", "strict"]


def test_low_quality_pdq_is_noted_not_matched(bastion: Bastion) -> None:
    known = random_pdq(random.Random(12))
    _bank(bastion, "propaganda", [("pdq", known)])
    result = bastion.scanner.scan_signals([Signal("pdq", known, quality=20)])
    assert result.matches == []
    assert any("too low to match" in note for note in result.notes)


def test_disabled_until_hides_an_entry_until_that_time(bastion: Bastion) -> None:
    known = random_pdq(random.Random(13))
    (entry_id,) = _bank(bastion, "propaganda", [("pdq", known)])
    with bastion.db.session() as s:
        bastion.banks.update_entry(
            s,
            "propaganda",
            entry_id,
            actor=ACTOR,
            disabled_until=datetime.now(UTC) + timedelta(hours=1),
        )
    assert not bastion.scanner.scan_signals([Signal("pdq", known)]).matched
    with bastion.db.session() as s:
        bastion.banks.update_entry(
            s,
            "propaganda",
            entry_id,
            actor=ACTOR,
            disabled_until=datetime.now(UTC) - timedelta(seconds=1),
        )
    assert bastion.scanner.scan_signals([Signal("pdq", known)]).matched


def test_negative_bank_suppresses_positive_matches(bastion: Bastion) -> None:
    rng = random.Random(14)
    known = random_pdq(rng)
    benign = flip_bits(known, 6, rng)
    _bank(bastion, "propaganda", [("pdq", known)])
    (negative_id,) = _bank(bastion, "false-positives", [("pdq", benign)], kind="negative")
    result = bastion.scanner.scan_signals([Signal("pdq", benign)])
    assert not result.matched
    positive = next(m for m in result.matches if m.bank == "propaganda")
    assert positive.suppressed
    assert positive.suppressed_by == {"bank": "false-positives", "entry_id": negative_id}
    assert "known false positive" in positive.reason


def test_exact_hashes_match_only_when_identical(bastion: Bastion) -> None:
    md5 = "0123456789abcdef0123456789abcdef"
    _bank(bastion, "files", [("md5", md5)])
    assert bastion.scanner.scan_signals([Signal("md5", md5)]).matched
    assert not bastion.scanner.scan_signals([Signal("md5", "f" * 32)]).matched


def test_video_matches_excerpts_and_embedded_clips_but_not_other_videos(bastion: Bastion) -> None:
    rng = random.Random(15)
    bank_frames = [random_pdq(rng) for _ in range(30)]
    _bank(bastion, "attack-videos", [("vpdq", vpdq_text(bank_frames))], labels=["tvec1"])
    # An excerpt (frames 10-19), re-encoded (a few bits flipped), in another order.
    excerpt = [flip_bits(f, 8, rng) for f in reversed(bank_frames[10:20])]
    result = bastion.scanner.scan_signals([Signal("vpdq", vpdq_text(excerpt))])
    assert result.matched
    detail = result.matches[0].detail or {}
    assert detail["query_match_percent"] == 100.0
    assert detail["bank_segments"] == [[10.0, 19.0]]
    # The whole bank video inside a longer compilation of unrelated footage.
    compilation = [random_pdq(rng) for _ in range(60)] + bank_frames + [random_pdq(rng)]
    result = bastion.scanner.scan_signals([Signal("vpdq", vpdq_text(compilation))])
    assert result.matched and (result.matches[0].detail or {})["bank_match_percent"] == 100.0
    other = [random_pdq(rng) for _ in range(30)]
    assert not bastion.scanner.scan_signals([Signal("vpdq", vpdq_text(other))]).matches
    # Flat frames (low quality) never match anything.
    flat = vpdq_text(bank_frames, quality=10)
    assert not bastion.scanner.scan_signals([Signal("vpdq", flat)]).matches


def test_scan_records_content_signals_matches_and_entry_sightings(bastion: Bastion) -> None:
    known = random_pdq(random.Random(16))
    (entry_id,) = _bank(bastion, "propaganda", [("pdq", known)])
    result = bastion.scanner.scan_signals(
        [Signal("pdq", known, quality=90)], name="upload-1", external_id="post:42"
    )
    with bastion.db.session() as s:
        content = s.get(ContentRow, result.content_id)
        assert content is not None and content.external_id == "post:42"
        signals = s.scalars(select(SignalRow).where(SignalRow.content_id == content.id)).all()
        assert [(x.signal_type, x.value, x.quality) for x in signals] == [("pdq", known, 90)]
        (match,) = s.scalars(select(MatchRow).where(MatchRow.content_id == content.id)).all()
        assert (match.bank_entry_id, match.distance, match.suppressed) == (entry_id, 0.0, False)
        entry = s.get(BankEntryRow, entry_id)
        assert entry is not None and entry.first_seen is not None and entry.last_seen is not None


def test_matcher_sees_bank_changes_without_restart(bastion: Bastion) -> None:
    rng = random.Random(17)
    first, second = random_pdq(rng), random_pdq(rng)
    _bank(bastion, "propaganda", [("pdq", first)])
    assert not bastion.scanner.scan_signals([Signal("pdq", second)]).matched
    with bastion.db.session() as s:
        bastion.banks.add_entries(s, "propaganda", [NewEntry("pdq", second)], actor=ACTOR)
    assert bastion.scanner.scan_signals([Signal("pdq", second)]).matched
    with bastion.db.session() as s:
        bastion.banks.delete(s, "propaganda", actor=ACTOR)
    assert not bastion.scanner.scan_signals([Signal("pdq", second)]).matched


def test_scan_without_recording_matches_but_keeps_nothing(bastion: Bastion) -> None:
    known = random_pdq(random.Random(18))
    (entry_id,) = _bank(bastion, "propaganda", [("pdq", known)])
    result = bastion.scanner.scan_signals([Signal("pdq", known)], record=False)
    assert result.matched and result.content_id is None
    with bastion.db.session() as s:
        assert s.scalars(select(ContentRow)).all() == []
        assert s.scalars(select(MatchRow)).all() == []
        entry = s.get(BankEntryRow, entry_id)
        assert entry is not None and entry.last_seen is None
