"""Bank export: what it writes, the importer reads back into an identical bank."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from bastion.banks import exporter
from bastion.banks.exporter import ExportFormat, export_entries
from bastion.banks.from_media import entries_from_extraction
from bastion.banks.importer import import_entries
from bastion.banks.records import NewEntry
from bastion.demo.media import make_photo
from bastion.errors import BankNotFound, InvalidInput
from bastion.runtime import Bastion
from bastion.signals.extract import extract_signals
from bastion.storage.models import BankEntryRow, utcnow

FORMATS: tuple[ExportFormat, ...] = ("jsonl", "json", "csv")
VPDQ = "\n".join(f"{n * 15},100,{(format(n, 'x') * 64)[:64]},{n * 0.5:.3f}" for n in range(1, 5))
# Notes that trip naive writers: separators, quotes, a newline, non-ASCII text.
AWKWARD_NOTE = 'seen on "channel, X"; reposted\nsecond line - قناة'


@pytest.fixture(scope="module")
def photo_entries() -> list[NewEntry]:
    """md5, sha256 and PDQ (with variants) entries for two generated photos."""
    found: list[NewEntry] = []
    for seed, labels in ((11, ["tvec1", "tvec7"]), (12, [])):
        extraction = extract_signals(make_photo(seed, size=(640, 480)))
        entries, skipped = entries_from_extraction(
            extraction, source=f"file:photo-{seed}.jpg", labels=labels, note=f"photo {seed}"
        )
        assert skipped == []
        found.extend(entries)
    assert sum(1 for e in found if e.variants) == 2
    return found


def _fill(bastion: Bastion, name: str, photo_entries: list[NewEntry]) -> None:
    extra = [
        NewEntry("md5", "d41d8cd98f00b204e9800998ecf8427e", ["tvec6"], AWKWARD_NOTE),
        NewEntry("sha256", "ab" * 32, [], ""),
        NewEntry("pdq", "0123456789abcdef" * 4, ["tvec01", "tvec2"], "hash from a partner"),
        NewEntry("vpdq", VPDQ, ["tvec1"], "a clip"),
    ]
    with bastion.db.session() as session:
        bastion.banks.create(session, name=name, actor="test")
        bastion.banks.add_entries(session, name, [*photo_entries, *extra], actor="test")


def _state(bastion: Bastion, name: str) -> list[tuple[Any, ...]]:
    """What an export must carry, in id order."""
    with bastion.db.session() as session:
        entries = bastion.banks.list_entries(session, name, limit=10_000)
    return [(e.signal_type, e.value, e.labels, e.note, e.variants) for e in entries]


def _export(bastion: Bastion, name: str, fmt: ExportFormat, **options: Any) -> str:
    with bastion.db.session() as session:
        chunks = export_entries(
            session, bastion.banks, name, fmt, actor="test", audit=bastion.audit, **options
        )
        return "".join(chunks)


def _import(bastion: Bastion, name: str, text: str, fmt: ExportFormat) -> None:
    with bastion.db.session() as session:
        bastion.banks.create(session, name=name, actor="test")
        report = import_entries(bastion.banks, session, name, text.encode(), fmt=fmt, actor="test")
    assert report.errors == [] and report.duplicates == 0


def _set_entry(bastion: Bastion, entry_id: int, **values: Any) -> None:
    with bastion.db.session() as session:
        session.execute(update(BankEntryRow).where(BankEntryRow.id == entry_id).values(**values))


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_then_import_reproduces_every_entry(
    bastion: Bastion,
    photo_entries: list[NewEntry],
    fmt: ExportFormat,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exporter, "BATCH_SIZE", 3)  # several batches, and one left part-full
    _fill(bastion, "source", photo_entries)
    original = _state(bastion, "source")
    assert len(original) == 10
    assert any(row[4] for row in original) and any("\n" in row[1] for row in original)

    text = _export(bastion, "source", fmt)
    _import(bastion, "copy", text, fmt)

    assert _state(bastion, "copy") == original


def test_each_format_has_the_importer_shape(
    bastion: Bastion, photo_entries: list[NewEntry]
) -> None:
    _fill(bastion, "source", photo_entries)

    lines = _export(bastion, "source", "jsonl").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 10
    assert records[0].keys() == {"signal_type", "value", "labels", "note"}  # md5: no variants
    pdq = next(r for r in records if r.get("variants"))
    assert set(pdq["variants"]) == {"hashes", "frames", "checks"}

    document = json.loads(_export(bastion, "source", "json"))
    assert document == records

    rows = list(csv.reader(io.StringIO(_export(bastion, "source", "csv"), newline="")))
    assert rows[0] == ["signal_type", "value", "labels", "note", "variants"]
    assert rows[1][2] == "tvec1;tvec7" and rows[1][4] == ""
    with_variants = [row for row in rows[1:] if row[4]]
    assert len(with_variants) == 2
    assert json.loads(with_variants[0][4]) == pdq["variants"]
    assert " " not in with_variants[0][4]  # compact JSON text


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_variants_leaves_them_out(
    bastion: Bastion, photo_entries: list[NewEntry], fmt: ExportFormat
) -> None:
    _fill(bastion, "source", photo_entries)

    text = _export(bastion, "source", fmt, include_variants=False)
    assert "variants" not in text and "checks" not in text
    _import(bastion, "copy", text, fmt)

    copied = _state(bastion, "copy")
    assert [row[:4] for row in copied] == [row[:4] for row in _state(bastion, "source")]
    assert all(row[4] is None for row in copied)


def test_disabled_and_quarantined_entries_are_exported_unless_skipped(
    bastion: Bastion, photo_entries: list[NewEntry]
) -> None:
    _fill(bastion, "source", photo_entries[:3])
    with bastion.db.session() as session:
        first, second, third = (e.id for e in bastion.banks.list_entries(session, "source")[:3])
    now = utcnow()
    _set_entry(bastion, first, disabled_until=now + timedelta(days=30))
    _set_entry(bastion, second, disabled_until=now - timedelta(days=1))  # lapsed: matches again
    _set_entry(bastion, third, quarantined_at=now, quarantine_reason="flood")

    everything = _export(bastion, "source", "jsonl").splitlines()
    enabled = _export(bastion, "source", "jsonl", skip_disabled=True).splitlines()

    assert len(everything) == 7  # 3 from the photo, 4 more
    assert len(enabled) == 6
    assert everything[1:] == enabled


def test_every_export_is_audited(bastion: Bastion, photo_entries: list[NewEntry]) -> None:
    _fill(bastion, "source", photo_entries[:3])
    future = datetime.now(UTC) + timedelta(days=1)
    with bastion.db.session() as session:
        first = bastion.banks.list_entries(session, "source")[0].id
    _set_entry(bastion, first, disabled_until=future)

    _export(bastion, "source", "csv")
    _export(bastion, "source", "jsonl", include_variants=False, skip_disabled=True)

    with bastion.db.session() as session:
        events = bastion.audit.list(session, action="bank.export")
        assert bastion.audit.verify(session).intact
    assert [(e.actor, e.target_type, e.target_id) for e in events] == [
        ("test", "bank", "source")
    ] * 2
    assert [e.details for e in reversed(events)] == [
        {"format": "csv", "entry_count": 7, "variants": True, "skip_disabled": False},
        {"format": "jsonl", "entry_count": 6, "variants": False, "skip_disabled": True},
    ]


def test_an_empty_bank_exports_what_readers_expect(bastion: Bastion) -> None:
    with bastion.db.session() as session:
        bastion.banks.create(session, name="empty", actor="test")

    assert _export(bastion, "empty", "jsonl") == ""
    assert json.loads(_export(bastion, "empty", "json")) == []
    assert _export(bastion, "empty", "csv").splitlines() == [
        "signal_type,value,labels,note,variants"
    ]


def test_unknown_bank_and_bad_format_fail_before_any_output(bastion: Bastion) -> None:
    with bastion.db.session() as session:
        bastion.banks.create(session, name="real", actor="test")
        with pytest.raises(BankNotFound):
            export_entries(session, bastion.banks, "nope", "csv", actor="t", audit=bastion.audit)
        with pytest.raises(InvalidInput):
            export_entries(
                session,
                bastion.banks,
                "real",
                "xml",  # type: ignore[arg-type]
                actor="t",
                audit=bastion.audit,
            )
        assert bastion.audit.list(session, action="bank.export") == []
