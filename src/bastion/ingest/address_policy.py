"""Which URLs and network addresses a server-side fetch may reach.

A URL given to Bastion is attacker-controlled: fetching it from inside the operator's network must
not become a way to reach the metadata service, the database or the admin port next door (SSRF).
This module decides, before any connection is made, whether a URL is acceptable
(:func:`parse_target`) and which resolved addresses it may be fetched from
(:func:`allowed_addresses`). The fetcher then connects to exactly those addresses, never to a
name, so a second DNS answer cannot slip in between check and use.
"""

from __future__ import annotations

import ipaddress
import logging
import queue
import re
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

import httpx

from bastion.errors import FetchFailed, FetchTimeout, UrlBlocked

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Resolves (host, port) to addresses; raises OSError (gaierror) or UnicodeError when it cannot.
Resolver = Callable[[str, int], Iterable[IPAddress]]
# Says why an address is refused, or None to allow it.
AddressCheck = Callable[[IPAddress], str | None]

MAX_URL_LENGTH: Final = 2048
ALLOWED_SCHEMES: Final = frozenset({"http", "https"})
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}

logger = logging.getLogger(__name__)

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# IANA special-purpose registries, plus ranges that are special in practice. Listed explicitly
# rather than trusting ``ipaddress.is_private``/``is_global`` alone, whose tables changed between
# Python patch releases; those flags remain as a backstop in blocked_reason.
_IPV4_REFUSED: Final[tuple[tuple[ipaddress.IPv4Network, str], ...]] = (
    (_V4("0.0.0.0/8"), "unspecified"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "shared (carrier-grade NAT)"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "reserved (IETF protocol assignments)"),
    (_V4("192.0.2.0/24"), "reserved (documentation)"),
    (_V4("192.88.99.0/24"), "reserved (6to4 relay anycast)"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "reserved (benchmarking)"),
    (_V4("198.51.100.0/24"), "reserved (documentation)"),
    (_V4("203.0.113.0/24"), "reserved (documentation)"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "reserved"),
)
_IPV6_REFUSED: Final[tuple[tuple[ipaddress.IPv6Network, str], ...]] = (
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("64:ff9b:1::/48"), "private (local-use NAT64)"),
    (_V6("100::/64"), "reserved (discard-only)"),
    (_V6("2001::/23"), "reserved (IETF protocol assignments, Teredo)"),
    (_V6("2001:db8::/32"), "reserved (documentation)"),
    (_V6("3fff::/20"), "reserved (documentation)"),
    (_V6("5f00::/16"), "reserved (SRv6 segment identifiers)"),
    (_V6("fc00::/7"), "private (unique local)"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "private (site-local)"),
    (_V6("ff00::/8"), "multicast"),
)
_IPV6_GLOBAL_UNICAST: Final = _V6("2000::/3")
_NAT64: Final = _V6("64:ff9b::/96")

# Host names are checked by us, not only by httpx, which lets through reg-names such as
# "a!b.com" or "ex%20ample.com" that resolvers would interpret in their own ways.
_HOST_LABEL: Final = re.compile(r"[a-z0-9_-]{1,63}")
_MAX_HOST_LENGTH: Final = 253


@dataclass(frozen=True)
class Target:
    """A URL that passed every check that needs no network."""

    url: httpx.URL  # normalised; the host stays a name (numeric IPv4 forms become dotted quads)
    host: str  # ASCII (IDNA) host name, or an IP literal without brackets
    port: int
    address: IPAddress | None  # set when the host is an IP literal

    @property
    def log_location(self) -> str:
        """Host and path only: query strings often carry tokens and must not reach the logs."""
        path = self.url.raw_path.split(b"?", 1)[0].decode("ascii")
        return f"{self.url.netloc.decode('ascii')}{path}"


def parse_target(text: str) -> Target:
    """Validate a URL's syntax, scheme, credentials and host; raise UrlBlocked if unacceptable."""
    if len(text) > MAX_URL_LENGTH:
        raise UrlBlocked(
            f"URL is longer than {MAX_URL_LENGTH} characters", max_length=MAX_URL_LENGTH
        )
    text = text.strip()
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in text):
        raise UrlBlocked("URL contains control characters")
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, UnicodeError):
        raise UrlBlocked("URL is malformed") from None
    if url.scheme not in ALLOWED_SCHEMES:
        raise UrlBlocked("only http and https URLs can be fetched", scheme=url.scheme[:32])
    if url.userinfo:
        raise UrlBlocked("URLs carrying credentials (user:password@) are refused")
    host = url.raw_host.decode("ascii").lower()
    if not host:
        raise UrlBlocked("URL has no host")
    port = url.port if url.port is not None else _DEFAULT_PORTS[url.scheme]
    if not 0 < port < 65536:
        raise UrlBlocked("URL port is out of range")
    address = _literal_address(host)
    if address is None:
        _check_host_name(host)
    elif str(address) != host:
        # 2130706433, 0x7f.1, 127.1 ...: spell the address out so that what we check, connect to
        # and report is the same thing.
        host = str(address)
        url = url.copy_with(host=host)
    return Target(url=url, host=host, port=port, address=address)


