"""Optional: read the text on stream frames (OCR) and run it through the text stage.

Attack streams and propaganda broadcasts carry words on screen: a group's name or slogan, a
manifesto's title, a call to violence, a banked URL or wallet. With ``BASTION_STREAM_OCR_SECONDS``
set, each watcher hands one sampled frame every that many stream seconds to a shared reader; it
runs Tesseract on the frame (at up to :data:`OCR_SIDE` pixels: the watcher's 480-pixel frames are
too small for text) and scans what it reads as a text post: banked texts, links, designated
entities, the classifier, and payment instruments (QR codes on the frame are read too) screened
against the sanctions lists. A finding raises a ``stream_text`` alert and a case for review. It
never cuts a stream on its own: words on screen are evidence, not proof (news reports show them).

OCR costs a few hundred milliseconds of a subprocess per frame, so it runs on its own worker
threads, never in a watcher's: a frame that finds the queue full is dropped and counted, so a slow
reader can never make a watcher fall behind live. Each stream reports a finding once per banked
entry or classifier category, not once per frame the caption stays on screen.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np
from av.video.frame import VideoFrame

from bastion.errors import BastionError
from bastion.finance.qr import read_codes_in_pixels
from bastion.signals.ocr import ocr_image
from bastion.stream.sampler import reduced_size

if TYPE_CHECKING:
    from bastion.match.scanner import ScanResult
    from bastion.runtime import Bastion

log = logging.getLogger(__name__)

OCR_SIDE: Final = 1280
# Fewer characters than this are noise (a channel logo, a clock), not text worth classifying.
MIN_TEXT_CHARS: Final = 12
QUEUE_SIZE: Final = 8


@dataclass(frozen=True, slots=True)
class FrameText:
    """What the reader found on one frame of ``stream`` at watch second ``seconds``."""

    stream_id: int
    stream: str
    seconds: float
    text: str
    result: ScanResult
    findings: list[str]  # keys not reported before on this stream: "entry:12", "class:tvec2"
    thumbnail_source: np.ndarray = field(repr=False)


def findings_of(result: ScanResult) -> list[str]:
    """What in a scan result deserves a reviewer: positive matches, classifier flags, and
    sanctions hits (a wallet or a listed name on screen)."""
    listed = result.finance is not None and bool(result.finance.wallet_hits)
    keys = [
        f"entry:{match.entry_id}"
        for match in result.matches
        if match.bank_kind == "positive"
        and not match.suppressed
        # A listed wallet is reported by its list entry; the wallet bank it went into after the
        # first frame is the same finding, not a new one.
        and not (listed and match.signal_type == "crypto_address")
    ]
    if result.text is not None:
        keys.extend(f"class:{score.code}" for score in result.text.scores if score.harmful)
    if result.finance is not None:
        keys.extend(f"sanctions:{hit.entity_id}" for hit in result.finance.hits)
    return sorted(set(keys))


class FrameTextReader:
    """Shared OCR workers for every watcher of a process."""

    def __init__(
        self,
        bastion: Bastion,
        *,
        on_finding: Callable[[FrameText], None],
        workers: int = 1,
    ) -> None:
        self._bastion = bastion
        self._on_finding = on_finding
        self._queue: queue.Queue[tuple[int, str, float, np.ndarray] | None] = queue.Queue(
            QUEUE_SIZE
        )
        self._reported: dict[int, set[str]] = {}
        self._lock = threading.Lock()
        self.read = 0
        self.dropped = 0
        self.failed = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"stream-ocr-{n}", daemon=True)
            for n in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, stream_id: int, stream: str, seconds: float, frame: VideoFrame) -> bool:
        """Queue a frame for reading; False (and counted) when the readers are busy."""
        width, height = reduced_size(frame.width, frame.height, OCR_SIDE)
        grey = frame.reformat(width=width, height=height, format="gray", threads=1).to_ndarray()
        try:
            self._queue.put_nowait((stream_id, stream, seconds, grey))
        except queue.Full:
            with self._lock:
                self.dropped += 1
            return False
        return True

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._read(*item)
            except Exception:  # one frame's failure must not end the reader
                log.exception("reading the text of a stream frame failed")
                with self._lock:
                    self.failed += 1

    def _read(self, stream_id: int, stream: str, seconds: float, grey: np.ndarray) -> None:
        try:
            text = ocr_image(grey).text.strip()
        except BastionError as exc:
            # The frame's QR codes are still read: they need no OCR.
            with self._lock:
                self.failed += 1
            log.warning("OCR of stream %s at %.1f s: %s: %s", stream, seconds, exc.code, exc.detail)
            text = ""
        else:
            with self._lock:
                self.read += 1
        codes = self._codes(grey)
        if codes:  # a donation QR code on screen is read like text shown beside it
            text = "\n".join([text, *codes]).strip()
        if len(text) < MIN_TEXT_CHARS:
            return
        result = self._bastion.scanner.scan_text(text, name=stream, source="stream-ocr")
        found = findings_of(result)
        with self._lock:
            reported = self._reported.setdefault(stream_id, set())
            new = [key for key in found if key not in reported]
            reported.update(new)
        if new:
            self._on_finding(FrameText(stream_id, stream, seconds, text, result, new, grey))

    def _codes(self, grey: np.ndarray) -> list[str]:
        if not self._bastion.settings.finance_enabled:
            return []
        try:
            return read_codes_in_pixels(grey)
        except BastionError as exc:
            log.warning("QR codes of a stream frame: %s: %s", exc.code, exc.detail)
            return []

    def close(self) -> None:
        """Read the frames already queued, then stop the workers."""
        for _ in self._threads:
            try:
                self._queue.put(None, timeout=30.0)
            except queue.Full:
                break
        for thread in self._threads:
            thread.join(timeout=60.0)
