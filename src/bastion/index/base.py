"""The index interface every signal type's index implements.

An implementer stores ``(entry_id, value)`` pairs and answers :meth:`SignalIndex.search` with
every entry whose distance to the query is at most ``max_distance`` (no approximate misses: a
match we fail to find is terrorist content left online). Start from ``index/exact.py`` for
equality-only types.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
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
        """Add ``(entry_id, normalised value)`` pairs."""

    @abc.abstractmethod
    def search(self, value: str, max_distance: float) -> list[Hit]:
        """Every entry within ``max_distance`` of ``value``, nearest first."""

    @abc.abstractmethod
    def __len__(self) -> int:
        """Number of entries held."""
