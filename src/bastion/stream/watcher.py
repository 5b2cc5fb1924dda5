"""The livestream watcher: sampled frames of a stream against the photo and video banks.

Loop, in the caller's thread: take the next decoded frame, tell the sampler how far behind live
it is, hash it if the sampler wants it (PDQ and mirror PDQ at reduced resolution), look both up
in the process's live indexes - banked photos in the ``pdq`` index, banked videos' dense frames
(eight a second) in the ``vpdq_dense`` one, whose rows ``entry_id << FRAME_BITS | n`` map back to
the video's entry - and feed the hits to the temporal evidence, which decides when an entry
fires. ``on_alert`` gets one :class:`StreamAlert` per entry per stream.

The indexes are the ones the scanner holds (``bastion.scanner.cache.indexes``), caught up with
the database change log at most once every ``refresh_seconds`` (1 s): an entry banked during a
crisis is matched from the next refresh on, and a stream at one frame a second costs one
primary-key query a second. Banks are read at the same refresh, as the matcher reads them:
disabled banks and entries disabled for now never fire, negative (known-good) banks never alert,
per-bank thresholds apply, and quarantined entries fire with ``review_only`` set.

Videos banked without dense frames (imported vPDQ hashes) are not matched here: their frames
sit in the brute-force vPDQ index, made for whole-video queries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from av.video.frame import VideoFrame
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.index.base import SignalIndex
from bastion.index.pdq import PdqIndex
from bastion.index.vpdq_dense import DenseVpdqIndex
from bastion.match.live_index import DENSE_VIDEOS
from bastion.match.matcher import default_threshold
from bastion.review.evidence_image import THUMBNAIL_SIDE, EvidenceImage, blurred_thumbnail
from bastion.storage.models import BankEntryRow, BankRow, utcnow
from bastion.stream.evidence import TemporalEvidence
from bastion.stream.history import FrameHistory
from bastion.stream.sampler import FrameHash, Sampler, SamplerStatus, reduced_size
from bastion.stream.source import StreamFrame, StreamSource

if TYPE_CHECKING:
    from bastion.runtime import Bastion
    from bastion.stream.frame_text import FrameTextReader

PHOTO = "pdq"  # a banked photo's entry
VIDEO = "vpdq"  # a banked video's entry, hit through its dense frames


@dataclass(frozen=True, slots=True)
class StreamAlert:
    """Banked footage seen on ``stream``: when it first matched and when the evidence was
    complete (stream seconds), on how many sampled frames, and the wall time from ingesting the
    first matching frame to this alert."""

    stream: str
    entry_id: int
    signal_type: str
    first_frame_seconds: float
    fired_seconds: float
    frames: int
    best_distance: float
    latency_seconds: float
    bank: str = ""
    review_only: bool = False  # the entry is quarantined by flood control: review, do not cut
    # The frame that completed the evidence, blurred and greyscale (never the frame itself).
    thumbnail: EvidenceImage | None = field(default=None, repr=False, compare=False)

    def record(self) -> dict[str, Any]:
        """The alert's facts as JSON-ready values, without the thumbnail's bytes."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "thumbnail"}


@dataclass(frozen=True, slots=True)
class _Bank:
    """What the watcher needs of an enabled bank, copied out of the session that read it."""

    name: str
    kind: str
    thresholds: dict[str, float]


@dataclass(frozen=True, slots=True)
class _Hit:
    distance: float
    bank: str
    review_only: bool


def _thumbnail(frame: VideoFrame) -> EvidenceImage:
    """The frame as a blurred greyscale thumbnail (made only when an alert fires)."""
    width, height = reduced_size(frame.width, frame.height, THUMBNAIL_SIDE)
    grey = frame.reformat(width=width, height=height, format="gray", threads=1).to_ndarray()
    return blurred_thumbnail(Image.fromarray(grey))


