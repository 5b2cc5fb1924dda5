"""What a match is: everything a reviewer needs to see why an item matched a bank entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Match:
    bank: str
    bank_kind: str
    entry_id: int
    group_id: int
    signal_type: str
    distance: float
    threshold: float
    labels: list[str]
    severity: str
    tlp: str
    provenance: dict[str, str]
    note: str
    frame_time: float | None = None
    detail: dict[str, Any] | None = None
    suppressed: bool = False
    suppressed_by: dict[str, Any] | None = None
    # A quarantined entry's matches may reach a reviewer but never automatic action.
    review_only: bool = False
    review_reason: str = ""
    # Robust matching: the undone edit of the query (``mirror``, ``region1``...) and the banked
    # variant it met (``crop:r5``...); empty for a plain match. See match/variant_search.py.
    variant: str = ""
    bank_variant: str = ""
    verification: dict[str, Any] | None = None

    @property
    def reason(self) -> str:
        measure = (
            f"{self.signal_type} distance {self.distance:g} <= threshold {self.threshold:g}"
            if self.threshold
            else f"{self.signal_type} identical"
        )
        text = f"{measure} to entry {self.entry_id} in {self.bank_kind} bank {self.bank!r}"
        detail = self.detail or {}
        if "query_match_percent" in detail:
            text += (
                f" ({detail['query_match_percent']}% of frames matched, "
                f"{detail['bank_match_percent']}% of the bank video found)"
            )
        if "video_frames" in detail:
            text += f" (in {detail['video_frames']} video frame(s), first at {self.frame_time:g} s)"
        if self.variant or self.bank_variant:
            text += f" through variant {self.variant or 'plain'} of the item"
            if self.bank_variant and self.bank_variant != "pdq":
                text += f" and {self.bank_variant} of the banked photo"
        if self.verification and "regions_agreeing" in self.verification:
            text += (
                f", confirmed by {self.verification['regions_agreeing']} of "
                f"{self.verification['regions_compared']} check regions"
            )
        elif self.verification:
            text += f", confirmed by alignment ({self.verification['refined_distance']} bits)"
        if self.suppressed and self.suppressed_by:
            text += (
                f"; suppressed: known false positive (bank {self.suppressed_by['bank']!r}, "
                f"entry {self.suppressed_by['entry_id']})"
            )
        if self.review_only:
            text += f"; review only: {self.review_reason}"
        return text

    @property
    def actionable(self) -> bool:
        """May this match lead to automatic action? (Positive, not suppressed, not quarantined.)"""
        return self.bank_kind == "positive" and not self.suppressed and not self.review_only

    def to_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "bank_kind": self.bank_kind,
            "entry_id": self.entry_id,
            "group_id": self.group_id,
            "signal_type": self.signal_type,
            "distance": self.distance,
            "threshold": self.threshold,
            "labels": self.labels,
            "severity": self.severity,
            "tlp": self.tlp,
            "provenance": self.provenance,
            "note": self.note,
            "frame_time": self.frame_time,
            "detail": self.detail,
            "suppressed": self.suppressed,
            "suppressed_by": self.suppressed_by,
            "review_only": self.review_only,
            "review_reason": self.review_reason,
            "variant": self.variant,
            "bank_variant": self.bank_variant,
            "verification": self.verification,
            "reason": self.reason,
        }


@dataclass(slots=True)
class MatchOutcome:
    matches: list[Match] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
