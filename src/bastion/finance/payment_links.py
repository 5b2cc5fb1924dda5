"""Links to payment, donation and crowdfunding accounts: PayPal.me, GoFundMe, LaunchGood...

The platforms are data (``data/payment_platforms.json``, documented there): hosts, path patterns
naming the account or campaign, the kind of platform. Finding is cheap: one case-insensitive
scan for the platforms' host names; only around a hit is the URL finder of
:mod:`bastion.signals.url_extract` run (on the whitespace-delimited stretch holding it), and each
URL it finds is canonicalised (:func:`bastion.signals.url_canonical.canonicalize_url`) and matched
against the platform's patterns. A platform's home or help page names no account and is not
reported. Canonical value: the handle, lower-cased where the platform treats handles
case-insensitively; scheme: the platform id.

Cash App ``$Cashtag`` written without a link is taken only when "cash app" / "cashapp" /
"cash.app" is written within 60 characters before it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, NamedTuple

from bastion.errors import InvalidSignal
from bastion.finance.fold import lower_same_length
from bastion.signals.url_canonical import canonicalize_url
from bastion.signals.url_extract import extract_urls

__all__ = ["FoundLink", "Platform", "find_payment_links", "match_payment_url", "platforms"]


@dataclass(frozen=True, slots=True)
class Platform:
    id: str
    name: str
    kind: str
    hosts: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    case_insensitive: bool


class FoundLink(NamedTuple):
    start: int
    end: int
    scheme: str
    value: str
    details: dict[str, str]


@cache
def platforms() -> tuple[Platform, ...]:
    data = json.loads(
        resources.files("bastion.finance").joinpath("data/payment_platforms.json").read_text()
    )
    return tuple(
        Platform(
            id=record["id"],
            name=record["name"],
            kind=record["kind"],
            hosts=tuple(record["hosts"]),
            patterns=tuple(re.compile(pattern) for pattern in record["patterns"]),
            case_insensitive=bool(record.get("case_insensitive", True)),
        )
        for record in data["platforms"]
    )


@cache
def _by_host() -> dict[str, Platform]:
    return {host: platform for platform in platforms() for host in platform.hosts}


@cache
def _host_scan() -> re.Pattern[str]:
    hosts = sorted(_by_host(), key=len, reverse=True)
    return re.compile("|".join(re.escape(host) for host in hosts))  # run on lower-cased text


_CASHTAG: Final = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9_]{0,19})\b")
_CASHAPP_WORD: Final = re.compile(r"cash\s?app|cash\.app", re.IGNORECASE)
_STRETCH: Final = 400


def match_payment_url(url: str) -> tuple[str, str, dict[str, str]] | None:
    """(platform id, handle, details) of a payment link, or None (not one, or no account)."""
    try:
        canonical = canonicalize_url(url)
    except InvalidSignal:
        return None
    host = canonical.host
    platform = _by_host().get(host)
    if platform is None and canonical.registrable_domain:
        platform = _by_host().get(canonical.registrable_domain)
        host = canonical.registrable_domain
    if platform is None:
        return None
    for pattern in platform.patterns:
        subject = canonical.path if pattern.pattern.startswith("/") else host + canonical.path
        if "\\?" in pattern.pattern:
            subject += "?" + canonical.query
        matched = pattern.fullmatch(subject)
        if matched is None:
            continue
        if "id" in pattern.groupindex:
            handle = matched.group("id")  # an opaque identifier: its case matters
        else:
            handle = matched.group("handle")
            if platform.case_insensitive:
                handle = handle.lower()
        details = {"platform": platform.name, "platform_kind": platform.kind, "url": canonical.url}
        return platform.id, handle, details
    return None


def find_payment_links(text: str, lowered: str | None = None) -> list[FoundLink]:
    """Payment links (and context-confirmed cashtags) in ``text``, in order.

    ``lowered`` (``text.lower()``, when the caller has it) lets texts naming no platform skip
    the case-insensitive host scan.
    """
    found: list[FoundLink] = []
    probe = (
        lowered if lowered is not None and len(lowered) == len(text) else lower_same_length(text)
    )
    if any(key in probe for key in _host_keys()):
        _links(text, probe, found)
    if "$" in text:
        found.extend(_cashtags(text, found))
    found.sort(key=lambda item: item.start)
    return found


@cache
def _host_keys() -> tuple[str, ...]:
    """Substrings one of which every platform host contains (its first label and the dot)."""
    return tuple(sorted({host.split(".")[0] + "." for host in _by_host()}))


def _links(text: str, lowered: str, found: list[FoundLink]) -> None:
    done_until = -1
    for hit in _host_scan().finditer(lowered):
        if hit.start() < done_until:
            continue
        left = max(0, hit.start() - _STRETCH)
        right = min(len(text), hit.end() + _STRETCH)
        before = text[left : hit.start()]
        cut = max(before.rfind(" "), before.rfind("\n"), before.rfind("\t"))
        begin = left + cut + 1 if cut >= 0 else left
        after = re.search(r"\s", text[hit.end() : right])
        finish = hit.end() + after.start() if after else right
        done_until = finish
        for url in extract_urls(text[begin:finish], max_urls=20):
            if url.canonical is None:
                continue
            matched = match_payment_url(url.canonical)
            if matched is not None:
                scheme, handle, details = matched
                found.append(FoundLink(begin + url.start, begin + url.end, scheme, handle, details))


def _cashtags(text: str, links: list[FoundLink]) -> list[FoundLink]:
    inside = [(link.start, link.end) for link in links]
    found: list[FoundLink] = []
    for match in _CASHTAG.finditer(text):
        if any(start <= match.start() < end for start, end in inside):
            continue
        if _CASHAPP_WORD.search(text, max(0, match.start() - 60), match.start()) is None:
            continue
        handle = match.group(1).lower()
        details = {
            "platform": "Cash App",
            "platform_kind": "p2p",
            "url": f"https://cash.app/${handle}",
            "context": "cash app",
        }
        found.append(FoundLink(match.start(), match.end(), "cashapp", handle, details))
    return found
