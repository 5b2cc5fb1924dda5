"""Turn media files into bank entries: hash them and keep the signals worth banking.

Documents and posts (``kind: text``) bank ``text_sha256`` and ``text_minhash`` (recorded signals)
and also ``text_shingles``, which is match-only on the query side: a scan's shingles are looked up
for containment in banked texts, so a banked document must hold its own for an excerpt of it to
match.

The links a document contains are **not** banked by default. A banked manifesto that cites
Wikipedia, a news site or a government page would otherwise make every post linking there match
(and match as strongly as the manifesto itself). Links worth banking are banked on purpose, one by
one, as ``url``, ``url_prefix`` or ``domain`` entries (``bastion bank add-url``, the entries
API); ``signal_types`` that name ``url`` explicitly bank the document's links as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bastion.banks.records import NewEntry
from bastion.signals.base import ContentKind, Signal
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

    A PDQ hash below the quality floor is not banked: it would match unrelated flat images. A
    document's links are not banked unless ``signal_types`` asks for ``url`` (see above).
    """
    wanted = set(signal_types) if signal_types is not None else None
    entries: list[NewEntry] = []
    skipped: list[str] = []
    is_text = extraction.media.kind == ContentKind.TEXT
    links_wanted = wanted is not None and "url" in wanted
    signals = list(extraction.signals)
    if is_text:
        signals.extend(s for s in extraction.variants if s.type == "text_shingles")
        links = sum(1 for s in signals if s.type == "url")
        if links and not links_wanted:
            skipped.append(
                f"{source}: {links} link(s) in the document not banked as url entries (a "
                "document's links would match every page citing the same sites; bank links "
                "deliberately with `bastion bank add-url` or signal_type url/url_prefix/domain)"
            )
            signals = [s for s in signals if s.type != "url"]
    # Crops, trimmed and drawn regions and check regions: what lets edited copies match.
    variants = bank_variants(extraction.probe.work).to_json() if extraction.probe else None
    label_list = list(labels)
    for signal in signals:
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
