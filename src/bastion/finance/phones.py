"""Phone numbers used as payment instruments: mobile money, hawala, "send to this number".

A phone number in a post is usually not a payment instrument, so one is reported only within
``window`` characters of a context word of ``data/mobile_money.json`` (M-Pesa, EVC Plus, bKash,
Vodafone Cash, حوالة, перевод, QIWI...). The word also gives the country its national-format
numbers are read in (``EVC`` → Somalia); other words need a ``+`` international number. Numbers
are parsed with phonenumbers (``PhoneNumberMatcher``, leniency VALID) and reported only when
``is_valid_number`` holds. Canonical value: E.164; details: region, carrier when phonenumbers'
carrier data knows it, and the context word.

The search runs on the folded text, so Arabic-Indic and full-width digits read as digits; the
context words are folded the same way before matching.
"""

from __future__ import annotations

import bisect
import json
import re
from functools import cache
from importlib import resources
from typing import Final, NamedTuple

import phonenumbers
from phonenumbers import carrier

from bastion.finance.fold import fold_text

__all__ = ["FoundPhone", "find_phones"]


class FoundPhone(NamedTuple):
    start: int
    end: int
    value: str
    details: dict[str, str]


@cache
def _context() -> tuple[re.Pattern[str], dict[str, str | None], int]:
    data = json.loads(
        resources.files("bastion.finance").joinpath("data/mobile_money.json").read_text("utf-8")
    )
    regions: dict[str, str | None] = {}
    for record in data["words"]:
        regions[fold_text(record["word"]).text.lower()] = record["region"]
    words = sorted(regions, key=len, reverse=True)
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(word) for word in words) + r")(?!\w)", re.IGNORECASE
    )
    return pattern, regions, int(data.get("window", 80))


# Seven digits or more, with at most two separators between digits ("0712 345678",
# "+7 (912) 345-67-89"), a leading "+" taken in.
_DIGIT_RUN: Final = re.compile(r"\+?[0-9](?:[ ()./-]{0,2}[0-9]){6,}")
_ALNUM: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_TRAILING_GROUP: Final = re.compile(r"[ ()./-]+[0-9]+$")
_MAX_RUNS: Final = 2000  # digit runs looked at per text
_MAX_NUMBERS: Final = 200


def find_phones(text: str, exclude: list[tuple[int, int]] | None = None) -> list[FoundPhone]:
    """Valid phone numbers near a mobile-money context word in ``text`` (the folded text).

    Runs of seven digits or more are found first (rare in prose: one fast scan); context words
    are looked for only around them. A run is parsed as one number in the country of the
    nearest context word; a run that is not one valid number (two numbers written together, a
    number inside other digits) is read with phonenumbers' ``PhoneNumberMatcher``. Digit runs
    overlapping an ``exclude`` span (an IBAN, an address already found) are skipped.
    """
    skip = sorted(exclude or ())
    skip_starts = [span[0] for span in skip]
    pattern, regions, window = _context()
    found: list[FoundPhone] = []
    for count, run in enumerate(_DIGIT_RUN.finditer(text)):
        if count >= _MAX_RUNS or len(found) >= _MAX_NUMBERS:
            break
        start, end = run.span()
        if start and text[start - 1] in _ALNUM:
            continue  # digits inside a longer token (a hash, an address, an id)
        if text[end : end + 1] in _ALNUM:
            # The last digits begin a token ("0615751716 0x97..."): cut them off if a number
            # of seven digits or more is left.
            cut = _TRAILING_GROUP.search(run.group())
            if cut is None or sum(char.isdigit() for char in run.group()[: cut.start()]) < 7:
                continue
            end = start + cut.start()
        index = bisect.bisect_left(skip_starts, end) - 1
        if index >= 0 and skip[index][1] > start:
            continue  # inside (or overlapping) an IBAN or address
        contexts = [
            (context.start(), context.end(), context.group())
            for context in pattern.finditer(text, max(0, start - window), end + window)
        ]
        if not contexts:
            continue
        _, word = _nearest(contexts, start, end)
        region = regions.get(word.lower()) or "ZZ"
        found.extend(_numbers_in(text[start:end], start, region, word))
    return found


def _numbers_in(candidate: str, offset: int, region: str, word: str) -> list[FoundPhone]:
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return [_phone(number, offset, offset + len(candidate), word)]
    found: list[FoundPhone] = []
    matcher = phonenumbers.PhoneNumberMatcher(
        candidate, region, leniency=phonenumbers.Leniency.VALID, max_tries=20
    )
    for match in matcher:
        if phonenumbers.is_valid_number(match.number):
            found.append(_phone(match.number, offset + match.start, offset + match.end, word))
    return found


def _nearest(contexts: list[tuple[int, int, str]], start: int, end: int) -> tuple[int, str]:
    """Distance to, and text of, the context word nearest ``start``:``end``."""
    index = bisect.bisect_left(contexts, (start,))
    best = (10**9, "")
    for context in contexts[max(0, index - 2) : index + 2]:
        distance = max(context[0] - end, start - context[1], 0)
        if distance < best[0]:
            best = (distance, context[2])
    return best


def _phone(number: phonenumbers.PhoneNumber, start: int, end: int, word: str) -> FoundPhone:
    details = {"region": phonenumbers.region_code_for_number(number) or "", "context": word}
    name = carrier.name_for_number(number, "en")
    if name:
        details["carrier"] = name
    value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return FoundPhone(start, end, value, details)
