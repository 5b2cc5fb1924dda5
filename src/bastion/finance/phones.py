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

import json
import re
from functools import cache
from importlib import resources
from typing import NamedTuple

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


def find_phones(text: str) -> list[FoundPhone]:
    """Valid phone numbers near a mobile-money context word in ``text`` (the folded text)."""
    if re.search(r"\d{3}", text) is None:
        return []
    pattern, regions, window = _context()
    found: dict[int, tuple[int, FoundPhone]] = {}
    for context in pattern.finditer(text):
        word = context.group().lower()
        region = regions.get(word)
        left = max(0, context.start() - window)
        right = min(len(text), context.end() + window)
        stretch = text[left:right]
        if not re.search(r"\d{3}", stretch):
            continue
        matcher = phonenumbers.PhoneNumberMatcher(
            stretch, region or "ZZ", leniency=phonenumbers.Leniency.VALID, max_tries=20
        )
        for match in matcher:
            start = left + match.start
            end = left + match.end
            distance = max(context.start() - end, start - context.end(), 0)
            if start in found and found[start][0] <= distance:
                continue  # the nearest context word names the number's service
            number = match.number
            if not phonenumbers.is_valid_number(number):
                continue
            details = {
                "region": phonenumbers.region_code_for_number(number) or "",
                "context": context.group(),
            }
            name = carrier.name_for_number(number, "en")
            if name:
                details["carrier"] = name
            value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            found[start] = (distance, FoundPhone(start, end, value, details))
    return sorted(item for _, item in found.values())
