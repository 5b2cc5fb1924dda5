"""Equality index for signal types without a distance (MD5, SHA-256, later URLs and wallets)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from bastion.index.base import Hit, SignalIndex


class ExactIndex(SignalIndex):
    def __init__(self, signal_type: str) -> None:
        self.signal_type = signal_type
        self._by_value: defaultdict[str, list[int]] = defaultdict(list)
        self._count = 0

    def add(self, entries: Iterable[tuple[int, str]]) -> None:
        for entry_id, value in entries:
            self._by_value[value].append(entry_id)
            self._count += 1

    def search(self, value: str, max_distance: float = 0) -> list[Hit]:
        return [Hit(entry_id, 0.0) for entry_id in self._by_value.get(value, ())]

    def __len__(self) -> int:
        return self._count
