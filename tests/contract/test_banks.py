"""Bank and entry behaviour through the domain layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bastion.banks.importer import import_entries
from bastion.banks.records import NewEntry
from bastion.errors import (
    BankExists,
    BankNotFound,
    EntryNotFound,
    ImportMalformed,
    InvalidInput,
    InvalidSignal,
)
from bastion.runtime import Bastion

from .helpers import random_pdq

ACTOR = "test:analyst"


def test_bank_lifecycle_is_audited(bastion: Bastion) -> None:
    with bastion.db.session() as s:
        bank = bastion.banks.create(
            s, name="isis-video", actor=ACTOR, labels=["TVEC1", "tvec.6"], tlp="red"
        )
        assert bank.labels == ["tvec1", "tvec6"]
        assert bank.tlp == "red" and bank.kind == "positive" and bank.enabled
    with bastion.db.session() as s:
        bastion.banks.update(s, "isis-video", actor=ACTOR, new_name="daesh-video", enabled=False)
        assert [b.name for b in bastion.banks.list(s)] == ["daesh-video"]
        assert bastion.banks.get(s, "daesh-video").enabled is False
        with pytest.raises(BankNotFound):
            bastion.banks.get(s, "isis-video")
    with bastion.db.session() as s:
        bastion.banks.delete(s, "daesh-video", actor=ACTOR)
        assert bastion.banks.list(s) == []
        actions = [e.action for e in bastion.audit.list(s)]
        assert actions == ["bank.delete", "bank.update", "bank.create"]
        assert all(e.actor == ACTOR for e in bastion.audit.list(s))
        assert bastion.audit.verify(s).intact


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"name": "bad name!"}, InvalidInput),
        ({"name": "ok", "labels": ["jihad"]}, InvalidInput),
        ({"name": "ok", "kind": "maybe"}, InvalidInput),
        ({"name": "ok", "tlp": "purple"}, InvalidInput),
        ({"name": "ok", "thresholds": {"pdq": 300}}, InvalidInput),
        ({"name": "ok", "thresholds": {"md5": 3}}, InvalidInput),
        ({"name": "ok", "thresholds": {"nosuch": 3}}, InvalidSignal),
    ],
)
def test_bad_bank_definitions_are_refused(
    bastion: Bastion, kwargs: dict[str, object], error: type[Exception]
) -> None:
    with bastion.db.session() as s, pytest.raises(error):
        bastion.banks.create(s, actor=ACTOR, **kwargs)  # type: ignore[arg-type]
    with bastion.db.session() as s:
        assert bastion.banks.list(s) == []
        assert bastion.audit.list(s) == []


def test_duplicate_bank_name_conflicts(bastion: Bastion) -> None:
    with bastion.db.session() as s:
        bastion.banks.create(s, name="a", actor=ACTOR)
        bastion.banks.create(s, name="b", actor=ACTOR)
    with bastion.db.session() as s, pytest.raises(BankExists):
        bastion.banks.create(s, name="a", actor=ACTOR)
    with bastion.db.session() as s, pytest.raises(BankExists):
        bastion.banks.update(s, "b", actor=ACTOR, new_name="a")


def test_entries_are_normalised_deduplicated_and_carry_provenance(bastion: Bastion) -> None:
    pdq = random_pdq(random.Random(1))
    with bastion.db.session() as s:
        bastion.banks.create(s, name="photos", actor=ACTOR, labels=["tvec7"])
        report = bastion.banks.add_entries(
            s,
            "photos",
            [
                NewEntry("pdq", pdq.upper(), labels=["tvec1"], note="poster", added_from="tat:1"),
                NewEntry("pdq", pdq),
                NewEntry("md5", "D41D8CD98F00B204E9800998ECF8427E"),
            ],
            actor=ACTOR,
        )
        assert report.duplicates == 1 and len(report.added) == 2
    with bastion.db.session() as s:
        entries = bastion.banks.list_entries(s, "photos")
        assert [(e.signal_type, e.value) for e in entries] == [
            ("pdq", pdq),
            ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ]
        first = entries[0]
        assert first.labels == ["tvec1"] and first.note == "poster"
        assert (first.added_by, first.added_from) == (ACTOR, "tat:1")
        again = bastion.banks.add_entries(s, "photos", [NewEntry("pdq", pdq)], actor=ACTOR)
        assert again.duplicates == 1 and again.added == []
        assert bastion.banks.get(s, "photos").entry_count == 2


def test_bad_entry_values_are_refused_without_partial_writes(bastion: Bastion) -> None:
    with bastion.db.session() as s:
        bastion.banks.create(s, name="photos", actor=ACTOR)
    good = random_pdq(random.Random(2))
    for bad in ["xyz", "ab" * 31, "0" * 65]:
        with bastion.db.session() as s, pytest.raises(InvalidSignal):
            bastion.banks.add_entries(
                s, "photos", [NewEntry("pdq", good), NewEntry("pdq", bad)], actor=ACTOR
            )
    with bastion.db.session() as s:
        assert bastion.banks.list_entries(s, "photos") == []
        with pytest.raises(BankNotFound):
            bastion.banks.add_entries(s, "nope", [NewEntry("pdq", good)], actor=ACTOR)


def test_entry_disable_until_update_and_delete(bastion: Bastion) -> None:
    with bastion.db.session() as s:
        bastion.banks.create(s, name="photos", actor=ACTOR)
        entry = bastion.banks.add_entries(
            s, "photos", [NewEntry("pdq", random_pdq(random.Random(3)))], actor=ACTOR
        ).added[0]
    until = datetime.now(UTC) + timedelta(days=2)
    with bastion.db.session() as s:
        changed = bastion.banks.update_entry(
            s, "photos", entry.id, actor=ACTOR, disabled_until=until, labels=["tvec8"]
        )
        assert changed.disabled_until is not None
        assert abs((changed.disabled_until - until).total_seconds()) < 1
        assert changed.labels == ["tvec8"]
        with pytest.raises(InvalidInput):
            bastion.banks.update_entry(
                s, "photos", entry.id, actor=ACTOR, disabled_until=datetime(2030, 1, 1)
            )
    with bastion.db.session() as s:
        assert (
            bastion.banks.update_entry(
                s, "photos", entry.id, actor=ACTOR, disabled_until=None
            ).disabled_until
            is None
        )
        bastion.banks.delete_entry(s, "photos", entry.id, actor=ACTOR)
        with pytest.raises(EntryNotFound):
            bastion.banks.get_entry(s, "photos", entry.id)
        actions = [e.action for e in bastion.audit.list(s)]
        assert actions[:3] == ["bank.entry.delete", "bank.entry.update", "bank.entry.update"]


CSV_GOOD = (
    "signal_type,value,labels,note\n"
    "pdq,{p1},tvec1;tvec6,poster\n"
    "md5,d41d8cd98f00b204e9800998ecf8427e,,\n"
    'sha256,{sha},TVEC7,"note, with comma"\n'
)


def test_csv_import_adds_every_row(bastion: Bastion) -> None:
    rng = random.Random(4)
    data = CSV_GOOD.format(p1=random_pdq(rng), sha="ab" * 32).encode()
    with bastion.db.session() as s:
        bastion.banks.create(s, name="partner", actor=ACTOR)
        report = import_entries(bastion.banks, s, "partner", data, fmt="csv", actor=ACTOR)
        assert len(report.added) == 3 and report.errors == []
        assert report.added[0].labels == ["tvec1", "tvec6"]
        assert report.added[2].note == "note, with comma"
        assert report.added[0].added_from == "import:line 2"


def test_malformed_csv_import_reports_line_numbers_and_imports_nothing(bastion: Bastion) -> None:
    rng = random.Random(5)
    data = (
        "signal_type,value,labels,note\n"
        f"pdq,{random_pdq(rng)},tvec1,\n"
        "pdq,nothex,tvec1,\n"
        "\n"
        f"pdq,{random_pdq(rng)},notalabel,\n"
        "sha1,abc,,\n"
        f"pdq,{random_pdq(rng)},,,extra\n"
    ).encode()
    with bastion.db.session() as s:
        bastion.banks.create(s, name="partner", actor=ACTOR)
    with bastion.db.session() as s, pytest.raises(ImportMalformed) as caught:
        import_entries(bastion.banks, s, "partner", data, fmt="csv", actor=ACTOR)
    errors = caught.value.context["errors"]
    assert [e["line"] for e in errors] == [3, 5, 6, 7]
    assert [e["code"] for e in errors] == [
        "invalid_signal",
        "invalid_input",
        "invalid_signal",
        "import_malformed",
    ]
    with bastion.db.session() as s:
        assert bastion.banks.list_entries(s, "partner") == []
        partial = import_entries(
            bastion.banks, s, "partner", data, fmt="csv", actor=ACTOR, partial=True
        )
        assert len(partial.added) == 1 and len(partial.errors) == 4


@pytest.mark.parametrize(
    ("data", "fmt", "needle"),
    [
        (b"\xff\xfe\x00garbage", "csv", "UTF-8"),
        (b"value,labels\nabc,tvec1\n", "csv", "header"),
        (b'[{"signal_type": "pdq", "value": ', "json", "line 1"),
        (b'{"not": "a list"}', "json", "list of entries"),
        (b"", "csv", "no entries"),
        (b'"a,b\n', "csv", "header"),
    ],
)
def test_malformed_imports_name_the_problem(
    bastion: Bastion, data: bytes, fmt: str, needle: str
) -> None:
    with bastion.db.session() as s:
        bastion.banks.create(s, name="partner", actor=ACTOR)
    with bastion.db.session() as s, pytest.raises(ImportMalformed) as caught:
        import_entries(bastion.banks, s, "partner", data, fmt=fmt, actor=ACTOR)  # type: ignore[arg-type]
    assert needle in caught.value.detail


def test_json_and_jsonl_imports(bastion: Bastion) -> None:
    rng = random.Random(6)
    p1, p2 = random_pdq(rng), random_pdq(rng)
    array = f'[{{"signal_type": "pdq", "value": "{p1}", "labels": ["tvec1"]}}, 5]'.encode()
    lines = f'{{"signal_type": "pdq", "value": "{p2}"}}\n{{"signal_type": "pdq"}}\n'.encode()
    with bastion.db.session() as s:
        bastion.banks.create(s, name="partner", actor=ACTOR)
    with bastion.db.session() as s, pytest.raises(ImportMalformed) as caught:
        import_entries(bastion.banks, s, "partner", array, fmt="json", actor=ACTOR)
    assert caught.value.context["errors"][0]["item"] == 2
    with bastion.db.session() as s, pytest.raises(ImportMalformed) as caught:
        import_entries(bastion.banks, s, "partner", lines, fmt="jsonl", actor=ACTOR)
    assert caught.value.context["errors"][0]["line"] == 2
    with bastion.db.session() as s:
        report = import_entries(
            bastion.banks, s, "partner", lines, fmt="jsonl", actor=ACTOR, partial=True
        )
        assert [e.value for e in report.added] == [p2]


def test_imported_variants_are_validated_per_line() -> None:
    """A Bastion export carries each PDQ entry's variants; malformed ones name their line."""
    import json

    from bastion.banks.importer import parse_entries

    checks = ["a" * 64] * 5
    good = {"hashes": {"inner": "b" * 64}, "frames": {}, "checks": checks}
    lines = [
        {"signal_type": "pdq", "value": "c" * 64, "variants": good},
        {"signal_type": "pdq", "value": "d" * 64, "variants": {"hashes": {"inner": "zz"}}},
        {"signal_type": "md5", "value": "e" * 32, "variants": good},
        {"signal_type": "pdq", "value": "f" * 64, "variants": "{not json"},
    ]
    data = "\n".join(json.dumps(line) for line in lines).encode()
    entries, errors = parse_entries(data, "jsonl", "test")
    assert [e.variants for e in entries] == [good]
    assert [(e["line"], e["code"]) for e in errors] == [
        (2, "invalid_signal"),
        (3, "invalid_input"),
        (4, "invalid_input"),
    ]
