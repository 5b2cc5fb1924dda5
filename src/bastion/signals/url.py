"""URL signals: links to off-platform channels, matched exactly, by prefix, or by domain.

Content (a post, a message, a document's text) yields ``url`` signals, one per distinct link it
contains, in the canonical form of :mod:`bastion.signals.url_canonical`. Banks can hold three
kinds of value to match them against:

* ``url``: one canonical URL (a particular video page, paste, or archive.org item);
* ``url_prefix``: a canonical URL covering everything under it, cut at path-segment boundaries,
  so ``https://t.me/somechannel`` covers ``https://t.me/somechannel/123`` but not
  ``https://t.me/somechannel2`` (a whole Telegram channel, a user's folder on a file locker);
* ``domain``: a host and all its subdomains (a mirror site run by the group itself).

Prefix and domain values are bank-side only: the query side is always a ``url`` signal, which the
indexes in :mod:`bastion.index.url` test against every prefix and domain covering it.
"""

from __future__ import annotations

from bastion.errors import InvalidSignal
from bastion.signals.base import Signal, SignalType
from bastion.signals.url_canonical import (
    CREDENTIALS,
    canonical_host,
    canonicalize_url,
    is_public_suffix,
)
from bastion.signals.url_extract import extract_urls

__all__ = ["DomainSignal", "UrlPrefixSignal", "UrlSignal", "url_signals"]


def _retyped(error: InvalidSignal, signal_type: str) -> InvalidSignal:
    """The same complaint, naming the signal type the caller asked for."""
    return InvalidSignal(error.detail, **{**error.context, "signal_type": signal_type})


class UrlSignal(SignalType):
    """One canonical URL; matched by equality (the exact index)."""

    name = "url"
    display_name = "URL"

    @classmethod
    def normalize(cls, value: str) -> str:
        try:
            return canonicalize_url(value).url
        except InvalidSignal as error:
            raise _retyped(error, cls.name) from None


class UrlPrefixSignal(SignalType):
    """A canonical URL that also covers every URL below it, at path-segment boundaries.

    A prefix has no query or fragment: what it covers is a place on a site, and a query does not
    nest. A link with a query is banked as a ``url``.
    """

    name = "url_prefix"
    display_name = "URL prefix"

    @classmethod
    def normalize(cls, value: str) -> str:
        try:
            canonical = canonicalize_url(value)
        except InvalidSignal as error:
            raise _retyped(error, cls.name) from None
        if canonical.query or "#" in canonical.url:
            raise InvalidSignal(
                "a URL prefix cannot have a query or fragment; bank such a link as a url",
                signal_type=cls.name,
            )
        return canonical.url


class DomainSignal(SignalType):
    """A host name covering itself and all its subdomains (or one IP address).

    Accepts ``example.org``, ``*.example.org``, ``example[.]org`` or a site's root URL such as
    ``https://example.org/``. Refuses public suffixes (``com``, ``co.uk``, ``github.io``): banking
    one would flag every site under it.
    """

    name = "domain"
    display_name = "Domain"

    @classmethod
    def normalize(cls, value: str) -> str:
        if not isinstance(value, str):
            raise InvalidSignal("domain must be a string", signal_type=cls.name)
        text = value.strip().removeprefix("*.")
        try:
            if "/" in text:
                host = cls._host_of_root_url(text)
            else:
                host, _ = canonical_host(text)
        except InvalidSignal as error:
            raise _retyped(error, cls.name) from None
        if is_public_suffix(host) and not host.startswith("[") and not _is_ipv4(host):
            raise InvalidSignal(
                f"{host} is a public suffix: banking it would match every site under it",
                signal_type=cls.name,
            )
        return host

    @classmethod
    def _host_of_root_url(cls, text: str) -> str:
        canonical = canonicalize_url(text)
        if canonical.path != "/" or canonical.query or "#" in canonical.url:
            raise InvalidSignal(
                "a domain is a host name; bank a link with a path as a url or url_prefix",
                signal_type=cls.name,
            )
        if canonical.port is not None or CREDENTIALS in canonical.flags:
            raise InvalidSignal(
                "a domain is a host name, without port or credentials", signal_type=cls.name
            )
        return canonical.host


def _is_ipv4(host: str) -> bool:
    return host.rsplit(".", 1)[-1].isdigit()


def url_signals(text: str, *, max_urls: int = 1000) -> list[Signal]:
    """One ``url`` signal per distinct canonical link in ``text``, in order of first appearance."""
    canonical = (found.canonical for found in extract_urls(text, max_urls=max_urls))
    return [Signal(UrlSignal.name, url) for url in dict.fromkeys(url for url in canonical if url)]
