"""Signed feeds: the instance identity, detached bundle signatures and the trust store."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from bastion.errors import (
    BastionError,
    Conflict,
    InvalidInput,
    PublicKeyMalformed,
    SignatureInvalid,
    SignatureMalformed,
    SignerNotFound,
    SignerRevoked,
    SignerUntrusted,
)
from bastion.share.signing import (
    InstanceIdentity,
    TrustStore,
    fingerprint,
    parse_public_key,
    sign_bundle,
    verify_bundle,
)

BUNDLE = b'{"type": "bundle", "id": "bundle--1", "objects": []}'


@pytest.fixture
def me(tmp_path: Path) -> InstanceIdentity:
    return InstanceIdentity.load_or_create(tmp_path / "me")


@pytest.fixture
def partner(tmp_path: Path) -> InstanceIdentity:
    return InstanceIdentity.load_or_create(tmp_path / "partner")


@pytest.fixture
def trust(tmp_path: Path) -> TrustStore:
    return TrustStore.open(tmp_path / "me")


def _flip(text: str, index: int = 5) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def test_identity_is_created_once_with_0600_and_reused(tmp_path: Path) -> None:
    first = InstanceIdentity.load_or_create(tmp_path)
    path = tmp_path / "identity" / "ed25519.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again = InstanceIdentity.load_or_create(tmp_path)
    assert again.public_key == first.public_key
    assert again.fingerprint == first.fingerprint
    assert len(parse_public_key(first.public_key)) == 32
    assert first.fingerprint == fingerprint(first.public_key_raw)
    assert first.fingerprint.startswith("sha256:") and len(first.fingerprint) == 7 + 32
    assert "PRIVATE" not in repr(first)


def test_a_key_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "identity"
    folder.mkdir()
    (folder / "ed25519.pem").write_bytes(b"not a key")
    with pytest.raises(InvalidInput):
        InstanceIdentity.load_or_create(tmp_path)


def test_round_trip(me: InstanceIdentity, partner: InstanceIdentity, trust: TrustStore) -> None:
    trust.add("partner", partner.public_key)
    signed = sign_bundle(BUNDLE, partner)
    assert signed.envelope["signer"] == partner.fingerprint
    assert signed.envelope["algorithm"] == "ed25519"
    signer = verify_bundle(BUNDLE, signed.to_json(), trust)
    assert signer.name == "partner"
    # the envelope as a dict and as text verify alike
    assert verify_bundle(BUNDLE, signed.envelope, trust) == signer
    assert verify_bundle(BUNDLE, signed.to_json().decode(), trust) == signer


@pytest.mark.parametrize("index", [0, 10, len(BUNDLE) - 1])
def test_one_flipped_byte_in_the_bundle_is_refused(
    partner: InstanceIdentity, trust: TrustStore, index: int
) -> None:
    trust.add("partner", partner.public_key)
    signed = sign_bundle(BUNDLE, partner)
    changed = bytearray(BUNDLE)
    changed[index] ^= 0x01
    with pytest.raises(SignatureInvalid) as caught:
        verify_bundle(bytes(changed), signed.envelope, trust)
    assert caught.value.code == "signature_invalid"


def test_a_flipped_signature_or_header_is_refused(
    partner: InstanceIdentity, trust: TrustStore
) -> None:
    trust.add("partner", partner.public_key)
    envelope = sign_bundle(BUNDLE, partner).envelope
    with pytest.raises(SignatureInvalid):
        verify_bundle(BUNDLE, {**envelope, "signature": _flip(envelope["signature"])}, trust)
    with pytest.raises(SignatureInvalid):
        verify_bundle(BUNDLE, {**envelope, "created": "2000-01-01T00:00:00Z"}, trust)


def test_a_bundle_re_signed_by_another_key_claiming_a_trusted_fingerprint_is_refused(
    me: InstanceIdentity, partner: InstanceIdentity, trust: TrustStore
) -> None:
    trust.add("partner", partner.public_key)
    envelope = sign_bundle(BUNDLE, me).envelope
    with pytest.raises(SignatureMalformed):  # fingerprint does not match the key it comes with
        verify_bundle(BUNDLE, {**envelope, "signer": partner.fingerprint}, trust)
    forged = {**envelope, "public_key": partner.public_key, "signer": partner.fingerprint}
    with pytest.raises(SignatureInvalid):
        verify_bundle(BUNDLE, forged, trust)


def test_unknown_signer_is_refused(partner: InstanceIdentity, trust: TrustStore) -> None:
    signed = sign_bundle(BUNDLE, partner)
    with pytest.raises(SignerUntrusted) as caught:
        verify_bundle(BUNDLE, signed.envelope, trust)
    assert caught.value.code == "signer_untrusted"
    assert caught.value.context["signer"] == partner.fingerprint


def test_trusted_then_removed_is_refused(partner: InstanceIdentity, trust: TrustStore) -> None:
    trust.add("partner", partner.public_key)
    signed = sign_bundle(BUNDLE, partner)
    verify_bundle(BUNDLE, signed.envelope, trust)
    trust.remove("partner")
    with pytest.raises(SignerUntrusted):
        verify_bundle(BUNDLE, signed.envelope, trust)


def test_revoked_signer_is_refused_and_cannot_be_re_added(
    partner: InstanceIdentity, trust: TrustStore
) -> None:
    trust.add("partner", partner.public_key)
    revoked = trust.revoke("partner")
    assert revoked.revoked_at is not None
    signed = sign_bundle(BUNDLE, partner)
    with pytest.raises(SignerRevoked) as caught:
        verify_bundle(BUNDLE, signed.envelope, trust)
    assert caught.value.code == "signer_revoked"
    with pytest.raises(Conflict):
        trust.add("partner-again", partner.public_key)


def _envelope_variants(envelope: dict[str, Any]) -> list[Any]:
    without_signer = {k: v for k, v in envelope.items() if k != "signer"}
    return [
        b"not json",
        "[]",
        json.dumps([envelope]),
        without_signer,
        {**envelope, "extra": 1},
        {**envelope, "version": 2},
        {**envelope, "version": True},
        {**envelope, "algorithm": "rsa"},
        {**envelope, "signer": 5},
        {**envelope, "signer": "md5:abc"},
        {**envelope, "sha256": "xyz"},
        {**envelope, "public_key": "!!!"},
        {**envelope, "public_key": envelope["public_key"][:-2]},
        {**envelope, "signature": "*"},
        {**envelope, "signature": envelope["signature"][:-4]},
        b"{" * 100_000,
    ]


def test_malformed_envelopes_have_a_stable_code(
    partner: InstanceIdentity, trust: TrustStore
) -> None:
    trust.add("partner", partner.public_key)
    envelope = sign_bundle(BUNDLE, partner).envelope
    for variant in _envelope_variants(envelope):
        with pytest.raises(SignatureMalformed) as caught:
            verify_bundle(BUNDLE, variant, trust)
        assert caught.value.code == "signature_malformed", variant


@pytest.mark.parametrize(
    "key", ["", "abc", "!" * 43, "A" * 44, "A" * 42, "AAAA====", "A" * 43 + "\n" + "A"]
)
def test_malformed_public_keys_are_refused(trust: TrustStore, key: str) -> None:
    with pytest.raises(PublicKeyMalformed) as caught:
        trust.add("partner", key)
    assert caught.value.code == "public_key_malformed"
    assert trust.list() == []


def test_trust_store_add_list_remove(
    tmp_path: Path, me: InstanceIdentity, partner: InstanceIdentity, trust: TrustStore
) -> None:
    assert trust.list() == []
    trust.add("zeta", me.public_key)
    added = trust.add("alpha", partner.public_key + "=")  # padding is accepted, then dropped
    assert added.public_key == partner.public_key
    assert [s.name for s in trust.list()] == ["alpha", "zeta"]
    # persisted: a fresh store on the same folder sees the same signers
    assert TrustStore.open(tmp_path / "me").list() == trust.list()
    stored = json.loads((tmp_path / "me" / "identity" / "trusted.json").read_text())
    assert [s["name"] for s in stored["signers"]] == ["alpha", "zeta"]
    with pytest.raises(Conflict):
        trust.add("alpha", me.public_key)  # name taken
    with pytest.raises(Conflict):
        trust.add("other", me.public_key)  # key already trusted
    with pytest.raises(InvalidInput):
        trust.add("bad name!", partner.public_key)
    trust.remove("zeta")
    assert [s.name for s in trust.list()] == ["alpha"]
    with pytest.raises(SignerNotFound):
        trust.remove("zeta")
    assert list((tmp_path / "me" / "identity").glob("*.tmp")) == []


def test_a_corrupt_trust_store_is_an_error_not_empty(tmp_path: Path) -> None:
    store = TrustStore.open(tmp_path)
    store.path.write_text("{not json")
    with pytest.raises(BastionError):
        store.list()
