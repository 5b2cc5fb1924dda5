"""IBANs and BICs in text, validated with schwifty.

IBANs are found printed compact (``DE89370400440532013000``) or in groups of four separated by
spaces, non-breaking spaces or hyphens (``DE89 3704 0044 0532 0130 00``), in upper or lower case.
A candidate is validated with ``schwifty.IBAN`` (country length, structure and the mod-97
check digits); when a greedy match took in a trailing group that is not part of it, the
candidate is cut back at group boundaries until it validates. Canonical value: compact upper
case; details: country code, and bank name and BIC when schwifty's registry knows the bank.

BICs (8 or 11 characters, in capitals) are indistinguishable from upper-case words
("HOSPITAL" is a well-formed BIC: bank HOSP, Italy, location AL), so one is only taken right
after a context word (``BIC``, ``SWIFT``, ``SWIFT code``, ``code SWIFT``, Arabic ``رمز
السويفت``/``سويفت``, Russian ``БИК``/``СВИФТ``...) or right after a valid IBAN, within a few
characters, and must pass ``schwifty.BIC`` (known country, structure).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final, NamedTuple

from schwifty import BIC as SchwiftyBic  # noqa: N811
from schwifty import IBAN as SchwiftyIban  # noqa: N811
from schwifty.exceptions import InvalidBBANChecksum, SchwiftyException

from bastion.finance.fold import fold_text, lower_same_length

__all__ = ["FoundAccount", "find_bics", "find_ibans", "validate_bic", "validate_iban"]


class FoundAccount(NamedTuple):
    start: int
    end: int
    kind: str  # "iban" or "bic"
    value: str
    details: dict[str, str]


# Groups of four are written with spaces, no-break spaces or hyphens, and on posters and
# screenshots an IBAN often wraps onto the next line.
_SEP: Final = r"(?:[ \u00a0\u202f-]|[ \t]*\r?\n[ \t]*)?"
# Starts at the two check digits (digits are rare in prose, so the regex engine skips quickly
# to them); the country code before them is checked in Python.
_IBAN: Final = re.compile(
    rf"[0-9]{{2}}(?:{_SEP}[0-9A-Za-z]{{4}}){{2,7}}(?:{_SEP}[0-9A-Za-z]{{1,4}})?(?![0-9A-Za-z])"
)
_ALNUM: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SEPARATORS: Final = re.compile(r"[ \t\r\n\u00a0\u202f-]")
# Context words as written, and folded (the text searched is folded: Cyrillic б reads 6, к k).
_BIC_WORDS: Final = ("бик", "свифт")
_BIC_CONTEXT: Final = re.compile(
    r"(?:\b(?:swift/bic|bic/swift|swift[ -]?code|code swift|código swift|bic|swift)\b"
    r"|رمز السويفت|السويفت|سويفت|"
    + "|".join(re.escape(form) for word in _BIC_WORDS for form in (fold_text(word).text, word))
    + ")",
    re.IGNORECASE,
)


@cache
def _bic_probes() -> tuple[str, ...]:
    folded = (fold_text(word).text.lower() for word in _BIC_WORDS)
    return ("bic", "swift", "سويفت", *_BIC_WORDS, *folded)


# Written in capitals, as banks print them: "Partagez" after an IBAN is a word, not a BIC.
_BIC: Final = re.compile(r"(?<![0-9A-Za-z])([A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)(?![0-9A-Za-z])")
_BIC_WINDOW: Final = 40


def validate_iban(candidate: str) -> tuple[str, dict[str, str]] | None:
    """(compact upper-case IBAN, details) or None."""
    compact = _SEPARATORS.sub("", candidate).upper()
    national_check = True
    try:
        iban = SchwiftyIban(compact, validate_bban=True)
    except InvalidBBANChecksum:
        # The IBAN's own check digits hold; the country's account-number checksum (as schwifty
        # implements it) does not: kept, and said.
        national_check = False
        try:
            iban = SchwiftyIban(compact)
        except (SchwiftyException, ValueError):
            return None
    except (SchwiftyException, ValueError):
        return None
    details = {"country": iban.country_code}
    if not national_check:
        details["national_check"] = "failed"
    try:
        bank_name = iban.bank_name
        bic = iban.bic
    except (SchwiftyException, ValueError, KeyError):
        bank_name, bic = None, None
    if bank_name:
        details["bank_name"] = str(bank_name)
    if bic is not None:
        details["bic"] = str(bic.compact)
    return iban.compact, details


def validate_bic(candidate: str) -> tuple[str, dict[str, str]] | None:
    """(compact upper-case BIC, details) or None."""
    try:
        bic = SchwiftyBic(candidate.upper())
    except (SchwiftyException, ValueError):
        return None
    details = {"country": bic.country_code}
    try:
        names = bic.bank_names
    except (SchwiftyException, ValueError, KeyError):
        names = []
    if names:
        details["bank_name"] = str(names[0])
    return bic.compact, details


def find_ibans(text: str) -> list[FoundAccount]:
    """Valid IBANs in ``text`` (the folded text), in order."""
    found: list[FoundAccount] = []
    for match in _IBAN.finditer(text):
        begin = match.start() - 2
        country = text[begin : match.start()]
        if begin < 0 or not (country.isascii() and country.isalpha()):
            continue
        if begin > 0 and text[begin - 1] in _ALNUM:
            continue
        raw = text[begin : match.end()]
        # Cut back at separators (a trailing word group taken in by the greedy match).
        while raw:
            result = validate_iban(raw)
            if result is not None:
                found.append(FoundAccount(begin, begin + len(raw), "iban", *result))
                break
            cut = max(raw.rfind(sep) for sep in (" ", "\u00a0", "-", "\u202f", "\n", "\t"))
            if cut < 15:
                break
            raw = raw[:cut].rstrip(" \t\r\u00a0\u202f-")
    return found


def find_bics(
    text: str, ibans: list[FoundAccount] | None = None, lowered: str | None = None
) -> list[FoundAccount]:
    """BICs right after a context word or a found IBAN (see the module doc).

    ``lowered`` (``text.lower()``, when the caller has it) lets texts without any context word
    skip the case-insensitive scan.
    """
    probe = (
        lowered if lowered is not None and len(lowered) == len(text) else lower_same_length(text)
    )
    has_context = any(word in probe for word in _bic_probes())
    anchors = [match.end() for match in _BIC_CONTEXT.finditer(text)] if has_context else []
    anchors += [iban.end for iban in ibans or ()]
    found: list[FoundAccount] = []
    seen: set[int] = set()
    for anchor in sorted(anchors):
        window = text[anchor : anchor + _BIC_WINDOW]
        match = _BIC.search(window)
        if match is None:
            continue
        # Only separators and punctuation between the anchor and the BIC.
        if any(char.isalnum() for char in window[: match.start()]):
            continue
        start = anchor + match.start(1)
        if start in seen:
            continue
        result = validate_bic(match.group(1))
        if result is None:
            continue
        seen.add(start)
        found.append(FoundAccount(start, anchor + match.end(1), "bic", *result))
    return found
