"""The index interface every signal type's index implements.

An implementer stores ``(entry_id, value)`` pairs and answers :meth:`SignalIndex.search` with
every entry whose distance to the query is at most ``max_distance`` (no approximate misses: a
match we fail to find is terrorist content left online). Indexes change in place: the matcher
applies bank changes as they happen, so ``add`` and ``remove`` must be cheap and take effect
before they return. Start from ``index/exact.py`` for equality-only types.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hit:
    entry_id: int
    distance: float
    # Free-form evidence for the explanation (e.g. matched video timestamps).
    detail: dict[str, object] | None = None


class SignalIndex(abc.ABC):
    """Search structure for one signal type."""

    signal_type: str

    @abc.abstractmethod
    def add(self, entries: Iterable[tuple[int, str]]) -> None:
        """Add ``(entry_id, normalised value)`` pairs; re-adding an id replaces its value."""

    @abc.abstractmethod
    def remove(self, entry_ids: Iterable[int]) -> None:
        """Forget these entries; ids the index does not hold are ignored."""

    @abc.abstractmethod
    def search(self, value: str, max_distance: float) -> list[Hit]:
        """Every entry within ``max_distance`` of ``value``, nearest first."""

    def search_many(self, values: Sequence[str], max_distance: float) -> list[list[Hit]]:
        """:meth:`search` for each value; an index that can share work between queries overrides
        this."""
        return [self.search(value, max_distance) for value in values]

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of entries held."""
