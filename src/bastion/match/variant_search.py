"""Robust photo matching: which variant of a query meets which variant of a banked photo.

A query photo brings its plain PDQ and the variants of its probe (mirrored and rotated hashes,
the picture inside bars, pictures drawn inside it, small rotations turned back); a banked photo
brings its plain PDQ and, when it was banked from media, hashes of crops, of its trimmed picture
and of pictures drawn inside it. :data:`RULES` says which pairs are compared and how far apart
they may be: up to ``accept`` bits a pair counts at once (like a plain match, whose threshold
still caps it); up to ``reach`` bits it counts only if :func:`verify` confirms it on the check
regions. Thresholds are tuned with ``bench/robustness.py`` (see docs/robust-matching.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bastion.index.base import SignalIndex
from bastion.signals.base import Signal
from bastion.signals.pdq import PdqSignal
from bastion.signals.pdq_family import INNER_LABEL, BankVariants, PhotoProbe, region_hash
from bastion.signals.pdq_uncrop import parse_cut, refined_distance
from bastion.signals.photo_geometry import (
    CHECK_REGIONS,
    WHOLE,
    Box,
    WorkImage,
    map_box,
)

PLAIN = "plain"
BANK_PLAIN = "pdq"


@dataclass(frozen=True, slots=True)
class VariantRule:
    """Query variants of kind ``query`` meet banked hashes of kind ``bank``."""

    query: str  # plain, dihedral, trim, region, rot
    bank: str  # pdq (the plain hash), crop, trim, region
    accept: int
    reach: int


RULES: tuple[VariantRule, ...] = (
    # Mirrored or turned by 90 degrees: the same pixels, so nearly as strict as a plain match.
    VariantRule("dihedral", BANK_PLAIN, accept=24, reach=36),
    # Bars, screenshots, memes, picture-in-picture: the picture inside, on either side.
    VariantRule("trim", BANK_PLAIN, accept=20, reach=40),
    VariantRule("trim", "trim", accept=20, reach=40),
    VariantRule("region", BANK_PLAIN, accept=20, reach=40),
    VariantRule("region", "trim", accept=20, reach=40),
    VariantRule("region", "region", accept=16, reach=36),
    VariantRule(PLAIN, "trim", accept=20, reach=40),
    VariantRule(PLAIN, "region", accept=16, reach=36),
    # Cut copies: 225 crop hypotheses meet the banked inner part; beyond ``accept`` the nearest
    # hypothesis is refined (each edge nudged) and must come within REFINED_ACCEPT.
    VariantRule("uncrop", INNER_LABEL, accept=12, reach=36),
    # Small rotations turned back, inner part against inner part, refined the same way.
    VariantRule("rot", INNER_LABEL, accept=16, reach=40),
)
# Variant kinds confirmed by refining the alignment rather than by check regions.
ALIGNED_KINDS = frozenset({"uncrop", "rot"})
REFINED_ACCEPT = 20

# Verification: a check region agrees within this many bits; a pair is confirmed when at least
# CHECKS_NEEDED regions agree (of five; an overlay or watermark spoils one or two).
CHECK_THRESHOLD = 44
CHECKS_NEEDED = 3
# A check region showing less than this share of itself in the query's picture is not compared.
_MIN_VISIBLE = 0.6


def variant_kind(name: str) -> str:
    """The kind of a query variant by its name (``region2`` -> ``region``)."""
    if name == PLAIN:
        return PLAIN
    if name.startswith("rot") and name[3:4] in "+-":
        return "rot"
    if name.startswith("uncrop:"):
        return "uncrop"
    if name.startswith("region"):
        return "region"
    if name == "trim":
        return "trim"
    return "dihedral"


def bank_kind(label: str) -> str:
    """The kind of a banked hash by its label (``crop:r5`` -> ``crop``; the plain is ``pdq``)."""
    return label.split(":", 1)[0]


@dataclass(slots=True)
class VariantCandidate:
    entry_id: int
    distance: float
    query_variant: str
    bank_variant: str
    accept: int
    reach: int

    @property
    def needs_verification(self) -> bool:
        return self.distance > self.accept


def _rule_for(query_variant: str, bank_label: str) -> VariantRule | None:
    kind, bank = variant_kind(query_variant), bank_kind(bank_label)
    for rule in RULES:
        if rule.query == kind and rule.bank == bank:
            return rule
    return None


def variant_candidates(
    index_for: Callable[[str], SignalIndex | None],
    plain: Signal,
    probe: PhotoProbe | None,
    variants_index: str,
) -> list[VariantCandidate]:
    """Every (entry, variant pair) the rules allow within reach; the best pair per entry."""
    queries: list[tuple[str, str]] = [(PLAIN, plain.value)]
    if probe is not None:
        queries.extend((variant.name, variant.value) for variant in probe.variants)
    best: dict[int, VariantCandidate] = {}

    def offer(candidate: VariantCandidate) -> None:
        held = best.get(candidate.entry_id)
        if held is None or _better(candidate, held):
            best[candidate.entry_id] = candidate

    kinds = [variant_kind(name) for name, _ in queries]
    for index_name in (BANK_PLAIN, variants_index):
        index = index_for(index_name)
        if index is None:
            continue
        reaches = _REACH_PLAIN if index_name == BANK_PLAIN else _REACH_VARIANT
        # One batched search per reach: the 225 crop hypotheses need less than rotations.
        by_reach: dict[int, list[tuple[str, str]]] = {}
        for (name, value), kind in zip(queries, kinds, strict=True):
            if kind in reaches:
                by_reach.setdefault(reaches[kind], []).append((name, value))
        for reach, asked in by_reach.items():
            found = index.search_many([value for _, value in asked], reach)
            for (name, _), hits in zip(asked, found, strict=True):
                for hit in hits:
                    label = BANK_PLAIN
                    if index_name != BANK_PLAIN:
                        label = str((hit.detail or {})["bank_variant"])
                    rule = _rule_for(name, label)
                    if rule is not None and hit.distance <= rule.reach:
                        offer(
                            VariantCandidate(
                                hit.entry_id, hit.distance, name, label, rule.accept, rule.reach
                            )
                        )
    return list(best.values())


# Query variant kinds searched in the plain index (the plain pair itself is the plain match) and
# in the index of banked variants.
def _reaches(rules: list[VariantRule]) -> dict[str, int]:
    """Query kind -> the farthest any of ``rules`` reaches for it."""
    found: dict[str, int] = {}
    for rule in rules:
        found[rule.query] = max(found.get(rule.query, 0), rule.reach)
    return found


_REACH_PLAIN = _reaches([r for r in RULES if r.bank == BANK_PLAIN and r.query != PLAIN])
_REACH_VARIANT = _reaches([r for r in RULES if r.bank != BANK_PLAIN])


def _better(a: VariantCandidate, b: VariantCandidate) -> bool:
    """Prefer a pair that needs no verification, then the closer one."""
    return (a.needs_verification, a.distance) < (b.needs_verification, b.distance)


@dataclass(slots=True)
class Verification:
    """How a variant pair was confirmed: by check regions, or by refining the alignment."""

    confirmed: bool
    method: str  # check_regions | alignment
    agreeing: int = 0
    compared: int = 0
    distances: list[int] = field(default_factory=list)
    refined_distance: int | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.method == "alignment":
            return {
                "confirmed": self.confirmed,
                "method": self.method,
                "refined_distance": self.refined_distance,
                "refined_threshold": REFINED_ACCEPT,
            }
        return {
            "confirmed": self.confirmed,
            "method": self.method,
            "regions_agreeing": self.agreeing,
            "regions_compared": self.compared,
            "region_distances": self.distances,
            "region_threshold": CHECK_THRESHOLD,
        }


def verify(
    probe: PhotoProbe, query_variant: str, bank: BankVariants, bank_label: str
) -> Verification:
    """Confirm a variant pair that is weaker than a plain match, or reject it."""
    if variant_kind(query_variant) in ALIGNED_KINDS:
        return _verify_alignment(probe, query_variant, bank)
    return _verify_check_regions(probe, query_variant, bank, bank_label)


def _verify_alignment(probe: PhotoProbe, query_variant: str, bank: BankVariants) -> Verification:
    """Nudge every edge of the hypothesis; the best fit must be close (true copies: < 10 bits,
    unrelated photos stay > 80)."""
    target = bank.hashes.get(INNER_LABEL)
    if target is None:
        return Verification(False, "alignment")
    cut = parse_cut(query_variant) or (0.0, 0.0, 0.0, 0.0)
    distance, _ = refined_distance(probe.picture(query_variant), cut, target)
    return Verification(distance <= REFINED_ACCEPT, "alignment", refined_distance=distance)


def _verify_check_regions(
    probe: PhotoProbe, query_variant: str, bank: BankVariants, bank_label: str
) -> Verification:
    """Compare the check regions of the banked photo with the same places in the query's picture.

    The query's picture behind ``query_variant`` shows the part ``frame`` of the banked photo
    that ``bank_label`` stands for (all of it for the plain hash); each check region is mapped
    into it, hashed and compared. Unrelated pictures agree on none; an edited copy on most.
    """
    picture = WorkImage(probe.picture(query_variant), probe.work.scale)
    frame: Box = WHOLE if bank_label == BANK_PLAIN else bank.frame(bank_label)
    distances: list[int] = []
    for region, banked in zip(CHECK_REGIONS, bank.checks, strict=True):
        mapped = map_box(region, frame)
        shown = (mapped[2] - mapped[0]) * (mapped[3] - mapped[1])
        wanted = (region[2] - region[0]) * (region[3] - region[1])
        frame_area = (frame[2] - frame[0]) * (frame[3] - frame[1])
        if shown * frame_area < _MIN_VISIBLE * wanted:
            continue
        distances.append(PdqSignal.distance(region_hash(picture.region(mapped)), banked))
    agreeing = sum(1 for d in distances if d <= CHECK_THRESHOLD)
    return Verification(
        agreeing >= CHECKS_NEEDED, "check_regions", agreeing, len(distances), distances
    )
