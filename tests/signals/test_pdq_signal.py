"""The PDQ, MD5 and SHA-256 signal types: values, distances and hashing of generated photos."""

from __future__ import annotations

import hashlib

import pytest

from bastion.demo.media import EDITS, Edit, edit_photo, make_photo
from bastion.errors import InvalidSignal
from bastion.signals.base import HashLimits
from bastion.signals.exact import Md5Signal, Sha256Signal
from bastion.signals.pdq import PdqSignal, hash_photo

ZERO = "0" * 64
ONES = "f" * 64


def test_pdq_values_are_normalised_to_lower_hex() -> None:
    assert PdqSignal.normalize(f"  {'AB' * 32}\n") == "ab" * 32


@pytest.mark.parametrize("value", ["", "0" * 63, "0" * 65, "g" * 64, "0x" + "0" * 62, "0 " * 32])
def test_malformed_pdq_values_are_invalid_signals(value: str) -> None:
    with pytest.raises(InvalidSignal) as caught:
        PdqSignal.normalize(value)
    assert caught.value.code == "invalid_signal"


def test_pdq_distance_is_hamming_bits() -> None:
    assert PdqSignal.distance(ZERO, ZERO) == 0
    assert PdqSignal.distance(ZERO, ONES) == PdqSignal.max_distance == 256
    assert PdqSignal.distance(ZERO, "8" + "0" * 62 + "1") == 2
    assert PdqSignal.default_threshold == 31
    with pytest.raises(InvalidSignal):
        PdqSignal.distance(ZERO, "nope")


def test_exact_hashes_are_the_standard_digests() -> None:
    data = b"bastion"
    (md5,) = Md5Signal.hash_bytes(data, HashLimits())
    (sha256,) = Sha256Signal.hash_bytes(data, HashLimits())
    assert md5.value == hashlib.md5(data).hexdigest()
    assert sha256.value == hashlib.sha256(data).hexdigest()
    assert Md5Signal.normalize(md5.value.upper()) == md5.value
    with pytest.raises(InvalidSignal):
        Md5Signal.normalize(sha256.value)
    with pytest.raises(InvalidSignal):
        Sha256Signal.normalize(md5.value)


def test_a_photo_hashes_to_a_pdq_signal_with_quality() -> None:
    (signal,) = PdqSignal.hash_bytes(make_photo(1, size=(320, 240)), HashLimits())
    assert signal.type == "pdq"
    assert PdqSignal.normalize(signal.value) == signal.value
    assert signal.quality is not None
    assert signal.quality >= 80


@pytest.mark.parametrize("edit", EDITS)
def test_edited_copies_stay_within_the_threshold(edit: Edit) -> None:
    for seed in (3, 4):
        original = make_photo(seed, size=(480, 360))
        a, _ = hash_photo(original, HashLimits())
        b, _ = hash_photo(edit_photo(original, edit), HashLimits())
        assert PdqSignal.distance(a.value, b.value) <= PdqSignal.default_threshold


def test_different_photos_are_far_apart() -> None:
    a, _ = hash_photo(make_photo(5, size=(320, 240)), HashLimits())
    b, _ = hash_photo(make_photo(6, size=(320, 240)), HashLimits())
    assert PdqSignal.distance(a.value, b.value) > 70
