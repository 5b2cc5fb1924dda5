"""The scan pipeline: content -> signals -> matches -> a recorded result.

Used by ``bastion scan``, ``POST /v1/scan`` and the demo. Media bytes are never stored: the content
row keeps kind, size, SHA-256 and decode facts; the signal rows keep the hashes; match rows keep
which entry matched at what distance, so a decision can be explained later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.banks.service import Banks
from bastion.classify.analysis import TextAnalysis, TextAnalyzer, normalize_language_hint
from bastion.classify.classifier import Classifier
from bastion.errors import BastionError, InvalidInput
from bastion.finance.analysis import FinanceAnalysis, FinanceAnalyzer, record_analysis
from bastion.finance.qr import read_qr_codes
from bastion.match.cache import MatcherCache
from bastion.match.flood import FloodControl
from bastion.match.matcher import MatchBatch
from bastion.match.records import Match, MatchOutcome
from bastion.settings import Settings
from bastion.signals.base import HashLimits, MediaInfo, Signal
from bastion.signals.extract import Extraction, extract_signals, text_extraction
from bastion.signals.ocr import ocr_image
from bastion.signals.pdq_family import PhotoProbe
from bastion.signals.registry import get_signal_type
from bastion.signals.text_body import TextBody
from bastion.storage.db import Database
from bastion.storage.models import BankEntryRow, ContentRow, MatchRow, SignalRow, utcnow

MAX_SUPPLIED_SIGNALS = 10_000


@dataclass(slots=True)
class ScanResult:
    name: str | None
    content_id: int | None = None
    media: MediaInfo | None = None
    signals: list[Signal] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: BastionError | None = None
    text: TextAnalysis | None = None  # language, entities, links, classifier scores
    # The verdict policy's answer and the case it opened (bastion.review.workflow), when the
    # caller ran the result through review intake.
    verdict: dict[str, Any] | None = None
    case_id: int | None = None
    # Payment instruments, sanctions hits and appeal wording (bastion.finance.analysis).
    finance: FinanceAnalysis | None = None

    @property
    def review(self) -> bool:
        """Whether a person should look: the classifier flagged the text, or a match is
        review-only. Never a reason for automatic action on its own."""
        flagged = self.text is not None and self.text.review
        listed = self.finance is not None and bool(self.finance.hits)
        return flagged or listed or any(m.review_only and not m.suppressed for m in self.matches)

    @property
    def matched(self) -> bool:
        return any(m.bank_kind == "positive" and not m.suppressed for m in self.matches)

    @property
    def actionable(self) -> bool:
        """Whether a match may lead to automatic action (none is quarantined)."""
        return any(m.actionable for m in self.matches)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "content_id": self.content_id,
            "kind": self.media.kind.value if self.media else None,
            "media": _media_dict(self.media) if self.media else None,
            "matched": self.matched,
            "actionable": self.actionable,
            "review": self.review,
            "signals": [_signal_dict(s) for s in self.signals],
            "matches": [m.to_dict() for m in self.matches],
            "reasons": [m.reason for m in self.matches],
            "notes": self.notes,
            "text": self.text.to_dict() if self.text else None,
            "finance": self.finance.to_dict() if self.finance else None,
            "verdict": self.verdict,
            "case_id": self.case_id,
            "error": self.error.to_dict()["error"] if self.error else None,
        }


def _media_dict(media: MediaInfo) -> dict[str, Any]:
    data = asdict(media)
    data["kind"] = media.kind.value
    return data


def _signal_dict(signal: Signal) -> dict[str, Any]:
    return {
        key: value for key, value in asdict(signal).items() if value is not None and value != ""
    }


def _text_summary(text: TextAnalysis | None) -> dict[str, Any] | None:
    """What the content record keeps of the text stage: enough to explain a review later."""
    if text is None:
        return None
    return {
        "language": text.language.code,
        "entities": sorted({hit.entity_id for hit in text.entities}),
        "flagged": [s.code for s in text.scores if s.harmful],
        "model": text.scores[0].model if text.scores else None,
        "characters": text.characters,
    }


# A post's text and a caption are capped: past this they are spam or a document, which has its
# own limits.
MAX_POST_CHARS = 200_000
MAX_CAPTION_CHARS = 20_000


def check_post_text(value: str) -> str:
    """A post's text, refused past MAX_POST_CHARS: a longer text is a document, sent as a file
    (whose own limits apply), rather than cut without the client knowing."""
    if len(value) > MAX_POST_CHARS:
        raise InvalidInput(
            f"text is {len(value)} characters, more than the limit of {MAX_POST_CHARS} for a "
            "post; send a longer text as a document file",
            field="text",
            max_chars=MAX_POST_CHARS,
        )
    return value


def check_caption(value: str | None) -> str | None:
    """A caption, refused past MAX_CAPTION_CHARS rather than silently cut."""
    if value is not None and len(value) > MAX_CAPTION_CHARS:
        raise InvalidInput(
            f"caption is {len(value)} characters, more than the limit of {MAX_CAPTION_CHARS}",
            field="caption",
            max_chars=MAX_CAPTION_CHARS,
        )
    return value or None


def limits_from(settings: Settings) -> HashLimits:
    return HashLimits(
        max_image_pixels=settings.max_image_pixels,
        max_video_pixels=settings.max_video_pixels,
        max_video_seconds=settings.max_video_seconds,
        video_frames_per_second=settings.video_frames_per_second,
    )


def normalize_supplied(raw: list[tuple[str, str]]) -> list[Signal]:
    """Signals a client computed itself (``(type, value)`` pairs), validated and normalised."""
    if not raw:
        raise InvalidInput("no signals given")
    if len(raw) > MAX_SUPPLIED_SIGNALS:
        raise InvalidInput(f"at most {MAX_SUPPLIED_SIGNALS} signals per scan")
    signals = []
    for signal_name, value in raw:
        kind = get_signal_type(signal_name)
        signals.append(Signal(type=kind.name, value=kind.normalize(value)))
    return signals


class Scanner:
    def __init__(
        self, db: Database, settings: Settings, audit: AuditLog, banks: Banks | None = None
    ) -> None:
        self._db = db
        self._settings = settings
        self._banks = banks or Banks(audit)
        self.finance = FinanceAnalyzer(settings, audit, self._banks)
        self.cache = MatcherCache(db, settings)
        self._flood = FloodControl(settings, audit)
        self.limits = limits_from(settings)
        self.text = TextAnalyzer(audit, classifier_enabled=settings.text_classifier)
        self._ocr_images = settings.ocr_images

    def scan_bytes(
        self,
        data: bytes,
        *,
        name: str | None = None,
        declared_type: str | None = None,
        source: str = "upload",
        external_id: str | None = None,
        caption: str | None = None,
        ocr: bool | None = None,
    ) -> ScanResult:
        """Hash, match and record ``data``. ``caption``: text posted with it, analysed with it.
        ``ocr``: read text in a photo (default ``BASTION_OCR_IMAGES``)."""
        extraction = extract_signals(
            data, filename=name, declared_type=declared_type, limits=self.limits
        )
        extraction = self.add_text(extraction, data, caption=caption, ocr=ocr)
        return self.scan_extraction(
            extraction, name=name, source=source, external_id=external_id, size=len(data)
        )

    def add_text(
        self,
        extraction: Extraction,
        data: bytes | None,
        *,
        caption: str | None = None,
        ocr: bool | None = None,
    ) -> Extraction:
        """``extraction`` with a caption and, for a photo, the text OCR reads in it (``data``:
        the photo's bytes; ``ocr`` None follows ``BASTION_OCR_IMAGES``). Used by ``scan_bytes``
        and by ``bastion scan``, which hashes files in worker processes."""
        body = extraction.text or TextBody("", [])
        wanted = self._ocr_images if ocr is None else ocr
        if self._settings.finance_enabled and data is not None and extraction.media.kind == "photo":
            body = self._add_qr_codes(body, data)
        if wanted and data is not None and extraction.media.kind == "photo":
            try:
                read = ocr_image(data)
            except BastionError as exc:  # OCR is extra evidence: its failure is a note
                body.notes.append(f"OCR not done: {exc.code}: {exc.detail}")
            else:
                body = body.with_part(read.text, "ocr")
        if caption:
            body = body.with_part(caption[:MAX_CAPTION_CHARS], "caption")
        if body is extraction.text or not body.text:
            return extraction if not body.notes else replace(extraction, text=body)
        return extraction.with_text(body)

    def _add_qr_codes(self, body: TextBody, data: bytes) -> TextBody:
        """``body`` with the text of the QR codes in a photo: donation posters carry wallets
        and payment links as QR codes more often than as text."""
        try:
            codes = read_qr_codes(data, max_pixels=self.limits.max_image_pixels)
        except BastionError as exc:  # a code that cannot be read is a note, not a failure
            body.notes.append(f"QR codes not read: {exc.code}: {exc.detail}")
            return body
        for code in codes:
            body = body.with_part(code, "qr")
        return body

    def scan_text(
        self,
        text: str,
        *,
        name: str | None = None,
        source: str = "text",
        external_id: str | None = None,
        record: bool = True,
        language: str | None = None,
    ) -> ScanResult:
        """A post given as text: its text and link signals matched, then the text stage.
        ``language``: the client's hint, used when detection cannot decide (see
        ``classify.analysis.with_hint``)."""
        extraction = text_extraction(text[:MAX_POST_CHARS])
        return self.scan_extraction(
            extraction,
            name=name,
            source=source,
            external_id=external_id,
            size=len(text.encode("utf-8", errors="replace")),
            record=record,
            language=language,
        )

    def scan_extraction(
        self,
        extraction: Extraction,
        *,
        name: str | None,
        source: str,
        external_id: str | None = None,
        size: int | None = None,
        record: bool = True,
        language: str | None = None,
    ) -> ScanResult:
        result = ScanResult(name=name, media=extraction.media, signals=extraction.signals)
        self._in_session(
            result,
            source=source,
            external_id=external_id,
            size=size,
            record=record,
            probe=extraction.probe,
            variants=extraction.variants,
            extraction=extraction,
            language=normalize_language_hint(language),
        )
        return result

    def scan_texts(
        self,
        texts: Sequence[str],
        *,
        source: str = "text",
        record: bool = True,
        external_ids: Sequence[str | None] | None = None,
    ) -> list[ScanResult]:
        """Many posts in one session: one bank list, one index refresh and one classifier
        lookup for the batch (bulk scans and the benchmark's fast mode). Each post is matched,
        analysed and recorded as :meth:`scan_text` would; a post too long is an error result."""
        results: list[ScanResult] = []
        with self._db.session() as session:
            batch = self.cache.matcher.start_batch(session)
            model = self.text.model(session)
            ids = list(external_ids) if external_ids is not None else [None] * len(texts)
            for text, external_id in zip(texts, ids, strict=True):
                try:
                    extraction = text_extraction(check_post_text(text))
                except BastionError as exc:
                    results.append(ScanResult(name=None, error=exc))
                    continue
                result = ScanResult(name=None, media=extraction.media, signals=extraction.signals)
                self._process(
                    session,
                    result,
                    source=source,
                    external_id=external_id,
                    size=len(text.encode("utf-8", errors="replace")),
                    record=record,
                    variants=extraction.variants,
                    extraction=extraction,
                    batch=batch,
                    model=model,
                )
                results.append(result)
        return results

    def scan_signals(
        self,
        signals: list[Signal],
        *,
        name: str | None = None,
        source: str = "signals",
        external_id: str | None = None,
        record: bool = True,
    ) -> ScanResult:
        result = ScanResult(name=name, signals=signals)
        self._in_session(result, source=source, external_id=external_id, size=None, record=record)
        return result

    def _in_session(self, result: ScanResult, **options: Any) -> None:
        """:meth:`_process` in a session of its own (one item)."""
        with self._db.session() as session:
            self._process(session, result, **options)

    def _process(
        self,
        session: Session,
        result: ScanResult,
        *,
        source: str,
        external_id: str | None,
        size: int | None,
        record: bool,
        probe: PhotoProbe | None = None,
        variants: Sequence[Signal] = (),
        extraction: Extraction | None = None,
        language: str | None = None,
        batch: MatchBatch | None = None,
        model: Classifier | None = None,
    ) -> None:
        """Match, analyse text and record one item in ``session``."""
        sha256 = next((s.value for s in result.signals if s.type == "sha256"), None)
        now = utcnow()
        outcome: MatchOutcome = self.cache.matcher.match(
            session,
            result.signals,
            content_key=sha256 or "",
            now=now,
            probe=probe,
            variants=variants,
            batch=batch,
        )
        result.matches, result.notes = outcome.matches, outcome.notes
        if extraction is not None and extraction.text is not None:
            result.text = self.text.analyze(
                session,
                extraction.text,
                extraction.urls,
                result.matches,
                language_hint=language,
                model=model,
            )
        if self._settings.finance_enabled:
            result.finance = self.finance.analyze(
                session,
                text=extraction.text.text if extraction and extraction.text else "",
                instruments=extraction.instruments if extraction else [],
                signals=result.signals,
            )
        if not record:
            return
        content = ContentRow(
            kind=result.media.kind.value if result.media else "signals",
            source=source,
            external_id=external_id,
            name=(result.name or "")[:1024] or None,
            sha256=sha256,
            size=size,
            meta={
                "media": _media_dict(result.media) if result.media else None,
                "notes": result.notes,
                "text": _text_summary(result.text),
            },
        )
        session.add(content)
        session.flush()
        session.add_all(
            SignalRow(
                content_id=content.id,
                signal_type=s.type,
                value=s.value,
                quality=s.quality,
                frame_time=s.frame_time,
            )
            for s in result.signals
        )
        session.add_all(
            MatchRow(
                content_id=content.id,
                bank_entry_id=m.entry_id,
                bank_name=m.bank,
                signal_type=m.signal_type,
                distance=m.distance,
                threshold=m.threshold,
                suppressed=m.suppressed,
                review_only=m.review_only,
                details={
                    "detail": m.detail,
                    "suppressed_by": m.suppressed_by,
                    "variant": m.variant,
                    "bank_variant": m.bank_variant,
                    "verification": m.verification,
                },
            )
            for m in result.matches
        )
        session.flush()
        if result.finance is not None:
            record_analysis(
                session,
                result.finance,
                content_id=content.id,
                settings=self._settings,
                banks=self._banks,
            )
        alerts = self._flood.check(session, result.matches, now)
        if alerts:
            result.notes.append(f"flood control raised alert(s) {alerts}")
        matched_ids = sorted({m.entry_id for m in result.matches})
        if matched_ids:
            session.execute(
                update(BankEntryRow).where(BankEntryRow.id.in_(matched_ids)).values(last_seen=now)
            )
            session.execute(
                update(BankEntryRow)
                .where(BankEntryRow.id.in_(matched_ids), BankEntryRow.first_seen.is_(None))
                .values(first_seen=now)
            )
        result.content_id = content.id
