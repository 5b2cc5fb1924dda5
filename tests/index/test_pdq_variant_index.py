"""The index of banked photos' variant hashes: labels kept per hit, entries replaced and removed."""

from __future__ import annotations

import numpy as np
import pytest

from bastion.errors import InvalidSignal
from bastion.index.pdq_variants import LABELS, MAX_VARIANTS, PdqVariantIndex, variant_value


def _random_hash(rng: np.random.Generator) -> str:
    return rng.integers(0, 256, size=32, dtype=np.uint8).tobytes().hex()


def _flip(value: str, bits: int) -> str:
    number = int(value, 16)
    for bit in range(bits):
        number ^= 1 << (bit * 7)
    return f"{number:064x}"


def test_hits_name_the_variant_and_keep_the_closest_per_entry() -> None:
    rng = np.random.default_rng(1)
    inner, trim = _random_hash(rng), _random_hash(rng)
    index = PdqVariantIndex()
    index.add([(7, variant_value({"inner": inner, "trim": trim, "unknown": inner}))])
    index.add([(8, variant_value({"inner": _random_hash(rng)}))])
    assert len(index) == 2
    [hit] = index.search(_flip(trim, 5), 31)
    assert (hit.entry_id, hit.distance, hit.detail) == (7, 5, {"bank_variant": "trim"})
    assert index.search_many([_flip(inner, 3), _random_hash(rng)], 31)[1] == []


def test_re_adding_replaces_and_removing_forgets_every_variant() -> None:
    rng = np.random.default_rng(2)
    first, second = _random_hash(rng), _random_hash(rng)
    index = PdqVariantIndex()
    index.add([(3, variant_value({"inner": first, "region:1": second}))])
    index.add([(3, variant_value({"inner": second}))])
    assert index.search(first, 10) == []
    assert [h.detail for h in index.search(second, 0)] == [{"bank_variant": "inner"}]
    index.remove([3, 99])
    assert index.search(second, 31) == [] and len(index) == 0


def test_labels_fit_their_slots_and_bad_values_are_refused() -> None:
    assert len(LABELS) <= MAX_VARIANTS and len(set(LABELS)) == len(LABELS)
    with pytest.raises(InvalidSignal):
        PdqVariantIndex().add([(1, "crop:everything=" + "0" * 64)])
