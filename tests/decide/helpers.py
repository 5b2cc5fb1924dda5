"""Builders for scan results, matches, scores and entity hits: the verdict stage needs no scan."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bastion.banks.records import BankInfo, BankKind, BankSource, Severity, Tlp
from bastion.classify.analysis import TextAnalysis
from bastion.classify.classifier import CategoryScore
from bastion.classify.entities import Designation, EntityHit
from bastion.classify.langid import LanguageGuess
from bastion.match.records import Match
from bastion.match.scanner import ScanResult
from bastion.taxonomy import BY_CODE

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def bank(
    name: str = "attack-footage",
    *,
    kind: str = "positive",
    source: str = "local",
    severity: str = "critical",
    labels: list[str] | None = None,
) -> BankInfo:
    return BankInfo(
        id=1,
        name=name,
        description="",
        kind=BankKind(kind),
        labels=labels if labels is not None else ["tvec1"],
        severity=Severity(severity),
        source=BankSource(source),
        tlp=Tlp.AMBER,
        thresholds={},
        enabled=True,
        created_at=NOW,
        updated_at=NOW,
    )


def banks(*infos: BankInfo) -> dict[str, BankInfo]:
    return {info.name: info for info in infos}


def match(
    bank_name: str = "attack-footage",
    *,
    signal_type: str = "pdq",
    distance: float = 4,
    threshold: float = 31,
    entry_id: int = 12,
    labels: list[str] | None = None,
    severity: str = "critical",
    bank_kind: str = "positive",
    **extra: Any,
) -> Match:
    return Match(
        bank=bank_name,
        bank_kind=bank_kind,
        entry_id=entry_id,
        group_id=entry_id,
        signal_type=signal_type,
        distance=distance,
        threshold=threshold,
        labels=labels if labels is not None else ["tvec1"],
        severity=severity,
        tlp="amber",
        provenance={},
        note="",
        **extra,
    )


def score(code: str, value: float, *, threshold: float = 0.5) -> CategoryScore:
    return CategoryScore(
        code=code,
        display_name=BY_CODE[code].display_name,
        score=value,
        threshold=threshold,
        threshold_source="global",
        language="en",
        flagged=value >= threshold,
        action="review" if value >= threshold else "none",
        model="tvec-test@1",
    )


def entity(
    entity_id: str = "isil",
    *,
    name: str = "Islamic State",
    kind: str = "organisation",
    lists: tuple[str, ...] = ("UN", "EU"),
    parent: str | None = None,
    inherited: bool = False,
    tvec: tuple[str, ...] = ("tvec7",),
) -> EntityHit:
    return EntityHit(
        entity_id=entity_id,
        kind=kind,
        name=name,
        parent=parent,
        matched_alias=name,
        start=10,
        end=10 + len(name),
        designations=tuple(Designation.model_validate({"list": item}) for item in lists),
        designations_inherited=inherited,
        tvec=tvec,
    )


def text(
    scores: list[CategoryScore] | None = None,
    entities: list[EntityHit] | None = None,
    language: str = "en",
) -> TextAnalysis:
    return TextAnalysis(
        language=LanguageGuess(code=language, confidence=0.99, script="Latin", romanised=False),
        entities=entities or [],
        urls=[],
        scores=scores or [],
        characters=100,
        sources=["post"],
    )


def result(
    *matches: Match,
    scores: list[CategoryScore] | None = None,
    entities: list[EntityHit] | None = None,
    language: str = "en",
) -> ScanResult:
    analysis = (
        text(scores, entities, language) if scores is not None or entities is not None else None
    )
    return ScanResult(name="item", matches=list(matches), text=analysis)