def blocked_reason(address: IPAddress) -> str | None:
    """Why a fetch must not connect to ``address``, or None if it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            form, inner = embedded
            inner_reason = blocked_reason(inner)
            return None if inner_reason is None else f"{form} form of {inner}, {inner_reason}"
        for network6, label in _IPV6_REFUSED:
            if address in network6:
                return f"{label} ({network6})"
        if address not in _IPV6_GLOBAL_UNICAST:
            return f"reserved (outside global unicast {_IPV6_GLOBAL_UNICAST})"
    else:
        for network4, label in _IPV4_REFUSED:
            if address in network4:
                return f"{label} ({network4})"
    if not address.is_global or address.is_multicast:
        return "not globally routable"
    return None


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Resolve with the operating system's resolver (``socket.getaddrinfo``)."""
    found: list[IPAddress] = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if family in (socket.AF_INET, socket.AF_INET6):
            found.append(ipaddress.ip_address(str(sockaddr[0])))
    return found


def allowed_addresses(
    target: Target,
    *,
    allow_private: bool,
    resolver: Resolver,
    address_check: AddressCheck,
    timeout: float,
) -> list[IPAddress]:
    """The addresses ``target`` may be fetched from; UrlBlocked if *any* of them is refused.

    Refusing when any answer is bad (not only the first) means a name cannot mix one public and
    one internal address and rely on the client's fallback order to reach the internal one.
    """
    if target.address is not None:
        addresses = [target.address]
    else:
        addresses = list(dict.fromkeys(_resolve(resolver, target, timeout)))
    if not addresses:
        raise FetchFailed("host name has no addresses", host=target.host)
    if allow_private:
        return addresses
    for address in addresses:
        reason = address_check(address)
        if reason is None:
            continue
        logger.info("refused fetch of %s: %s is %s", target.log_location, address, reason)
        if target.address is not None:
            raise UrlBlocked(f"address {address} is not allowed: {reason}", host=target.host)
        # The resolved address itself stays out of the detail: telling a caller what an internal
        # name resolves to would turn the fetcher into a DNS oracle for the private network.
        raise UrlBlocked(
            f"host {target.host} resolves to an address that is not allowed: {reason}",
            host=target.host,
        )
    return addresses


def _resolve(resolver: Resolver, target: Target, timeout: float) -> list[IPAddress]:
    # getaddrinfo has no timeout of its own, so it runs in a daemon thread that is abandoned when
    # the fetch's deadline passes (a daemon, so a hung lookup never delays interpreter exit).
    answers: queue.SimpleQueue[list[IPAddress] | BaseException] = queue.SimpleQueue()

    def run() -> None:
        try:
            answers.put(list(resolver(target.host, target.port)))
        except BaseException as exc:  # handed to the waiting thread, which decides
            answers.put(exc)

    threading.Thread(target=run, name="bastion-resolve", daemon=True).start()
    try:
        answer = answers.get(timeout=timeout)
    except queue.Empty:
        raise FetchTimeout(
            "resolving the host name took too long", host=target.host, timeout_seconds=timeout
        ) from None
    if isinstance(answer, OSError | UnicodeError):
        raise FetchFailed("could not resolve the host name", host=target.host) from answer
    if isinstance(answer, BaseException):
        raise answer
    return answer


def _literal_address(host: str) -> IPAddress | None:
    """The address a host spells, including the numeric IPv4 forms that resolvers accept."""
    if ":" in host:
        if "%" in host:
            raise UrlBlocked("IPv6 zone identifiers are not allowed in URLs")
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise UrlBlocked("URL has a malformed IPv6 address") from None
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not _is_ipv4_number(labels[-1]):
        return None
    # Like browsers (WHATWG URL standard), a host whose last label is a number is an IPv4
    # address or nothing: "example.0x1" is refused rather than handed to a resolver.
    address = _parse_ipv4_labels(labels)
    if address is None:
        raise UrlBlocked("URL has a malformed IPv4 address")
    return address


def _ipv4_number(label: str) -> int | None:
    """One part of an inet_aton-style address: decimal, 0x-hex or 0-prefixed octal."""
    if label[:2].lower() == "0x":
        digits, base, allowed = label[2:], 16, "0123456789abcdefABCDEF"
    elif len(label) > 1 and label.startswith("0"):
        digits, base, allowed = label[1:], 8, "01234567"
    else:
        digits, base, allowed = label, 10, "0123456789"
    if not label or not all(char in allowed for char in digits):
        return None  # int() alone would also accept "+", "_" and spaces
    return int(digits, base) if digits else 0


def _is_ipv4_number(label: str) -> bool:
    if label.isascii() and label.isdecimal():
        return True
    return label[:2].lower() == "0x" and _ipv4_number(label) is not None


def _parse_ipv4_labels(labels: list[str]) -> ipaddress.IPv4Address | None:
    if len(labels) > 4 or any(len(label) > 40 for label in labels):
        return None
    numbers = [_ipv4_number(label) for label in labels]
    if any(number is None for number in numbers):
        return None
    values = [number for number in numbers if number is not None]
    *leading, last = values
    if any(value > 255 for value in leading) or last >= 256 ** (5 - len(values)):
        return None
    total = last
    for position, value in enumerate(leading):
        total += value << (8 * (3 - position))
    return ipaddress.IPv4Address(total)


def _check_host_name(host: str) -> None:
    name = host.removesuffix(".")
    labels = name.split(".")
    if len(name) > _MAX_HOST_LENGTH or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise UrlBlocked("URL has an invalid host name")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address inside an IPv6 transition form, which would reach that IPv4 host."""
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    value = int(address)
    if address in _NAT64:
        return "NAT64", ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if value >> 32 == 0 and value > 1:  # ::a.b.c.d, except :: and ::1 themselves
        return "IPv4-compatible", ipaddress.IPv4Address(value)
    return None
