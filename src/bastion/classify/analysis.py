"""The text stage of a scan: language, designated entities, links and the TVEC classifier.

Runs after matching, on the text a scan found (a post, a document, a caption, OCR), and explains
itself: which language was detected, which organisations, outlets or slogans are named (with
offsets), which links are in it (canonical, with flags such as ``shortener``), and one score per
TVEC category with the threshold used and what contributed (entity hits and bank matches of the
same post). These are **signals for review, not verdicts**: a flagged score sets ``review`` and
never makes a match actionable (see ``Match.actionable``); exact and near-exact bank matches do
that, as configured.

The classifier is the active model version (``bastion model activate``), followed through the
database like the live indexes (a cheap query per scan, a reload only when it changed). Long texts
are scored on their opening (the model reads 512 tokens); entities and links on the whole text.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.classify.classifier import CategoryScore, Classifier, ScoreContext
from bastion.classify.entities import EntityHit, EntityMatcher
from bastion.classify.langid import UNDETERMINED, LanguageGuess, detect_language
from bastion.classify.models import ActiveModel, ModelStore
from bastion.errors import InvalidInput
from bastion.match.records import Match
from bastion.signals.text_body import TextBody
from bastion.signals.url_extract import FoundUrl

# Entity and link lists in a result are capped: a spam document can name thousands.
MAX_LISTED = 200
_TEXT_SIGNALS = ("text_sha256", "text_minhash", "text_shingles", "url", "url_prefix", "domain")


@dataclass(slots=True)
class TextAnalysis:
    language: LanguageGuess
    entities: list[EntityHit]
    urls: list[FoundUrl]
    scores: list[CategoryScore]
    characters: int
    sources: list[str]
    truncated: bool = False
    notes: list[str] = field(default_factory=list)
    language_hint: str | None = None  # what the client said, kept beside what was detected

    @property
    def review(self) -> bool:
        """Whether the classifier flagged any category: route to a human, never act on it."""
        return any(score.harmful for score in self.scores)

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": {
                "code": self.language.code,
                "confidence": round(self.language.confidence, 4),
                "script": self.language.script,
                "romanised": self.language.romanised,
                "hint": self.language_hint,
            },
            "characters": self.characters,
            "sources": self.sources,
            "truncated": self.truncated,
            "entities": [_entity_dict(hit) for hit in self.entities[:MAX_LISTED]],
            "urls": [asdict(url) for url in self.urls[:MAX_LISTED]],
            "scores": [asdict(score) for score in self.scores],
            "flagged": [score.code for score in self.scores if score.harmful],
            "exception": any(s.flagged and not s.harmful for s in self.scores),
            "review": self.review,
            "notes": self.notes,
        }


def _entity_dict(hit: EntityHit) -> dict[str, Any]:
    return {
        "entity_id": hit.entity_id,
        "kind": hit.kind,
        "name": hit.name,
        "parent": hit.parent,
        "matched_alias": hit.matched_alias,
        "start": hit.start,
        "end": hit.end,
        "designations": [designation.model_dump() for designation in hit.designations],
        "designations_inherited": hit.designations_inherited,
        "tvec": list(hit.tvec),
    }


# Two- or three-letter codes with optional subtags (``en``, ``pt-BR``, ``ckb``): what clients send.
_HINT = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
_HINT_FOLDS = {"ms": "id", "zsm": "id", "ind": "id"}


def normalize_language_hint(value: str | None) -> str | None:
    """A client's language hint as the primary code the detector reports, or None if empty.

    Only the primary subtag counts (``pt-BR`` -> ``pt``) and Malay folds into ``id`` as the
    detector does. InvalidInput for anything that is not a language tag.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > 35 or not _HINT.fullmatch(text):
        raise InvalidInput(
            f"language {text[:40]!r} is not a language code such as 'en', 'ar' or 'pt-BR'",
            field="language",
        )
    primary = re.split(r"[-_]", text, maxsplit=1)[0].lower()
    return _HINT_FOLDS.get(primary, primary)


def with_hint(guess: LanguageGuess, hint: str | None) -> LanguageGuess:
    """The detected language, or the client's hint when detection could not decide.

    The text itself is better evidence than a hint (often the user's interface language, not the
    post's), so a hint never overrides a determined guess; but a short or mixed post is ``und``,
    and there the hint lets the classifier use that language's thresholds.
    """
    if hint is None or guess.code != UNDETERMINED:
        return guess
    return replace(guess, code=hint, confidence=0.0)


class TextAnalyzer:
    """Language ID, entities and classifier scores for one text; thread-safe, loads lazily."""

    def __init__(self, audit: AuditLog, *, classifier_enabled: bool = True) -> None:
        self._model = ActiveModel(ModelStore(audit))
        self._classifier_enabled = classifier_enabled
        self._entities: EntityMatcher | None = None
        self._lock = threading.Lock()

    def model(self, session: Session) -> Classifier | None:
        """The active classifier, or None when the classifier is turned off."""
        return self._model.current(session) if self._classifier_enabled else None

    @property
    def entities(self) -> EntityMatcher:
        with self._lock:
            if self._entities is None:
                self._entities = EntityMatcher.from_file()
            return self._entities

    def analyze(
        self,
        session: Session,
        body: TextBody,
        urls: list[FoundUrl],
        matches: list[Match],
        *,
        language_hint: str | None = None,
        model: Classifier | None = None,
    ) -> TextAnalysis:
        """``model``: the classifier a batch looked up once (else the active one, now)."""
        language = with_hint(detect_language(body.text), language_hint)
        entities = self.entities.find(body.text)
        analysis = TextAnalysis(
            language=language,
            entities=entities,
            urls=urls,
            scores=[],
            characters=len(body.text),
            sources=list(body.sources),
            truncated=body.truncated,
            notes=list(body.notes),
            language_hint=language_hint,
        )
        if not self._classifier_enabled:
            analysis.notes.append("the text classifier is turned off (BASTION_TEXT_CLASSIFIER)")
            return analysis
        if not body.text.strip():
            return analysis
        context = ScoreContext(
            entities=[
                {
                    "entity_id": h.entity_id,
                    "name": h.name,
                    "entity_kind": h.kind,
                    "labels": list(h.tvec),
                }
                for h in entities[:MAX_LISTED]
            ],
            bank_matches=[
                {
                    "bank": m.bank,
                    "entry_id": m.entry_id,
                    "signal_type": m.signal_type,
                    "labels": list(m.labels),
                }
                for m in matches
                if m.signal_type in _TEXT_SIGNALS and not m.suppressed
            ],
        )
        classifier = model or self._model.current(session)
        analysis.scores = classifier.score(body.text, language.code, context)
        return analysis
