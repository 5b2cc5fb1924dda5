"""Matcher: looks a content item's signals up in every enabled bank and explains each match.

Rules applied here, in order:
1. PDQ signals (and video frames) below the quality floor are not matched (noted, not an error).
2. Each bank's threshold for the signal type applies (bank override, else the setting's default).
3. Disabled banks, entries disabled until a future time, and banks whose roll-out ratio leaves
   this item out are skipped.
4. Entries quarantined by flood control still match, but only for review (``review_only``).
5. A match against a negative bank (known false positive) suppresses every positive match of the
   item; suppressed matches are kept and shown, so a reviewer sees what was overridden and why.

A video is matched twice: as a whole against banked videos (bag-of-frames, see ``index/vpdq.py``)
and frame by frame against banked photos, so a propaganda image shown inside a video is found
with the timestamps where it appears.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.index.base import SignalIndex
from bastion.index.pdq import PdqIndex
from bastion.index.vpdq import segments
from bastion.match.live_index import DENSE_VIDEOS, VARIANTS, LiveIndexes
from bastion.match.records import Match, MatchOutcome
from bastion.match.variant_search import VariantCandidate, Verification, variant_candidates, verify
from bastion.settings import Settings
from bastion.signals.base import DistanceSignal, Signal
from bastion.signals.pdq_family import BankVariants, PhotoProbe
from bastion.signals.registry import get_signal_type
from bastion.signals.vpdq_format import parse_vpdq
from bastion.storage.models import BankEntryRow, BankRow, utcnow

# Banked signal types that cover a query signal of another type: a banked URL prefix or domain
# covers every link under it.
COVERING_TYPES: dict[str, tuple[str, ...]] = {"url": ("url_prefix", "domain")}


def _one_per_entry(matches: list[Match]) -> list[Match]:
    """An entry found both plainly and through variants is one match: the plain one, else the
    closest."""
    chosen: dict[int, Match] = {}
    for match in matches:
        held = chosen.get(match.entry_id)
        rank = (bool(match.variant or match.bank_variant), match.distance)
        if held is None or rank < (bool(held.variant or held.bank_variant), held.distance):
            chosen[match.entry_id] = match
    return list(chosen.values())


def default_threshold(settings: Settings, signal_type: str) -> float:
    if signal_type == "pdq":
        return float(settings.pdq_threshold)
    if signal_type == "vpdq":
        return float(settings.vpdq_frame_threshold)
    kind = get_signal_type(signal_type)
    return float(kind.default_threshold) if issubclass(kind, DistanceSignal) else 0.0


def in_rollout(bank_id: int, content_key: str, ratio: float) -> bool:
    """Whether this item is in the share of content a partly rolled-out bank applies to.

    Chosen by a hash of bank and item, so the same item always gets the same answer (a re-scan
    does not flip) and each bank samples a different share of items.
    """
    if ratio >= 1.0:
        return True
    digest = hashlib.sha256(f"{bank_id}:{content_key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") < ratio * 2**32


@dataclass(slots=True)
class _Candidate:
    entry_id: int
    signal_type: str
    distance: float
    frame_time: float | None = None
    detail: dict[str, Any] | None = None
    searched_at: float | None = None  # the vPDQ frame threshold the hit was computed with
    frames: list[tuple[float, float]] = field(default_factory=list)  # (seconds, distance)
    variant: str = ""  # the query's variant that matched (robust matching), "" for plain
    bank_variant: str = ""  # the banked variant it met (videos: "dense"), "" for plain
    robust: VariantCandidate | None = None  # photo variant pairs: rule limits, verification


@dataclass(frozen=True, slots=True)
class MatchBatch:
    """What many matches in one session share: the enabled banks, read once, with the indexes
    brought up to date once (see :meth:`Matcher.start_batch`)."""

    banks: list[BankRow]


class Matcher:
    def __init__(self, settings: Settings, indexes: LiveIndexes) -> None:
        self._settings = settings
        self._indexes = indexes

    @staticmethod
    def enabled_banks(session: Session) -> list[BankRow]:
        return [b for b in session.scalars(select(BankRow)) if b.enabled]

    def start_batch(self, session: Session) -> MatchBatch:
        """For bulk scans: one bank query and one index refresh for the whole batch, which
        therefore sees the banks as they were when it started."""
        self._indexes.refresh(session)
        return MatchBatch(self.enabled_banks(session))

    def _threshold(self, bank: BankRow, signal_type: str) -> float:
        if signal_type in bank.thresholds:
            return float(bank.thresholds[signal_type])
        return default_threshold(self._settings, signal_type)

    def _low_quality(self, signal: Signal) -> bool:
        floor = self._settings.pdq_min_quality
        return signal.type == "pdq" and signal.quality is not None and signal.quality < floor

    def _candidates(
        self,
        session: Session,
        signals: list[Signal],
        banks: list[BankRow],
        notes: list[str],
        probe: PhotoProbe | None = None,
        refresh: bool = True,
    ) -> list[_Candidate]:
        pdq_reach = max([self._threshold(b, "pdq") for b in banks] or [0.0])
        vpdq_thresholds = sorted({self._threshold(b, "vpdq") for b in banks})
        found: list[_Candidate] = []
        with self._indexes.reading(session, refresh=refresh) as index_for:
            for signal in signals:
                if self._low_quality(signal):
                    notes.append(
                        f"pdq quality {signal.quality} is below {self._settings.pdq_min_quality}:"
                        " too low to match (flat or tiny image)"
                    )
                    continue
                index = index_for(signal.type)
                if signal.type == "vpdq":
                    # Banked videos' dense frames: copies cut between their sampled seconds.
                    dense = index_for(DENSE_VIDEOS) if self._settings.robust_matching else None
                    for threshold in vpdq_thresholds:
                        for searched, bank_variant in ((index, ""), (dense, "dense")):
                            hits = searched.search(signal.value, threshold) if searched else []
                            found.extend(
                                _Candidate(
                                    hit.entry_id,
                                    "vpdq",
                                    hit.distance,
                                    None,
                                    hit.detail,
                                    threshold,
                                    variant=signal.variant,
                                    bank_variant=bank_variant,
                                )
                                for hit in hits
                            )
                    photo_index = index_for("pdq")
                    if isinstance(photo_index, PdqIndex) and not signal.variant:
                        found.extend(self._frame_candidates(signal.value, photo_index, pdq_reach))
                elif signal.type == "pdq" and self._settings.robust_matching:
                    found.extend(self._direct(index, signal, self._reach(banks, signal.type)))
                    found.extend(
                        _Candidate(c.entry_id, "pdq", c.distance, variant=c.query_variant, robust=c)
                        for c in variant_candidates(index_for, signal, probe, VARIANTS)
                    )
                else:
                    found.extend(self._direct(index, signal, self._reach(banks, signal.type)))
                    # A link is also looked for under banked URL prefixes and domains.
                    for covering in COVERING_TYPES.get(signal.type, ()):
                        found.extend(
                            self._direct(index_for(covering), signal, 0.0, as_type=covering)
                        )
        return found

    def _reach(self, banks: list[BankRow], signal_type: str) -> float:
        """How far to search: the loosest threshold of any bank (exact types: 0)."""
        return max([self._threshold(b, signal_type) for b in banks] or [0.0])

    @staticmethod
    def _direct(
        index: SignalIndex | None, signal: Signal, reach: float, as_type: str | None = None
    ) -> list[_Candidate]:
        if index is None:
            return []
        kind = as_type or signal.type
        return [
            _Candidate(hit.entry_id, kind, hit.distance, signal.frame_time, hit.detail)
            for hit in index.search(signal.value, reach)
        ]

    def _frame_candidates(self, vpdq: str, index: PdqIndex, reach: float) -> list[_Candidate]:
        floor = self._settings.pdq_min_quality
        frames = [frame for frame in parse_vpdq(vpdq) if frame.quality >= floor]
        if not frames:
            return []
        per_entry: defaultdict[int, list[tuple[float, float]]] = defaultdict(list)
        for frame, hits in zip(
            frames, index.search_many([f.pdq for f in frames], reach), strict=True
        ):
            for hit in hits:
                per_entry[hit.entry_id].append((frame.seconds, hit.distance))
        return [
            _Candidate(entry_id, "pdq", min(d for _, d in seen), seen[0][0], frames=seen)
            for entry_id, seen in per_entry.items()
        ]

    def match(
        self,
        session: Session,
        signals: list[Signal],
        *,
        content_key: str = "",
        now: datetime | None = None,
        probe: PhotoProbe | None = None,
        variants: Sequence[Signal] = (),
        batch: MatchBatch | None = None,
    ) -> MatchOutcome:
        """Match ``signals``; ``probe`` (a photo's) and ``variants`` (a video's mirrored and
        picture-in-picture vPDQ) let edited copies match too (robust matching). ``batch``:
        many items in one session share one bank list and one index refresh."""
        now = now or utcnow()
        outcome = MatchOutcome()
        banks = batch.banks if batch is not None else self.enabled_banks(session)
        searched = [*signals, *(variants if self._settings.robust_matching else ())]
        candidates = self._candidates(
            session, searched, banks, outcome.notes, probe, refresh=batch is None
        )
        if not candidates:
            return outcome
        by_bank = {bank.id: bank for bank in banks}
        ids = sorted({c.entry_id for c in candidates})
        entries: dict[int, BankEntryRow] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = select(BankEntryRow).where(BankEntryRow.id.in_(chunk))
            entries.update({row.id: row for row in session.scalars(query)})
        key = content_key or (signals[0].value if signals else "")
        for candidate in candidates:
            entry = entries.get(candidate.entry_id)
            bank = by_bank.get(entry.bank_id) if entry is not None else None
            if entry is None or bank is None:
                continue  # deleted since the index saw it, or its bank is disabled
            match = self._explain(candidate, entry, bank, key, now, probe)
            if match is not None:
                outcome.matches.append(match)
        outcome.matches = _one_per_entry(outcome.matches)
        negatives = [m for m in outcome.matches if m.bank_kind == "negative"]
        if negatives:
            by = {"bank": negatives[0].bank, "entry_id": negatives[0].entry_id}
            for positive in outcome.matches:
                if positive.bank_kind == "positive":
                    positive.suppressed = True
                    positive.suppressed_by = by
        outcome.matches.sort(key=lambda m: (m.suppressed, m.bank_kind != "positive", m.distance))
        return outcome

    def _explain(
        self,
        candidate: _Candidate,
        entry: BankEntryRow,
        bank: BankRow,
        key: str,
        now: datetime,
        probe: PhotoProbe | None,
    ) -> Match | None:
        threshold = self._threshold(bank, candidate.signal_type)
        detail = candidate.detail
        distance, frame_time = candidate.distance, candidate.frame_time
        verification: Verification | None = None
        if candidate.robust is not None:
            found = self._robust_verdict(candidate.robust, threshold, entry, probe)
            if found is None:
                return None
            verification = found if isinstance(found, Verification) else None
        elif candidate.signal_type == "vpdq":
            if candidate.searched_at != threshold:
                return None  # computed for another bank's frame threshold
        elif candidate.frames:
            frames = [(s, d) for s, d in candidate.frames if d <= threshold]
            if not frames:
                return None
            distance, frame_time = min(d for _, d in frames), frames[0][0]
            detail = {
                "video_frames": len(frames),
                "video_segments": segments([s for s, _ in frames]),
            }
        elif distance > threshold:
            return None
        if entry.disabled_until is not None and entry.disabled_until > now:
            return None
        if not in_rollout(bank.id, key, bank.enable_ratio):
            return None
        return Match(
            bank=bank.name,
            bank_kind=bank.kind,
            entry_id=entry.id,
            group_id=entry.group_id if entry.group_id is not None else entry.id,
            signal_type=entry.signal_type,
            distance=distance,
            threshold=threshold,
            labels=sorted(set(bank.labels) | set(entry.labels)),
            severity=bank.severity,
            tlp=bank.tlp,
            provenance={
                "added_by": entry.added_by,
                "added_from": entry.added_from,
                "added_at": entry.added_at.isoformat(),
            },
            note=entry.note,
            frame_time=frame_time,
            detail=detail,
            review_only=entry.quarantined_at is not None,
            review_reason=entry.quarantine_reason if entry.quarantined_at is not None else "",
            variant=candidate.variant,
            bank_variant=(
                candidate.robust.bank_variant
                if candidate.robust is not None
                else candidate.bank_variant
            ),
            verification=verification.to_dict() if verification is not None else None,
        )

    def _robust_verdict(
        self,
        candidate: VariantCandidate,
        threshold: float,
        entry: BankEntryRow,
        probe: PhotoProbe | None,
    ) -> Verification | bool | None:
        """True when a variant pair counts outright, its verification when confirmed, else None.

        A bank stricter than the default PDQ threshold is as much stricter for variants.
        """
        stricter = min(0.0, threshold - self._settings.pdq_threshold)
        if candidate.distance <= min(candidate.accept + stricter, threshold):
            return True
        if candidate.distance > candidate.reach + stricter or probe is None:
            return None
        banked = BankVariants.from_json(entry.variants)
        if banked is None:
            return None
        verification = verify(probe, candidate.query_variant, banked, candidate.bank_variant)
        return verification if verification.confirmed else None
