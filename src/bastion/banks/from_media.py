"""Turn media files into bank entries: hash them and keep the signals worth banking."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bastion.banks.records import NewEntry
from bastion.signals.base import Signal
from bastion.signals.extract import Extraction
from bastion.signals.pdq_family import bank_variants


def entries_from_extraction(
    extraction: Extraction,
    *,
    source: str,
    labels: Iterable[str] = (),
    note: str = "",
    min_quality: int = 50,
    signal_types: Iterable[str] | None = None,
) -> tuple[list[NewEntry], list[str]]:
    """Entries for every signal of the item, and notes on what was left out and why.

    A PDQ hash below the quality floor is not banked: it would match unrelated flat images.
    """
    wanted = set(signal_types) if signal_types is not None else None
    # Crops, trimmed and drawn regions and check regions: what lets edited copies match.
    variants = bank_variants(extraction.probe.work).to_json() if extraction.probe else None
    entries: list[NewEntry] = []
    skipped: list[str] = []
    label_list = list(labels)
    for signal in extraction.signals:
        if wanted is not None and signal.type not in wanted:
            continue
        if _too_low(signal, min_quality):
            skipped.append(
                f"{source}: pdq quality {signal.quality} < {min_quality}, not banked "
                "(exact hashes still are)"
            )
            continue
        entries.append(
            NewEntry(
                signal_type=signal.type,
                value=signal.value,
                labels=label_list,
                note=note,
                quality=signal.quality,
                added_from=source,
                variants=_variants_for(signal.type, variants, extraction.video_bank_variants),
            )
        )
    return entries, skipped


def _variants_for(
    signal_type: str, photo: dict[str, Any] | None, video: dict[str, str] | None
) -> dict[str, Any] | None:
    if signal_type == "pdq":
        return photo
    if signal_type == "vpdq" and video:
        return dict(video)
    return None


def _too_low(signal: Signal, min_quality: int) -> bool:
    return signal.type == "pdq" and signal.quality is not None and signal.quality < min_quality
