"""Indexes for banked URL prefixes and domains, searched with a canonical URL.

A query URL is covered by only a handful of prefixes (one per path segment) and domains (one per
host label), so a search builds those few keys and looks each up in a dict: the cost depends on
the query's length, never on how many entries are banked (a million prefixes cost the same as
ten). Every hit has distance 0; the most specific match comes first, and ``Hit.detail`` says
which prefix or domain matched and how (``exact``, ``subdomain``).

Both indexes expect values in canonical form (``UrlPrefixSignal.normalize``,
``DomainSignal.normalize``, ``UrlSignal.normalize`` for queries): keys and lookups are plain string
comparisons. Exact ``url`` banks use :class:`bastion.index.exact.ExactIndex`.
"""

from __future__ import annotations

from collections.abc import Iterable

from bastion.index.base import Hit
from bastion.index.exact import ExactIndex

__all__ = ["DomainIndex", "UrlPrefixIndex", "domain_keys", "prefix_keys"]


class _KeyedIndex(ExactIndex):
    """Entries grouped by their value, as in the exact index; subclasses say which values cover
    a query (its prefixes, its parent domains) instead of equality."""

    signal_type: str

    def __init__(self) -> None:
        super().__init__(self.signal_type)

    def _hits(self, keys: Iterable[tuple[str, dict[str, object]]]) -> list[Hit]:
        hits: list[Hit] = []
        for key, detail in keys:
            holders = self._by_value.get(key)
            if holders:
                hits.extend(Hit(entry_id, 0.0, dict(detail)) for entry_id in sorted(holders))
        return hits


class UrlPrefixIndex(_KeyedIndex):
    """Banked ``url_prefix`` values; a search returns every prefix covering the query URL."""

    signal_type = "url_prefix"

    def search(self, value: str, max_distance: float = 0) -> list[Hit]:
        return self._hits(
            (prefix, {"prefix": prefix, "exact": exact}) for prefix, exact in prefix_keys(value)
        )


class DomainIndex(_KeyedIndex):
    """Banked ``domain`` values; a search returns every domain covering the query URL's host."""

    signal_type = "domain"

    def search(self, value: str, max_distance: float = 0) -> list[Hit]:
        return self._hits(
            (domain, {"domain": domain, "subdomain": subdomain})
            for domain, subdomain in domain_keys(value)
        )


def prefix_keys(url: str) -> list[tuple[str, bool]]:
    """The prefixes covering a canonical URL, longest first, each with whether it is the whole
    path: ``https://t.me/a/1?x`` -> ``https://t.me/a/1`` (True), ``https://t.me/a``,
    ``https://t.me/``."""
    scheme_end = url.find("://")
    if scheme_end < 0:
        return []
    path_start = url.find("/", scheme_end + 3)
    if path_start < 0:
        return []
    path_end = min(
        (
            position
            for position in (url.find("?", path_start), url.find("#", path_start))
            if position >= 0
        ),
        default=len(url),
    )
    keys: list[tuple[str, bool]] = []
    if path_end > path_start + 1:
        keys.append((url[:path_end], True))
        cut = url.rfind("/", path_start, path_end)
        while cut > path_start:
            keys.append((url[:cut], False))
            cut = url.rfind("/", path_start, cut)
    keys.append((url[: path_start + 1], path_end == path_start + 1))
    return keys


def domain_keys(url_or_host: str) -> list[tuple[str, bool]]:
    """The domains covering a canonical URL's host (or a bare host), longest first, each with
    whether it is a parent domain: ``a.example.org`` -> ``a.example.org`` (False),
    ``example.org`` (True), ``org`` (True)."""
    host = _host_of(url_or_host)
    if not host:
        return []
    if host.startswith("[") or host.rsplit(".", 1)[-1].isdigit():
        return [(host, False)]  # an IP address has no parent domains
    keys = [(host, False)]
    position = host.find(".")
    while position >= 0:
        keys.append((host[position + 1 :], True))
        position = host.find(".", position + 1)
    return keys


def _host_of(url_or_host: str) -> str:
    scheme_end = url_or_host.find("://")
    if scheme_end < 0:
        return url_or_host
    authority = url_or_host[scheme_end + 3 :]
    for stop in "/?#":
        authority = authority.split(stop, 1)[0]
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):
        return authority[: authority.find("]") + 1]
    return authority.split(":", 1)[0]
