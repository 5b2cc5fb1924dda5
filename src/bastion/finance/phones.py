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


# Seven digits or more, with at most two separators between digits: "0712 345678", "+7 (912)".
_DIGIT_RUN: Final = re.compile(r"[0-9](?:[ ()./-]{0,2}[0-9]){6,}")
_MAX_CONTEXTS: Final = 500  # context words read per text; the rest are repeats
_MAX_NUMBERS: Final = 200


def find_phones(text: str) -> list[FoundPhone]:
    """Valid phone numbers near a mobile-money context word in ``text`` (the folded text).

    Runs of seven digits or more are found first; context words are looked for only around
    them, and the windows around context words of one region are merged before phonenumbers
    reads them, so a text repeating a context word thousands of times is read once.
    """
    pattern, regions, window = _context()
    # Digit runs long enough to be a phone number first (rare in prose, found fast), then
    # context words only in the windows around them.
    contexts: dict[int, tuple[int, int, str]] = {}
    searched_to = 0
    for cluster in _DIGIT_RUN.finditer(text):
        left = max(searched_to - 40, cluster.start() - window, 0)  # overlap: no word cut
        right = min(len(text), cluster.end() + window)
        if right <= left:
            continue
        for context in pattern.finditer(text, left, right):
            contexts.setdefault(context.start(), (context.start(), context.end(), context.group()))
        searched_to = right
        if len(contexts) >= _MAX_CONTEXTS:
            break
    return _numbers_near(text, sorted(contexts.values())[:_MAX_CONTEXTS], regions, window)


def _numbers_near(
    text: str, contexts: list[tuple[int, int, str]], regions: dict[str, str | None], window: int
) -> list[FoundPhone]:
    if not contexts:
        return []
    spans: dict[str, list[list[int]]] = {}
    for start, end, word in contexts:
        region = regions.get(word.lower()) or "ZZ"
        left, right = max(0, start - window), min(len(text), end + window)
        merged = spans.setdefault(region, [])
        if merged and left <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], right)
        else:
            merged.append([left, right])
    found: dict[int, tuple[int, FoundPhone]] = {}
    for region, windows in spans.items():
        for left, right in windows:
            stretch = text[left:right]
            if re.search(r"\d{3}", stretch) is None:
                continue
            matcher = phonenumbers.PhoneNumberMatcher(
                stretch, region, leniency=phonenumbers.Leniency.VALID, max_tries=_MAX_NUMBERS
            )
            for phone_match in matcher:
                start, end = left + phone_match.start, left + phone_match.end
                distance, word = _nearest(contexts, start, end)
                if distance > window or (start in found and found[start][0] <= distance):
                    continue
                number = phone_match.number
                if not phonenumbers.is_valid_number(number):
                    continue
                found[start] = (distance, _phone(number, start, end, word))
                if len(found) >= _MAX_NUMBERS:
                    break
    return sorted(item for _, item in found.values())


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
