"""Signed bundle files between two instances: export, verify, import, revoke, refuse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from stix2validator import ValidationOptions, validate_instance

from bastion.banks.records import NewEntry
from bastion.errors import (
    FeedTooLarge,
    ImportMalformed,
    InvalidInput,
    SignatureInvalid,
    SignatureMissing,
    SignerUntrusted,
)
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.share.bundles import ImportReport, export_bundle, import_bundle, signature_path
from bastion.share.instance import this_instance
from bastion.share.signing import InstanceIdentity, TrustStore

STRICT = ValidationOptions(version="2.1", strict=True)


def _md5(n: int) -> str:
    return f"{n:032x}"


@pytest.fixture
def sender(tmp_path: Path) -> Iterator[Bastion]:
    bastion = Bastion.from_settings(Settings(data_dir=tmp_path / "sender"))
    with bastion.db.session() as session:
        bastion.banks.create(session, name="crisis", actor="test", tlp="green")
        bastion.banks.create(session, name="secret", actor="test", tlp="amber")
        bastion.banks.add_entries(
            session,
            "crisis",
            [
                NewEntry("md5", _md5(1), labels=["tvec2"]),
                NewEntry("md5", _md5(2), labels=["tvec2"]),
                NewEntry("md5", _md5(3), note="identifies a victim", tlp="red"),
            ],
            actor="test",
        )
    yield bastion
    bastion.close()


@pytest.fixture
def receiver(tmp_path: Path, database_url: str) -> Iterator[Bastion]:
    bastion = Bastion.from_settings(
        Settings(data_dir=tmp_path / "receiver", database_url=database_url)
    )
    with bastion.db.session() as session:
        bastion.banks.create(session, name="from-sender", actor="test", tlp="green")
    yield bastion
    bastion.close()


def _export(sender: Bastion, path: Path, bank: str = "crisis", amber: bool = False) -> Path:
    data_dir = sender.settings.data_dir
    with sender.db.session() as session:
        export_bundle(
            session,
            sender.banks,
            this_instance(data_dir),
            InstanceIdentity.load_or_create(data_dir),
            bank,
            path,
            amber=amber,
        )
    return path


def _trust(receiver: Bastion, sender: Bastion) -> None:
    key = InstanceIdentity.load_or_create(sender.settings.data_dir).public_key
    TrustStore.open(receiver.settings.data_dir).add("sender", key)


def _import(
    receiver: Bastion,
    path: Path,
    *,
    max_bytes: int = 10_000_000,
    allow_unsigned: bool = False,
    signature: Path | None = None,
) -> ImportReport:
    with receiver.db.session() as session:
        return import_bundle(
            session,
            receiver.banks,
            receiver.audit,
            TrustStore.open(receiver.settings.data_dir),
            "from-sender",
            path,
            actor="test",
            max_bytes=max_bytes,
            signature=signature,
            allow_unsigned=allow_unsigned,
        )


def _values(bastion: Bastion) -> list[str]:
    with bastion.db.session() as session:
        return sorted(e.value for e in bastion.banks.list_entries(session, "from-sender"))


def test_export_is_a_valid_signed_bundle_without_red_entries(
    sender: Bastion, tmp_path: Path
) -> None:
    path = _export(sender, tmp_path / "crisis.json")
    document = json.loads(path.read_bytes())
    assert document["type"] == "bundle"
    patterns = [o["pattern"] for o in document["objects"] if o["type"] == "indicator"]
    assert len(patterns) == 2
    assert not any(_md5(3) in p for p in patterns)
    result = validate_instance(document, STRICT)
    assert result.is_valid, [str(e) for e in result.errors]
    assert json.loads(signature_path(path).read_bytes())["signer"].startswith("sha256:")
    with pytest.raises(InvalidInput, match="--amber"):
        _export(sender, tmp_path / "secret.json", bank="secret")
    assert _export(sender, tmp_path / "secret.json", bank="secret", amber=True).exists()


def test_a_trusted_bundle_is_imported_and_revocations_follow(
    sender: Bastion, receiver: Bastion, tmp_path: Path
) -> None:
    _trust(receiver, sender)
    report = _import(receiver, _export(sender, tmp_path / "v1.json"))
    assert (report.signer, report.counts.added) == ("sender", 2)
    assert _values(receiver) == [_md5(1), _md5(2)]
    with receiver.db.session() as session:
        held = receiver.banks.list_entries(session, "from-sender")
    assert {e.added_by for e in held} == {"partner:sender"}
    # The sender removes an entry; its next bundle revokes it at the receiver.
    with sender.db.session() as session:
        first = next(e for e in sender.banks.list_entries(session, "crisis") if e.value == _md5(1))
        sender.banks.delete_entry(session, "crisis", first.id, actor="test")
    again = _import(receiver, _export(sender, tmp_path / "v2.json"))
    assert (again.counts.revoked, again.counts.added) == (1, 0)
    assert _values(receiver) == [_md5(2)]


def test_refusals_apply_nothing(sender: Bastion, receiver: Bastion, tmp_path: Path) -> None:
    path = _export(sender, tmp_path / "crisis.json")
    with pytest.raises(SignerUntrusted):
        _import(receiver, path)
    _trust(receiver, sender)
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(path.read_bytes().replace(b"tvec2", b"tvec3"))
    signature_path(tampered).write_bytes(signature_path(path).read_bytes())
    with pytest.raises(SignatureInvalid):
        _import(receiver, tampered)
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_bytes(path.read_bytes())
    with pytest.raises(SignatureMissing):
        _import(receiver, unsigned)
    with pytest.raises(FeedTooLarge):
        _import(receiver, path, max_bytes=100)
    broken = tmp_path / "broken.json"
    for content in (b"{not json", b'{"type": "indicator"}', b'{"type": "bundle", "objects": 3}'):
        broken.write_bytes(content)
        with pytest.raises(ImportMalformed):
            _import(receiver, broken, allow_unsigned=True)
    assert _values(receiver) == []
    # Unsigned on purpose: imported, with the provenance saying so.
    report = _import(receiver, unsigned, allow_unsigned=True)
    assert (report.signer, report.counts.added) == (None, 2)


def test_objects_outside_the_profile_are_rejected_one_by_one(
    sender: Bastion, receiver: Bastion, tmp_path: Path
) -> None:
    path = _export(sender, tmp_path / "crisis.json")
    document = json.loads(path.read_bytes())
    odd = dict(
        next(o for o in document["objects"] if o["type"] == "indicator"),
        id="indicator--7f0c8a52-9d6e-4f1a-8a39-2a0f5c1d9e11",
        pattern_type="sigma",
    )
    document["objects"].append(odd)
    path.write_text(json.dumps(document))
    report = _import(receiver, path, allow_unsigned=True, signature=tmp_path / "none.sig.json")
    assert report.counts.added == 2
    assert [r["code"] for r in report.rejected] == ["stix_unsupported"]
