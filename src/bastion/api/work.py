"""The blocking calls behind the content routes, run by them in the threadpool.

Each function only chooses which library call a parsed input needs (fetch, hash, scan, bank); the
event loop never waits on hashing, fetching or the database.
"""

from __future__ import annotations

from typing import Any

from bastion.api.inputs import MediaInput, ScanInput, SignalsInput, TextInput, UrlInput
from bastion.banks.from_media import entries_from_extraction
from bastion.banks.importer import ImportFormat, import_entries
from bastion.banks.records import AddReport
from bastion.ingest.url_fetch import FetchPolicy, fetch_url
from bastion.match.scanner import ScanResult, normalize_supplied
from bastion.review.intake import with_verdict
from bastion.runtime import Bastion
from bastion.signals.extract import Extraction, extract_signals, text_extraction
from bastion.taxonomy import parse_label_list


def fetch_media(bastion: Bastion, url: str) -> MediaInput:
    """Fetch ``url`` under the guarded fetch policy (no private addresses unless allowed)."""
    fetched = fetch_url(url, FetchPolicy.from_settings(bastion.settings))
    return MediaInput(
        data=fetched.data,
        name=fetched.filename or fetched.final_url,
        declared_type=fetched.content_type,
    )


def extract_media(bastion: Bastion, media: MediaInput, *, for_bank: bool = False) -> Extraction:
    """Signals of uploaded or fetched media, under the configured decode limits (``for_bank``:
    with what banking stores besides, see ``extract_signals``)."""
    return extract_signals(
        media.data,
        filename=media.name,
        declared_type=media.declared_type,
        limits=bastion.scanner.limits,
        for_bank=for_bank,
    )


def scan(bastion: Bastion, item: ScanInput) -> ScanResult:
    """Hash, match and record one item (``POST /v1/scan``), then the verdict and its case."""
    return with_verdict(bastion, _scan(bastion, item))


def _scan(bastion: Bastion, item: ScanInput) -> ScanResult:
    if isinstance(item, SignalsInput):
        return bastion.scanner.scan_signals(
            normalize_supplied(item.signals), external_id=item.external_id
        )
    if isinstance(item, TextInput):
        return bastion.scanner.scan_text(
            item.text, source="post", external_id=item.external_id, language=item.language
        )
    source = "url" if isinstance(item, UrlInput) else "upload"
    media = fetch_media(bastion, item.url) if isinstance(item, UrlInput) else item
    return bastion.scanner.scan_bytes(
        media.data,
        name=media.name,
        declared_type=media.declared_type,
        source=source,
        external_id=item.external_id,
        caption=media.caption,
        ocr=media.ocr,
    )


def hash_only(bastion: Bastion, item: ScanInput) -> dict[str, Any]:
    """Signals for one item, matched against nothing and recorded nowhere (``POST /v1/hash``)."""
    if isinstance(item, SignalsInput):
        result = ScanResult(name=None, signals=normalize_supplied(item.signals))
    elif isinstance(item, TextInput):
        extraction = text_extraction(item.text)
        result = ScanResult(name=None, media=extraction.media, signals=extraction.signals)
    else:
        media = fetch_media(bastion, item.url) if isinstance(item, UrlInput) else item
        extraction = bastion.scanner.add_text(
            extract_media(bastion, media), media.data, caption=media.caption, ocr=media.ocr
        )
        result = ScanResult(name=media.name, media=extraction.media, signals=extraction.signals)
    full = result.to_dict()
    return {key: full[key] for key in ("name", "kind", "media", "signals")}


def bank_media(
    bastion: Bastion,
    bank: str,
    media: MediaInput,
    *,
    labels: str | None,
    note: str | None,
    actor: str,
) -> AddReport:
    """Hash an uploaded file and bank its signals, with the upload named as their source."""
    label_list = parse_label_list(labels or "")
    with bastion.db.session() as session:
        bastion.banks.get(session, bank)  # an unknown bank fails before a long video is hashed
    extraction = extract_media(bastion, media, for_bank=True)
    source = f"upload:{media.name}" if media.name else "upload"
    entries, skipped = entries_from_extraction(
        extraction,
        source=source[:1000],
        labels=label_list,
        note=note or "",
        min_quality=bastion.settings.pdq_min_quality,
    )
    with bastion.db.session() as session:
        report = bastion.banks.add_entries(session, bank, entries, actor=actor)
    report.skipped.extend(skipped)
    return report


def import_file(
    bastion: Bastion,
    bank: str,
    data: bytes,
    *,
    fmt: ImportFormat,
    partial: bool,
    actor: str,
    source: str,
) -> AddReport:
    with bastion.db.session() as session:
        return import_entries(
            bastion.banks,
            session,
            bank,
            data,
            fmt=fmt,
            actor=actor,
            source=source,
            partial=partial,
        )
