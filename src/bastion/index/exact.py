"""Equality index for signal types without a distance (MD5, SHA-256, later URLs and wallets)."""

from __future__ import annotations

from collections.abc import Iterable

from bastion.index.base import Hit, SignalIndex


class ExactIndex(SignalIndex):
    def __init__(self, signal_type: str) -> None:
        self.signal_type = signal_type
        self._value_of: dict[int, str] = {}
        # Insertion-ordered sets (dict keys) so hits come back in a stable order.
        self._by_value: dict[str, dict[int, None]] = {}

    def add(self, entries: Iterable[tuple[int, str]]) -> None:
        for entry_id, value in entries:
            self._forget(entry_id)
            self._value_of[entry_id] = value
            self._by_value.setdefault(value, {})[entry_id] = None

    def remove(self, entry_ids: Iterable[int]) -> None:
        for entry_id in entry_ids:
            self._forget(entry_id)

    def _forget(self, entry_id: int) -> None:
        value = self._value_of.pop(entry_id, None)
        if value is None:
            return
        holders = self._by_value[value]
        del holders[entry_id]
        if not holders:
            del self._by_value[value]

    def search(self, value: str, max_distance: float = 0) -> list[Hit]:
        return [Hit(entry_id, 0.0) for entry_id in sorted(self._by_value.get(value, ()))]

    def __len__(self) -> int:
        return len(self._value_of)