class StreamWatcher:
    """Watches one opened source; call :meth:`run` (again, to continue after ``max_seconds``)."""

    def __init__(
        self,
        bastion: Bastion,
        source: StreamSource,
        *,
        on_alert: Callable[[StreamAlert], None],
        name: str | None = None,
        sampler: Sampler | None = None,
        evidence: TemporalEvidence | None = None,
        refresh_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        history: FrameHistory | None = None,
        time_offset: float = 0.0,
        text_reader: FrameTextReader | None = None,
        text_every_seconds: float = 0.0,
        stream_id: int = 0,
    ) -> None:
        self._bastion = bastion
        self._source = source
        self._on_alert = on_alert
        self.name = name or source.name
        self.sampler = sampler or Sampler()
        self.evidence = evidence or TemporalEvidence()
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        # Sampled hashes at watch seconds (stream seconds plus the offset of this connection).
        self.history = history
        self._time_offset = time_offset
        # Optional OCR of one sampled frame every text_every_seconds (read on another thread).
        self._text_reader = text_reader if text_every_seconds > 0 else None
        self._text_every = text_every_seconds
        self._text_due = 0.0
        self._stream_id = stream_id
        self._indexes = bastion.scanner.cache.indexes
        self._frames: Iterator[StreamFrame] = source.frames()
        self._pending: StreamFrame | None = None
        self._refreshed_at = -float("inf")
        self._banks: dict[int, _Bank] = {}
        self.ended = False

    def status(self) -> SamplerStatus:
        return self.sampler.status()

    def run(self, max_seconds: float | None = None) -> bool:
        """Watch until the source ends (returns True) or, with ``max_seconds``, until a frame
        that many stream seconds past where this call started (returns False; it is kept for
        the next call)."""
        stop_at: float | None = None
        while not self.ended:
            item = self._pending or next(self._frames, None)
            self._pending = None
            if item is None:
                self.ended = True
                break
            if max_seconds is not None:
                stop_at = item.seconds + max_seconds if stop_at is None else stop_at
                if item.seconds >= stop_at:
                    self._pending = item
                    return False
            self._handle(item)
        return True

    def _handle(self, item: StreamFrame) -> None:
        ingested = self._clock()
        self.sampler.observe(item.seconds, self._source.lag(item.seconds))
        # Keyframes only when the governor finds decoding itself too slow (sampler docstring).
        self._source.request_decode_mode(self.sampler.decode_mode)
        if not self.sampler.wanted(item.seconds):
            return
        found = self.sampler.hash(item.frame, item.seconds)
        if self.history is not None:
            self.history.add(self._time_offset + item.seconds, found.pdq, found.quality)
        if self._text_reader is not None and item.seconds >= self._text_due:
            self._text_due = item.seconds + self._text_every
            self._text_reader.submit(
                self._stream_id, self.name, self._time_offset + item.seconds, item.frame
            )
        hits = self._lookup(found)
        if not hits:
            self.evidence.add(item.seconds, ingested, {})
            return
        if any(not self.evidence.fired(*key) for key in hits):
            self.sampler.confirm(item.seconds)  # sample faster until the evidence is complete
        fired = self.evidence.add(
            item.seconds, ingested, {key: hit.distance for key, hit in hits.items()}
        )
        thumbnail = _thumbnail(item.frame) if fired else None
        for evidence in fired:
            hit = hits[(evidence.entry_id, evidence.signal_type)]
            self._on_alert(
                StreamAlert(
                    stream=self.name,
                    entry_id=evidence.entry_id,
                    signal_type=evidence.signal_type,
                    first_frame_seconds=self._time_offset + evidence.first_frame_seconds,
                    fired_seconds=self._time_offset + evidence.fired_seconds,
                    frames=evidence.frames,
                    best_distance=evidence.best_distance,
                    latency_seconds=self._clock() - evidence.first_frame_wall,
                    bank=hit.bank,
                    review_only=hit.review_only,
                    thumbnail=thumbnail,
                )
            )

    def _reach(self, signal_type: str) -> float:
        """How far to search: the loosest threshold of any enabled bank."""
        settings = self._bastion.settings
        return max(
            [
                float(bank.thresholds.get(signal_type, default_threshold(settings, signal_type)))
                for bank in self._banks.values()
            ]
            or [-1.0]
        )

    def _load_banks(self, session: Session) -> None:
        self._banks = {
            bank.id: _Bank(bank.name, bank.kind, {k: float(v) for k, v in bank.thresholds.items()})
            for bank in session.scalars(select(BankRow))
            if bank.enabled
        }

    def _lookup(self, found: FrameHash) -> dict[tuple[int, str], _Hit]:
        settings = self._bastion.settings
        if found.quality < settings.pdq_min_quality:
            return {}  # a flat frame (a fade, a black slate) would match every flat banked frame
        hashes = [found.pdq]
        if found.mirror and settings.robust_matching:
            hashes.append(found.mirror)
        now = self._clock()
        due = now - self._refreshed_at >= self._refresh_seconds
        with self._bastion.db.session() as session:
            if due:
                self._load_banks(session)
                self._refreshed_at = now
            with self._indexes.reading(session, refresh=due) as index_for:
                raw = self._search(index_for, hashes)
            return self._admit(session, raw) if raw else {}

    def _search(
        self, index_for: Callable[[str], SignalIndex | None], hashes: list[str]
    ) -> dict[tuple[int, str], float]:
        raw: dict[tuple[int, str], float] = {}

        def keep(entry_id: int, signal_type: str, distance: float) -> None:
            key = (entry_id, signal_type)
            raw[key] = min(distance, raw.get(key, distance))

        photos = index_for(PHOTO)
        reach = self._reach(PHOTO)
        if isinstance(photos, PdqIndex) and reach >= 0:
            for hits in photos.search_many(hashes, reach):
                for hit in hits:
                    keep(hit.entry_id, PHOTO, hit.distance)
        videos = index_for(DENSE_VIDEOS)
        reach = self._reach(VIDEO)
        if isinstance(videos, DenseVpdqIndex) and reach >= 0:
            # The dense index matches whole queries by share; a live frame is looked up alone.
            for hits in videos.frame_hits(hashes, reach):
                for hit in hits:
                    keep(hit.entry_id, VIDEO, hit.distance)
        return raw

    def _admit(
        self, session: Session, raw: dict[tuple[int, str], float]
    ) -> dict[tuple[int, str], _Hit]:
        """The hits that count: entries still there, in an enabled positive bank, not disabled
        for now, within their bank's threshold."""
        ids = sorted({entry_id for entry_id, _ in raw})
        rows = session.execute(
            select(
                BankEntryRow.id,
                BankEntryRow.bank_id,
                BankEntryRow.disabled_until,
                BankEntryRow.quarantined_at,
            ).where(BankEntryRow.id.in_(ids))
        )
        entries: dict[int, tuple[int, datetime | None, datetime | None]] = {
            entry_id: (bank_id, disabled, quarantined)
            for entry_id, bank_id, disabled, quarantined in rows
        }
        settings = self._bastion.settings
        now = utcnow()
        admitted: dict[tuple[int, str], _Hit] = {}
        for (entry_id, signal_type), distance in raw.items():
            entry = entries.get(entry_id)
            bank = self._banks.get(entry[0]) if entry is not None else None
            if entry is None or bank is None or bank.kind != "positive":
                continue
            if entry[1] is not None and entry[1] > now:
                continue
            threshold = bank.thresholds.get(signal_type, default_threshold(settings, signal_type))
            if distance <= threshold:
                admitted[(entry_id, signal_type)] = _Hit(distance, bank.name, entry[2] is not None)
        return admitted
