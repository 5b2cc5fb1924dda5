"""Every payment instrument in a text: fold once, run each extractor, map back, deduplicate.

:func:`extract_instruments` is the entry point of the stage for text (posts, documents,
OCR output); :func:`extract_from_qr` for the texts of QR codes
(:func:`bastion.finance.qr.read_qr_codes`).

Order of work, each a linear scan of the folded text with a compiled regex, and validation only
of what a scan found:

1. :func:`bastion.finance.fold.fold_text` (look-alikes to ASCII, invisible characters removed);
2. one scan for runs of ASCII letters and digits of 25 or more: crypto addresses by their chain's
   checksum, and BOLT-11 invoices and LNURLs (runs starting with ``ln``);
3. payment URIs (``bitcoin:…?amount=``, ``ethereum:0x…@1``...);
4. IBANs, then BICs after a context word or an IBAN;
5. payment links, found from a scan for the platforms' host names;
6. phone numbers near a mobile-money context word.

Offsets of findings are mapped back to the original text, so ``raw == text[start:end]`` always;
``folded`` says whether that span needed folding. A URI and the address inside it are one
finding (the URI, whose details carry amount and label).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Final

from bastion.finance.bank_accounts import find_bics, find_ibans
from bastion.finance.crypto import classify_address
from bastion.finance.findings import (
    BIC,
    CRYPTO_ADDRESS,
    IBAN,
    LIGHTNING,
    PAYMENT_LINK,
    PHONE,
    VALID,
    Instrument,
    evidence_around,
)
from bastion.finance.fold import FoldedText, fold_text, lower_same_length
from bastion.finance.payment_links import find_payment_links
from bastion.finance.payment_uris import find_payment_uris, lightning_at
from bastion.finance.phones import find_phones

__all__ = ["extract_from_qr", "extract_instruments"]

_TOKEN: Final = re.compile(r"[0-9A-Za-z]{25,}")
_MAX_ADDRESS: Final = 106
# Every payment URI scheme ends in one of these before its colon (looked for in lower case).
_URI_HINTS: Final = ("coin:", "ereum:", "onero:", "tron:", "ning:", "dash:", "ripple:", "cash:")

# (start, end) in the folded text, kind, scheme, value, status, details
_Raw = tuple[int, int, str, str, str, str, dict[str, str]]


def extract_instruments(
    text: str, *, max_findings: int = 1000, max_chars: int = 2_000_000
) -> list[Instrument]:
    """Payment instruments in ``text`` (its first ``max_chars`` characters), sorted by start.

    Never raises on any string; at most ``max_findings`` are returned (the first ones).
    """
    if not isinstance(text, str):
        raise TypeError("text must be a str")
    if max_findings <= 0 or not text:
        return []
    if len(text) > max_chars:
        text = text[:max_chars]
    folded = fold_text(text)
    found = _scan(folded.text)
    return _instruments(folded, found, max_findings)


def extract_from_qr(texts: list[str]) -> list[Instrument]:
    """Instruments in the texts of QR codes: each text is its own source (offsets into it),
    ``details["source"] = "qr"`` and ``details["qr_index"]`` its position in ``texts``."""
    found: list[Instrument] = []
    for index, text in enumerate(texts):
        for item in extract_instruments(text):
            details = {**item.details, "source": "qr", "qr_index": str(index)}
            found.append(dataclasses.replace(item, details=details))
    return found


def _scan(text: str) -> list[_Raw]:
    found: list[_Raw] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[:2] in ("ln", "LN", "Ln", "lN"):
            item = lightning_at(text, match.start(), match.end())
            if item is not None:
                found.append((item.start, item.end, LIGHTNING, *item[3:]))
            continue
        if len(token) > _MAX_ADDRESS:
            continue
        address = classify_address(token)
        if address is not None:
            found.append((match.start(), match.end(), CRYPTO_ADDRESS, *address))
    lowered = lower_same_length(text)
    if any(hint in lowered for hint in _URI_HINTS):
        for uri in find_payment_uris(text):
            found.append((uri.start, uri.end, uri.kind, *uri[3:]))
    ibans = find_ibans(text)
    for account in ibans:
        found.append(
            (account.start, account.end, IBAN, "iban", account.value, VALID, account.details)
        )
    for account in find_bics(text, ibans, lowered):
        found.append(
            (account.start, account.end, BIC, "bic", account.value, VALID, account.details)
        )
    for link in find_payment_links(text, lowered):
        found.append(
            (link.start, link.end, PAYMENT_LINK, link.scheme, link.value, VALID, link.details)
        )
    taken = [(item[0], item[1]) for item in found]
    for phone in find_phones(text, taken):
        found.append((phone.start, phone.end, PHONE, "phone", phone.value, VALID, phone.details))
    return found


def _instruments(folded: FoldedText, found: list[_Raw], max_findings: int) -> list[Instrument]:
    # A URI (or "lightning:" invoice) covers the bare value found inside it: keep the wider one.
    found.sort(key=lambda item: (item[0], -item[1]))
    kept: list[_Raw] = []
    seen: set[tuple[int, int, str, str, str]] = set()
    for item in found:
        start, end, kind, scheme, value = item[:5]
        key = (start, end, kind, scheme, value)
        if key in seen:
            continue
        if any(
            other[0] <= start and end <= other[1] and other[2:5] == (kind, scheme, value)
            for other in kept[-8:]
        ):
            continue
        seen.add(key)
        kept.append(item)
    original = folded.original
    instruments: list[Instrument] = []
    for start, end, kind, scheme, value, status, details in kept[:max_findings]:
        begin, finish = folded.original_span(start, end)
        instruments.append(
            Instrument(
                kind=kind,
                scheme=scheme,
                value=value,
                raw=original[begin:finish],
                start=begin,
                end=finish,
                status=status,
                folded=folded.was_folded(start, end),
                evidence=evidence_around(original, begin, finish),
                details=dict(details),
            )
        )
    return instruments
