"""The STIX 2.1 profile for bank entries: round trips, stable ids, markings, OASIS validation."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from stix2validator import ValidationOptions, validate_instance

from bastion.banks.records import BankInfo, BankKind, BankSource, EntryInfo, Severity, Tlp
from bastion.errors import BastionError, InvalidSignal, StixUnsupported
from bastion.share import stix, stix_patterns
from bastion.signals.registry import all_signal_types
from bastion.signals.text import MINHASH_SIZE, format_minhash, format_shingles

ADDED = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)
VPDQ = "\n".join(f"{n * 15},100,{(format(n, 'x') * 64)[:64]},{n * 0.5:.3f}" for n in range(1, 5))
# One canonical value per signal type.
VALUES: dict[str, str] = {
    "md5": "d41d8cd98f00b204e9800998ecf8427e",
    "sha256": "ab" * 32,
    "pdq": "0123456789abcdef" * 4,
    "vpdq": VPDQ,
    "chromaprint": "cp1:d/ltJQ==",
    "text_sha256": "cd" * 32,
    "text_minhash": format_minhash(np.arange(MINHASH_SIZE, dtype=np.uint32)),
    "text_shingles": format_shingles(np.array([3, 7, 11], dtype=np.uint64)),
    "url": "https://example.com/path/it's?q=o'brien",
    "url_prefix": "https://example.com/channel",
    "domain": "example.org",
    "crypto_address": "btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
    "iban": "GB82WEST12345698765432",
    "bic": "DEUTDEFF500",
    "payment_account": "paypal:brother1",
    "phone": "+252615123456",
}
STRICT = ValidationOptions(version="2.1", strict=True)


def make_bank(
    tlp: Tlp = Tlp.AMBER, kind: BankKind = BankKind.POSITIVE, **thresholds: float
) -> BankInfo:
    return BankInfo(
        id=1,
        name="tvec-core",
        description="",
        kind=kind,
        labels=["tvec1"],
        severity=Severity.HIGH,
        source=BankSource.LOCAL,
        tlp=tlp,
        thresholds=dict(thresholds),
        enabled=True,
        created_at=ADDED,
        updated_at=ADDED,
    )


def make_entry(signal_type: str, value: str | None = None, **changes: Any) -> EntryInfo:
    fields: dict[str, Any] = {
        "id": 42,
        "bank": "tvec-core",
        "signal_type": signal_type,
        "value": VALUES[signal_type] if value is None else value,
        "quality": None,
        "labels": ["tvec7"],
        "note": 'seen on "channel"; it\'s a \\ note',
        "added_by": "analyst",
        "added_from": "file:x.jpg",
        "added_at": ADDED,
        "first_seen": None,
        "last_seen": None,
        "disabled_until": None,
    }
    fields.update(changes)
    return EntryInfo(**fields)


ORG = stix.identity("Example Trust & Safety", instance="bastion.example.net")


def export(entry: EntryInfo, bank: BankInfo | None = None, **kwargs: Any) -> dict[str, Any]:
    return stix.entry_to_indicator(
        entry, bank or make_bank(), producer=ORG["id"], instance="bastion.example.net", **kwargs
    )


def assert_valid(objects: list[dict[str, Any]]) -> None:
    shared = stix.bundle([stix.project_identity(), stix.extension_definition(), ORG, *objects])
    # Through JSON, as another organisation would receive it.
    results = validate_instance(json.loads(json.dumps(shared)), STRICT)
    assert results.is_valid, [e.message for e in results.errors]
    assert [w.message for w in results.warnings] == []


def test_every_registered_signal_type_is_in_the_profile() -> None:
    names = {t.name for t in all_signal_types()}
    assert (
        names
        == set(stix_patterns.PATTERN_PATHS)
        == set(VALUES)
        == set(stix_patterns.ALGORITHM_VERSIONS)
    )


@pytest.mark.parametrize("signal_type", sorted(VALUES))
def test_round_trip(signal_type: str) -> None:
    entry = make_entry(signal_type, quality=90 if signal_type == "pdq" else None)
    indicator = export(entry)
    shared = stix.indicator_to_entry(json.loads(json.dumps(indicator)))
    assert shared.entry.signal_type == signal_type
    assert shared.entry.value == entry.value
    assert shared.entry.labels == ["tvec1", "tvec7"]  # the bank's and the entry's
    assert shared.entry.note == entry.note
    assert shared.entry.quality == entry.quality
    assert shared.entry.added_from == f"stix:{indicator['id']}"
    assert shared.producer == ORG["id"]
    assert shared.kind is BankKind.POSITIVE
    assert shared.tlp is Tlp.AMBER
    assert shared.confidence == 85
    assert shared.revoked is False
    assert_valid([indicator])


@pytest.mark.parametrize(
    ("signal_type", "pattern_start"),
    [
        ("md5", "[file:hashes.MD5 = '"),
        ("sha256", "[file:hashes.'SHA-256' = '"),
        ("pdq", "[file:hashes.'x_bastion_pdq' = '"),
        ("vpdq", "[file:hashes.'x_bastion_vpdq' = '"),
        ("chromaprint", "[file:hashes.'x_bastion_chromaprint' = '"),
        ("text_minhash", "[file:hashes.'x_bastion_text_minhash' = '"),
        ("url", "[url:value = '"),
        ("domain", "[domain-name:value = '"),
        ("url_prefix", "[x-bastion-url-prefix:value = '"),
        ("crypto_address", "[cryptocurrency-wallet:value = 'bc1qw508d6"),
        ("iban", "[bank-account:iban = 'GB82"),
        ("phone", "[phone-number:value = '+252"),
        ("payment_account", "[x-bastion-payment-account:value = 'paypal:"),
    ],
)
def test_patterns(signal_type: str, pattern_start: str) -> None:
    indicator = export(make_entry(signal_type))
    assert indicator["pattern"].startswith(pattern_start)
    assert indicator["pattern_type"] == "stix"


def test_quotes_and_backslashes_are_escaped() -> None:
    assert stix_patterns.escape_literal("a'b\\c") == "a\\'b\\\\c"
    indicator = export(make_entry("url"))
    assert indicator["pattern"] == "[url:value = 'https://example.com/path/it\\'s?q=o\\'brien']"
    assert stix.parse_pattern("[url:value = 'a\\'b\\\\c']") == ("url", "a'b\\c")
    assert_valid([indicator])


def test_ids_are_deterministic_and_distinct() -> None:
    first = export(make_entry("pdq"))
    assert export(make_entry("pdq")) == first
    assert first["id"] == stix.indicator_id("bastion.example.net", "tvec-core", 42)
    assert first["id"].startswith("indicator--")
    others = {
        export(make_entry("pdq", id=43))["id"],
        stix.indicator_id("other.example.net", "tvec-core", 42),
        stix.indicator_id("bastion.example.net", "other-bank", 42),
    }
    assert first["id"] not in others and len(others) == 3
    assert stix.identity("Example Trust & Safety", instance="bastion.example.net") == ORG


@pytest.mark.parametrize("tlp", list(Tlp))
def test_tlp_marking_per_bank(tlp: Tlp) -> None:
    indicator = export(make_entry("md5"), make_bank(tlp))
    assert indicator["object_marking_refs"] == [stix.TLP_MARKING_IDS[tlp]]
    shared = stix.bundle([indicator])
    marking = shared["objects"][0]
    assert marking["id"] == stix.TLP_MARKING_IDS[tlp]
    assert marking["name"] == f"TLP:{tlp.value.upper()}"
    assert stix.indicator_to_entry(indicator).tlp is tlp
    assert_valid([indicator])


def test_published_tlp_ids() -> None:
    # The identifiers OASIS publishes for TLP 2.0 (cti-stix-common-objects).
    assert stix.TLP_MARKING_IDS[Tlp.CLEAR].endswith("94868c89-83c2-464b-929b-a1a8aa3c8487")
    assert stix.TLP_MARKING_IDS[Tlp.RED].endswith("e828b379-4e03-4974-9ac4-e53a884c97c1")


def test_extension_carries_match_distance_and_version() -> None:
    indicator = export(make_entry("pdq"), make_bank(pdq=20))
    properties = indicator["extensions"][stix.EXTENSION_ID]
    assert properties["extension_type"] == "property-extension"
    assert properties["match_distance"] == 20
    assert properties["max_distance"] == 256
    assert properties["algorithm_version"] == "pdq-1"
    assert stix.indicator_to_entry(indicator).match_distance == 20
    assert "match_distance" not in export(make_entry("md5"))["extensions"][stix.EXTENSION_ID]
    definition = stix.extension_definition()
    assert definition["id"] == stix.EXTENSION_ID
    assert definition["extension_types"] == ["property-extension"]


def test_revoked_and_disabled_entries() -> None:
    later = ADDED + timedelta(days=3)
    revoked = export(make_entry("sha256"), revoked=True, modified=later)
    assert revoked["revoked"] is True
    assert revoked["modified"] > revoked["created"]
    assert stix.indicator_to_entry(revoked).revoked is True
    disabled = export(make_entry("sha256", disabled_until=later))
    assert disabled["valid_from"] == "2026-03-07T05:06:07.891Z"
    assert stix.indicator_to_entry(disabled).valid_from == later
    assert_valid([revoked])


def test_negative_bank_entries_are_benign() -> None:
    indicator = export(make_entry("md5"), make_bank(kind=BankKind.NEGATIVE))
    assert indicator["indicator_types"] == ["benign"]
    assert stix.indicator_to_entry(indicator).kind is BankKind.NEGATIVE


def test_sighting_opinion_bundle_validate() -> None:
    indicator = export(make_entry("pdq"))
    seen = stix.sighting(
        indicator["id"], producer=ORG["id"], instance="bastion.example.net", seen_at=ADDED
    )
    dispute = stix.opinion(
        indicator["id"],
        "strongly-disagree",
        "a news report: false positive",
        producer=ORG["id"],
        instance="bastion.example.net",
        created=ADDED,
    )
    assert seen["sighting_of_ref"] == dispute["object_refs"][0] == indicator["id"]
    assert_valid([indicator, seen, dispute])
    with pytest.raises(BastionError, match="opinion must be"):
        stix.opinion(indicator["id"], "meh", "", producer=ORG["id"], instance="x", created=ADDED)


def test_bare_pdq_hash_name_is_accepted() -> None:
    indicator = export(make_entry("pdq"))
    indicator["pattern"] = f"[file:hashes.'PDQ' = '{VALUES['pdq'].upper()}']"
    del indicator["extensions"]
    shared = stix.indicator_to_entry(indicator)
    assert (shared.entry.signal_type, shared.entry.value) == ("pdq", VALUES["pdq"])
    assert shared.entry.note == indicator["description"]


def _broken(change: dict[str, Any]) -> dict[str, Any]:
    indicator = copy.deepcopy(export(make_entry("pdq")))
    indicator.update(change)
    return indicator


@pytest.mark.parametrize(
    "change",
    [
        {"type": "malware"},
        {"spec_version": "2.0"},
        {"id": "indicator--not-a-uuid"},
        {"pattern_type": "sigma"},
        {"pattern": "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"},
        {"pattern": "[file:name = 'x.jpg']"},
        {"pattern": "[file:hashes.MD5 = 'a'] OR [file:hashes.MD5 = 'b']"},
        {"pattern": "[file:hashes.MD5 = 'unterminated]"},
        {"pattern": None},
        {"labels": "tvec1"},
        {"confidence": 101},
        {"revoked": "yes"},
        {"created_by_ref": "malware--5f0e2a8c-7b3d-4c91-a6e4-2d8b9f1c0e57"},
        {"description": "x" * (stix.MAX_OBJECT_CHARS + 1)},
    ],
)
def test_bad_objects_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(StixUnsupported) as caught:
        stix.indicator_to_entry(_broken(change))
    assert caught.value.code == "stix_unsupported"
    assert caught.value.status == 422


def test_bad_values_are_refused_by_the_signal_type() -> None:
    with pytest.raises(InvalidSignal) as caught:
        stix.indicator_to_entry(_broken({"pattern": "[file:hashes.'x_bastion_pdq' = 'zz']"}))
    assert caught.value.code == "invalid_signal"
    # The pattern and the extension disagree on the signal type.
    with pytest.raises(StixUnsupported):
        stix.indicator_to_entry(_broken({"pattern": f"[file:hashes.MD5 = '{VALUES['md5']}']"}))


def test_wallets_from_other_producers_are_read_by_their_format() -> None:
    checksummed = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's first example
    for path in ("cryptocurrency-wallet:value", "cryptocurrency-wallet:address"):
        assert stix.parse_pattern(f"[{path} = '{checksummed}']") == ("crypto_address", checksummed)
    indicator = export(make_entry("crypto_address", f"evm:{checksummed.lower()}"))
    assert indicator["pattern"] == f"[cryptocurrency-wallet:value = '{checksummed.lower()}']"
    assert stix.indicator_to_entry(indicator).entry.value == f"evm:{checksummed.lower()}"
