"""The text of a piece of content, from wherever it came, and the signals made from it.

Text arrives as a post (``POST /v1/scan`` with ``text``), as a document (plain text, HTML, PDF,
DOCX: :mod:`bastion.content.documents`), as a caption sent with an upload, or read from a photo
by OCR. :class:`TextBody` keeps it with where each part came from and the links found beside it
(HTML hrefs, PDF link annotations), so that the text stage (:mod:`bastion.classify.analysis`)
sees one text and the matcher one set of signals:

* recorded (and banked) signals: ``text_sha256``, ``text_minhash``, every distinct ``url``, and
  every payment instrument (:func:`bastion.finance.extract.extract_instruments`: crypto
  addresses, IBANs, BICs, payment accounts, mobile-money numbers), so wallet banks match them;
* match-only: ``text_shingles``, the query's five-word runs for containment in banked texts. It
  can be megabytes for a book-length upload, so it is matched and not stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bastion.errors import BastionError
from bastion.finance.extract import extract_instruments
from bastion.finance.findings import Instrument
from bastion.signals.base import Signal
from bastion.signals.text import TextShinglesSignal, text_signals
from bastion.signals.url import UrlSignal
from bastion.signals.url_canonical import canonicalize_url
from bastion.signals.url_extract import FoundUrl, extract_urls

# Links found by the extractor beside the text (an HTML page's hrefs), not in it.
MAX_LINKS = 1000


@dataclass(slots=True)
class TextBody:
    """Text to analyse: ``parts`` say where each piece came from (``caption``, ``page 3``...)."""

    text: str
    sources: list[str] = field(default_factory=list)  # "post", "caption", "document", "ocr"
    links: list[str] = field(default_factory=list)
    truncated: bool = False
    notes: list[str] = field(default_factory=list)

    def with_part(self, text: str, source: str) -> TextBody:
        """This body with ``text`` appended as a part from ``source`` (a caption, OCR)."""
        if not text.strip():
            return self
        joined = f"{self.text}\n{text}" if self.text else text
        return TextBody(
            joined, [*self.sources, source], self.links, self.truncated, list(self.notes)
        )


@dataclass(slots=True)
class TextSignals:
    recorded: list[Signal]
    match_only: list[Signal]
    urls: list[FoundUrl]
    instruments: list[Instrument] = field(default_factory=list)


def body_signals(body: TextBody) -> TextSignals:
    """The text's own signals and one ``url`` signal per distinct link, in the text or beside it."""
    found = text_signals(body.text)
    recorded = [s for s in found if s.type != TextShinglesSignal.name]
    match_only = [s for s in found if s.type == TextShinglesSignal.name]
    urls = extract_urls(body.text)
    for link in body.links[:MAX_LINKS]:
        urls.append(_beside(link))
    seen: dict[str, None] = {}
    for url in urls:
        if url.canonical:
            seen.setdefault(url.canonical, None)
    recorded.extend(Signal(UrlSignal.name, canonical) for canonical in seen)
    instruments = extract_instruments(body.text)
    payment = {(i.signal_type, i.signal_value): None for i in instruments}
    recorded.extend(Signal(kind, value) for kind, value in payment)
    return TextSignals(recorded, match_only, urls, instruments)


def _beside(link: str) -> FoundUrl:
    """A link the document carried outside its text (offsets -1: it is not in the text)."""
    try:
        canonical = canonicalize_url(link)
    except BastionError:  # hostile or broken hrefs are reported as unusable, never raised
        return FoundUrl(link[:2048], -1, -1, None, None, None, ["invalid"])
    return FoundUrl(
        link[:2048],
        -1,
        -1,
        canonical.url,
        canonical.host,
        canonical.registrable_domain,
        list(canonical.flags),
    )
