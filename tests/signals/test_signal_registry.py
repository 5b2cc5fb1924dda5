"""The signal type registry: stable names, lookups, uniqueness."""

from __future__ import annotations

import re

import pytest

from bastion.errors import InvalidSignal
from bastion.signals.base import BytesHasher, ContentKind, DistanceSignal
from bastion.signals.registry import _by_name, all_signal_types, get_signal_type


def test_the_registered_names_are_stable() -> None:
    assert [t.name for t in all_signal_types()] == [
        "md5",
        "sha256",
        "pdq",
        "vpdq",
        "chromaprint",
        "text_sha256",
        "text_minhash",
        "text_shingles",
        "url",
        "url_prefix",
        "domain",
        "crypto_address",
        "iban",
        "bic",
        "payment_account",
        "phone",
    ]
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", t.name) for t in all_signal_types())
    assert all(t.display_name for t in all_signal_types())


def test_lookup_by_name() -> None:
    for signal_type in all_signal_types():
        assert get_signal_type(signal_type.name) is signal_type
    pdq = get_signal_type("pdq")
    assert issubclass(pdq, DistanceSignal)
    assert issubclass(pdq, BytesHasher)
    assert pdq.applies_to == frozenset({ContentKind.PHOTO})
    assert get_signal_type("vpdq").applies_to == frozenset({ContentKind.VIDEO})  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["tmk", "PDQ", "", " pdq"])
def test_unknown_names_are_invalid_signals(name: str) -> None:
    with pytest.raises(InvalidSignal) as caught:
        get_signal_type(name)
    assert (
        "known types: bic, chromaprint, crypto_address, domain, iban, md5, payment_account, pdq, "
        "phone, sha256, text_minhash, text_sha256, text_shingles, url, url_prefix, vpdq"
        in caught.value.detail
    )


def test_a_duplicate_name_stops_start_up() -> None:
    md5 = get_signal_type("md5")
    with pytest.raises(RuntimeError, match="'md5' is used by both"):
        _by_name((md5, md5))
