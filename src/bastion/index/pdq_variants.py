"""Index of banked photos' variant hashes (crops, trimmed and drawn regions), by label.

Each banked PDQ entry from media brings up to :data:`MAX_VARIANTS` variant hashes
(:class:`bastion.signals.pdq_family.BankVariants`). They go into one exact PDQ index under
synthetic row ids, ``entry_id * MAX_VARIANTS + slot``, with the slot standing for the label, so
removing an entry removes all of its rows and a hit says which variant matched. Values come in as
``label=hash`` pairs joined by commas (:func:`variant_value`), which keeps the
``SignalIndex`` interface every live index shares.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bastion.errors import InvalidSignal
from bastion.index.base import Hit, SignalIndex
from bastion.index.pdq import PdqIndex
from bastion.signals.pdq_family import INNER_LABEL

MAX_VARIANTS = 16
LABELS: tuple[str, ...] = (
    INNER_LABEL,
    "trim",
    *(f"region:{n}" for n in range(1, 10)),
)
_SLOT = {label: slot for slot, label in enumerate(LABELS)}
if len(LABELS) > MAX_VARIANTS:  # pragma: no cover - a programming error, caught on import
    raise RuntimeError("more variant labels than slots")


def variant_value(hashes: dict[str, str]) -> str:
    """The index value of an entry's variant hashes (labels this index knows, in slot order)."""
    known = sorted((label for label in hashes if label in _SLOT), key=_SLOT.__getitem__)
    return ",".join(f"{label}={hashes[label]}" for label in known)


def _rows(entry_id: int, value: str) -> list[tuple[int, str]]:
    rows: list[tuple[int, str]] = []
    for pair in value.split(",") if value else []:
        label, _, pdq = pair.partition("=")
        slot = _SLOT.get(label)
        if slot is None:
            raise InvalidSignal(f"unknown variant label {label!r}")
        rows.append((entry_id * MAX_VARIANTS + slot, pdq))
    return rows


class PdqVariantIndex(SignalIndex):
    signal_type = "pdq_variant"

    def __init__(self) -> None:
        self._index = PdqIndex()
        self._slots: dict[int, list[int]] = {}  # entry id -> its rows' slots

    def add(self, entries: Iterable[tuple[int, str]]) -> None:
        rows: list[tuple[int, str]] = []
        for entry_id, value in entries:
            mine = _rows(entry_id, value)
            if entry_id in self._slots:
                self.remove([entry_id])
            if mine:
                self._slots[entry_id] = [row % MAX_VARIANTS for row, _ in mine]
                rows.extend(mine)
        if rows:
            self._index.add(rows)

    def remove(self, entry_ids: Iterable[int]) -> None:
        rows: list[int] = []
        for entry_id in entry_ids:
            slots = self._slots.pop(entry_id, None)
            if slots:
                rows.extend(entry_id * MAX_VARIANTS + slot for slot in slots)
        if rows:
            self._index.remove(rows)

    def search(self, value: str, max_distance: float) -> list[Hit]:
        return self.search_many([value], max_distance)[0]

    def search_many(self, values: Sequence[str], max_distance: float) -> list[list[Hit]]:
        """Per query, the closest variant of each entry within ``max_distance``."""
        results: list[list[Hit]] = []
        for hits in self._index.search_many(list(values), max_distance):
            best: dict[int, Hit] = {}
            for hit in hits:
                entry_id, slot = divmod(hit.entry_id, MAX_VARIANTS)
                if entry_id not in best or hit.distance < best[entry_id].distance:
                    best[entry_id] = Hit(entry_id, hit.distance, {"bank_variant": LABELS[slot]})
            results.append(sorted(best.values(), key=lambda h: (h.distance, h.entry_id)))
        return results

    def __len__(self) -> int:
        return len(self._slots)
