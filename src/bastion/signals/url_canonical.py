"""URLs in text: find them, reduce each to one canonical form, and flag what makes them suspect.

Terrorist groups post links to off-platform channels (Telegram, file lockers, mirror sites, paste
sites), often written so that filters miss them: ``hxxp://``, ``example[.]org``, no scheme at all,
buried in Arabic or Russian text. A bank can only match a link if both sides reduce it to the same
string, so :func:`canonicalize_url` is deliberately many-to-one:

* the scheme becomes ``https://`` for both http and https (the same page is posted either way and
  no bank wants to list it twice); other schemes are refused;
* the host is lower-cased, UTS46-mapped and IDNA-encoded (punycode), its trailing dot and one
  leading ``www.`` label dropped (``www.example.org`` and ``example.org`` are one site in
  practice); numeric IPv4 spellings become dotted quads;
* default ports, credentials (``user:pass@``, flagged) and fragments go, except ``#!`` hashbang
  fragments, which on AJAX-era sites and file lockers (``mega.nz/#!id!key``) name the content;
* the path keeps its case (paths are case-sensitive) but has its percent-encoding normalised,
  dot-segments resolved, duplicate slashes collapsed and its trailing slash removed;
* tracking query parameters (``data/url_tracking_params.txt``) are removed and the rest sorted.

Nothing here touches the network: shorteners are only flagged, never followed, and the
registrable domain comes from a compact built-in list of public suffixes rather than the full
Public Suffix List (see :func:`registrable_domain` for what that misses).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from typing import Final

import idna

from bastion.errors import InvalidSignal

__all__ = [
    "FLAGS",
    "MAX_CANONICAL_LENGTH",
    "MAX_URL_LENGTH",
    "CanonicalUrl",
    "FoundUrl",
    "canonical_host",
    "canonicalize_url",
    "extract_urls",
    "is_public_suffix",
    "registrable_domain",
]

MAX_URL_LENGTH: Final = 4096
# Percent-encoding can triple a character's length (nine times for 3-byte UTF-8); past this the
# canonical form is refused rather than stored.
MAX_CANONICAL_LENGTH: Final = 8192
_MAX_HOST_LENGTH: Final = 253

# Flags, stable names: clients show and filter on them.
CREDENTIALS: Final = "credentials"  # user:password@ was present (and removed)
SHORTENER: Final = "shortener"  # a link shortener: the real target is hidden
IP_HOST: Final = "ip_host"  # the host is an IP address, not a name
HOMOGLYPH: Final = "homoglyph"  # a host label mixes look-alike scripts (Latin and Cyrillic)
IDN: Final = "idn"  # the host has non-ASCII labels
OBFUSCATED: Final = "obfuscated"  # written to dodge filters: hxxp, [.], (dot), %-encoded host
INVALID: Final = "invalid"  # extraction only: looked like a URL but does not canonicalise
FLAGS: Final = frozenset({CREDENTIALS, SHORTENER, IP_HOST, HOMOGLYPH, IDN, OBFUSCATED, INVALID})

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class CanonicalUrl:
    """A URL in canonical form, with the parts indexes and explanations need."""

    url: str
    host: str  # ASCII: punycode labels, dotted-quad IPv4 or [bracketed] IPv6
    host_unicode: str  # for display: IDN labels decoded
    port: int | None  # None when it was the scheme's default
    path: str  # always starts with "/"
    query: str  # without "?", "" when none is left
    registrable_domain: str | None  # None for IP hosts and public suffixes themselves
    flags: tuple[str, ...] = ()

    @property
    def origin(self) -> str:
        """``https://host[:port]``: what every canonical URL on this site starts with."""
        return f"https://{self.host}" if self.port is None else f"https://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class FoundUrl:
    """A URL found in text; ``text[start:end] == raw``. ``canonical`` is None if it is unusable."""

    raw: str
    start: int
    end: int
    canonical: str | None
    host: str | None
    registrable_domain: str | None
    flags: list[str] = field(default_factory=list)


# --- canonicalisation ---------------------------------------------------------------------------


def canonicalize_url(url: str) -> CanonicalUrl:
    """The canonical form of ``url`` (with or without a scheme); InvalidSignal if unusable."""
    if not isinstance(url, str):
        raise _invalid("URL must be a string")
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"URL is longer than {MAX_URL_LENGTH} characters", max_length=MAX_URL_LENGTH)
    text = url.strip()
    if not text:
        raise _invalid("URL is empty")
    _check_characters(text)
    flags: set[str] = set()
    scheme, rest = _split_scheme(text, flags)

    authority_end = _first_of(rest, "/\\?#")
    authority, remainder = rest[:authority_end], rest[authority_end:]
    if "@" in authority:
        userinfo, _, authority = authority.rpartition("@")
        if userinfo:
            flags.add(CREDENTIALS)
    host_text, port = _split_port(authority)
    if port is not None and (
        port == _DEFAULT_PORTS.get(scheme) or (scheme == "" and port in (80, 443))
    ):
        port = None
    host = _canonical_host(host_text, flags)

    path_text, query_text, fragment = _split_path(remainder)
    path = _canonical_path(path_text)
    query = _canonical_query(query_text)
    netloc = host.ascii if port is None else f"{host.ascii}:{port}"
    canonical = f"https://{netloc}{path}"
    if query:
        canonical += "?" + query
    if fragment.startswith("!"):
        canonical += "#" + _normalise_percent(fragment, _FRAGMENT_SAFE)
    if len(canonical) > MAX_CANONICAL_LENGTH:
        raise _invalid(
            f"canonical URL is longer than {MAX_CANONICAL_LENGTH} characters",
            max_length=MAX_CANONICAL_LENGTH,
        )
    return CanonicalUrl(
        url=canonical,
        host=host.ascii,
        host_unicode=host.unicode,
        port=port,
        path=path,
        query=query,
        registrable_domain=None if host.is_ip else registrable_domain(host.ascii),
        flags=tuple(sorted(flags)),
    )


@dataclass(frozen=True, slots=True)
class _Host:
    ascii: str
    unicode: str
    is_ip: bool


def canonical_host(text: str) -> tuple[str, tuple[str, ...]]:
    """A bare host name's canonical ASCII form and flags (as in a canonical URL); InvalidSignal."""
    if not isinstance(text, str):
        raise _invalid("host must be a string")
    text = text.strip()
    if len(text) > MAX_URL_LENGTH:
        raise _invalid(f"host is longer than {MAX_URL_LENGTH} characters")
    _check_characters(text)
    flags: set[str] = set()
    host = _canonical_host(text, flags)
    return host.ascii, tuple(sorted(flags))


def _invalid(detail: str, **context: object) -> InvalidSignal:
    return InvalidSignal(detail, signal_type="url", **context)


def _check_characters(text: str) -> None:
    # Whitespace, control and invisible format characters (zero-width spaces, bidi overrides) have
    # no place in a URL: inside one they are either damage or an attempt to make two URLs that
    # look alike compare different.
    for char in text:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf"):
            raise _invalid(f"URL contains a control or whitespace character (U+{ord(char):04X})")


_SCHEME: Final = re.compile(r"(?i)(h[tx]{2}ps?)(://|\[:\]//|\[://\])")
_OTHER_SCHEME: Final = re.compile(r"(?i)[a-z][a-z0-9+.-]*:(?://|(?!\d*(?:[/?#\\]|$)))")


def _split_scheme(text: str, flags: set[str]) -> tuple[str, str]:
    """``("http"|"https"|"", rest)``; defanged schemes (hxxp, [:]//) are undone and flagged."""
    found = _SCHEME.match(text)
    if found is not None:
        written, separator = found.group(1).lower(), found.group(2)
        scheme = "https" if written.endswith("s") else "http"
        if written != scheme or separator != "://":
            flags.add(OBFUSCATED)
        return scheme, text[found.end() :]
    if _OTHER_SCHEME.match(text):
        # "mailto:", "ftp://", "javascript:"; "example.org:8080/x" is a host and port instead.
        raise _invalid("only http and https URLs are supported")
    return "", text.removeprefix("//")


def _first_of(text: str, chars: str) -> int:
    positions = [index for index in (text.find(char) for char in chars) if index >= 0]
    return min(positions, default=len(text))


def _split_port(authority: str) -> tuple[str, int | None]:
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise _invalid("URL has an unterminated IPv6 address")
        host, after = authority[: close + 1], authority[close + 1 :]
        if after and not after.startswith(":"):
            raise _invalid("URL has text after its IPv6 address")
        port_text = after[1:]
    elif ":" in authority:
        host, _, port_text = authority.rpartition(":")
    else:
        return authority, None
    if not port_text:
        return host, None
    if not (port_text.isascii() and port_text.isdigit()) or len(port_text) > 5:
        raise _invalid("URL port is not a number")
    port = int(port_text)
    if not 0 < port < 65536:
        raise _invalid("URL port is out of range")
    return host, port


# Defanged dots, as threat-intelligence feeds and evasive posters write them.
_FANGLESS_DOT: Final = re.compile(r"(?i)\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}")
_ASCII_LABEL: Final = re.compile(r"[a-z0-9_-]{1,63}")
_PERCENT_BYTE: Final = re.compile(r"%([0-9A-Fa-f]{2})")


def _canonical_host(text: str, flags: set[str]) -> _Host:
    host = text
    if host.startswith("["):
        address = _ipv6_literal(host)
        flags.add(IP_HOST)
        return _Host(address, address, is_ip=True)
    if "%" in host:
        host = _decode_host_percent(host)
        flags.add(OBFUSCATED)
    refanged = _FANGLESS_DOT.sub(".", host)
    if refanged != host:
        flags.add(OBFUSCATED)
        host = refanged
    if not host:
        raise _invalid("URL has no host")
    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
    except idna.IDNAError:
        raise _invalid("URL host has characters not allowed in host names") from None
    mapped = mapped.removesuffix(".")
    labels = mapped.split(".")
    if not mapped or "" in labels:
        raise _invalid("URL host has an empty label")
    ipv4 = _ipv4_literal(labels)
    if ipv4 is not None:
        flags.add(IP_HOST)
        if ipv4 != mapped:
            flags.add(OBFUSCATED)  # 2130706433, 0x7f.1: spellings chosen to slip past filters
        return _Host(ipv4, ipv4, is_ip=True)
    ascii_labels: list[str] = []
    unicode_labels: list[str] = []
    for label in labels:
        ascii_label, unicode_label = _encode_label(label)
        ascii_labels.append(ascii_label)
        unicode_labels.append(unicode_label)
    if any(not label.isascii() for label in unicode_labels):
        flags.add(IDN)
        if _looks_like_homoglyph(unicode_labels):
            flags.add(HOMOGLYPH)
    if len(ascii_labels) > 2 and ascii_labels[0] == "www":
        rest = ".".join(ascii_labels[1:])
        if not is_public_suffix(rest):
            ascii_labels, unicode_labels = ascii_labels[1:], unicode_labels[1:]
    ascii_host = ".".join(ascii_labels)
    if len(ascii_host) > _MAX_HOST_LENGTH:
        raise _invalid(f"URL host is longer than {_MAX_HOST_LENGTH} characters")
    if _is_shortener(ascii_host):
        flags.add(SHORTENER)
    return _Host(ascii_host, ".".join(unicode_labels), is_ip=False)


def _decode_host_percent(host: str) -> str:
    # Browsers decode %-escapes in host names, so "ex%61mple.org" reaches example.org.
    if re.search(r"%(?![0-9A-Fa-f]{2})", host):
        raise _invalid("URL host has a malformed percent escape")
    try:
        raw = _PERCENT_BYTE.sub(lambda m: chr(int(m.group(1), 16)), host)
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise _invalid("URL host is not valid UTF-8 once percent-decoded") from None


def _ipv6_literal(host: str) -> str:
    inner = host[1:-1]
    if "%" in inner:
        raise _invalid("IPv6 zone identifiers are not allowed in URLs")
    try:
        return f"[{ipaddress.IPv6Address(inner).compressed}]"
    except ValueError:
        raise _invalid("URL has a malformed IPv6 address") from None


def _ipv4_literal(labels: list[str]) -> str | None:
    """Dotted quad for a host spelling an IPv4 address (WHATWG rules), else None.

    As in browsers, a host whose last label is a number is an address or nothing: "example.0x1"
    is refused rather than treated as a name.
    """
    last = labels[-1]
    if not (last.isascii() and (last.isdigit() or re.fullmatch(r"0[xX][0-9a-fA-F]*", last))):
        return None
    numbers = [_ipv4_number(label) for label in labels]
    values = [number for number in numbers if number is not None]
    if len(labels) > 4 or len(values) != len(labels):
        raise _invalid("URL has a malformed IPv4 address")
    *leading, final = values
    if any(value > 255 for value in leading) or final >= 256 ** (5 - len(values)):
        raise _invalid("URL has an IPv4 address out of range")
    total = final
    for position, value in enumerate(leading):
        total += value << (8 * (3 - position))
    return str(ipaddress.IPv4Address(total))


_DIGITS: Final = {8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


def _ipv4_number(label: str) -> int | None:
    if len(label) > 40 or not label.isascii():
        return None
    if label[:2].lower() == "0x":
        digits, base = label[2:], 16
    elif len(label) > 1 and label.startswith("0"):
        digits, base = label[1:], 8
    else:
        digits, base = label, 10
    if not all(char in _DIGITS[base] for char in digits):
        return None
    return int(digits, base) if digits else 0


def _encode_label(label: str) -> tuple[str, str]:
    """``(ASCII label, Unicode label)`` for one UTS46-mapped label; InvalidSignal if bad."""
    if label.isascii():
        if not _ASCII_LABEL.fullmatch(label):
            raise _invalid("URL host has an invalid label")
        if not label.startswith("xn--"):
            return label, label
        try:
            return label, idna.ulabel(label)
        except (idna.IDNAError, UnicodeError):
            raise _invalid("URL host has an invalid punycode label") from None
    try:
        return idna.alabel(label).decode("ascii"), label
    except (idna.IDNAError, UnicodeError):
        raise _invalid("URL host has a label that is not a valid international name") from None


# Scripts whose letters pass for Latin ones, and the letters that do (lower case, after UTS46).
_CONFUSABLE_SCRIPTS: Final = frozenset({"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})
_LATIN_LOOKALIKES: Final = frozenset(
    unicodedata.lookup(f"{script} SMALL LETTER {letter}")
    for script, letters in (
        (
            "CYRILLIC",
            "A,IE,O,ER,ES,U,HA,BYELORUSSIAN-UKRAINIAN I,JE,DZE,KOMI DE,SHHA,PALOCHKA,QA,WE,"
            "KOMI SJE",
        ),
        ("GREEK", "OMICRON,ALPHA,NU,IOTA,KAPPA,RHO,UPSILON"),
        ("ARMENIAN", "OH,SEH,HO,VO,CO"),
    )
    for letter in letters.split(",")
)


def _script(char: str) -> str | None:
    if not char.isalpha():
        return None
    return unicodedata.name(char, "UNKNOWN ").split(" ", 1)[0]


def _looks_like_homoglyph(labels: list[str]) -> bool:
    """A label mixing Latin with a look-alike script, or wholly made of Latin look-alikes.

    Real names do mix scripts (Japanese mixes kanji, kana and Latin), so only mixes that make a
    name *look* Latin count. The whole-script test ("apple" spelt in Cyrillic) applies only under an
    ASCII top-level domain: under .рф an all-Cyrillic label is ordinary.
    """
    ascii_tld = labels[-1].isascii()
    for position, label in enumerate(labels):
        scripts = {script for script in map(_script, label) if script is not None}
        confusable = scripts & _CONFUSABLE_SCRIPTS
        if confusable and ("LATIN" in scripts or len(confusable) > 1):
            return True
        is_tld = position == len(labels) - 1 and len(labels) > 1
        if (
            ascii_tld
            and not is_tld
            and confusable
            and scripts <= _CONFUSABLE_SCRIPTS
            and all(char in _LATIN_LOOKALIKES for char in label if char.isalpha())
        ):
            return True
    return False


# --- path, query, fragment ----------------------------------------------------------------------

_UNRESERVED: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS: Final = "!$&'()*+,;="
_PATH_SAFE: Final = frozenset(_UNRESERVED | set(_SUB_DELIMS) | set(":@/"))
# "&" and "=" stay literal in the query (they are its structure); "+" stays as written because
# whether it means a space is up to the site.
_QUERY_SAFE: Final = frozenset(_PATH_SAFE | set("?"))
_FRAGMENT_SAFE: Final = _QUERY_SAFE
_ESCAPE_OR_UNSAFE: Final = re.compile(r"%[0-9A-Fa-f]{2}|[^A-Za-z0-9\-._~!$&'()*+,;=:@/?]")


def _split_path(remainder: str) -> tuple[str, str, str]:
    """``(path, query, fragment)``; backslashes in the path are slashes, as browsers read them."""
    before_fragment, _, fragment = remainder.partition("#")
    path, _, query = before_fragment.partition("?")
    return path.replace("\\", "/"), query, fragment


def _normalise_percent(text: str, safe: frozenset[str]) -> str:
    """Decode escapes of unreserved characters, upper-case the rest, escape what must be."""

    def fix(found: re.Match[str]) -> str:
        token = found.group()
        if len(token) == 3:
            char = chr(int(token[1:], 16))
            return char if char in _UNRESERVED else token.upper()
        if token in safe:
            return token
        # A lone "%" or a character that needs escaping (non-ASCII, quotes, brackets...).
        return "".join(f"%{byte:02X}" for byte in token.encode("utf-8"))

    return _ESCAPE_OR_UNSAFE.sub(fix, text)


def _canonical_path(path: str) -> str:
    # Escapes first, so "%2E%2E" is resolved like ".." (RFC 3986 section 6.2.2).
    segments: list[str] = []
    for segment in _normalise_percent(path, _PATH_SAFE).split("/"):
        if segment in ("", "."):
            continue  # empty segments are duplicate or trailing slashes
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    return "/" + "/".join(segments)


def _canonical_query(query: str) -> str:
    kept: list[str] = []
    for parameter in query.split("&"):
        if not parameter:
            continue
        normalised = _normalise_percent(parameter, _QUERY_SAFE)
        name = normalised.split("=", 1)[0]
        if not _is_tracking_parameter(_percent_decoded(name).lower()):
            kept.append(normalised)
    return "&".join(sorted(kept))


def _percent_decoded(text: str) -> str:
    if "%" not in text:
        return text
    raw = _PERCENT_BYTE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return raw.encode("latin-1", errors="replace").decode("utf-8", errors="replace")


# --- curated data -------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


def _data_lines(name: str) -> list[str]:
    text = resources.files("bastion.signals").joinpath("data", name).read_text("utf-8")
    return [
        stripped
        for line in text.splitlines()
        if (stripped := line.strip().lower()) and not stripped.startswith("#")
    ]


@functools.cache
def _shorteners() -> frozenset[str]:
    return frozenset(_data_lines("url_shorteners.txt"))


@functools.cache
def _tracking_parameters() -> tuple[frozenset[str], tuple[str, ...]]:
    lines = _data_lines("url_tracking_params.txt")
    exact = frozenset(line for line in lines if not line.endswith("*"))
    prefixes = tuple(line[:-1] for line in lines if line.endswith("*"))
    return exact, prefixes


def _is_shortener(host: str) -> bool:
    shorteners = _shorteners()
    return any(suffix in shorteners for suffix in _host_suffixes(host))


def _is_tracking_parameter(name: str) -> bool:
    exact, prefixes = _tracking_parameters()
    return name in exact or name.startswith(prefixes)


def _host_suffixes(host: str) -> list[str]:
    """``a.b.c`` -> ``[a.b.c, b.c, c]``."""
    suffixes = [host]
    position = host.find(".")
    while position >= 0:
        suffixes.append(host[position + 1 :])
        position = host.find(".", position + 1)
    return suffixes


# --- registrable domains ------------------------------------------------------------------------

# Public suffixes of more than one label that people register under, and hosting platforms whose
# customers each get a subdomain (from the Public Suffix List's private section). Without them the
# last-two-labels rule would call every UK company "co.uk" and every GitHub Pages site one domain.
# This is a compact subset, not the PSL: see registrable_domain.
_MULTI_LABEL_SUFFIXES: Final = frozenset(
    _words(
        """
    ac.uk co.uk gov.uk ltd.uk me.uk net.uk nhs.uk org.uk plc.uk police.uk sch.uk
    com.au edu.au gov.au net.au org.au asn.au id.au
    ac.nz co.nz govt.nz net.nz org.nz school.nz
    ac.jp co.jp go.jp ne.jp or.jp ac.kr co.kr go.kr or.kr ne.kr
    com.cn edu.cn gov.cn net.cn org.cn com.hk edu.hk gov.hk net.hk org.hk com.tw edu.tw gov.tw
    net.tw org.tw com.sg edu.sg gov.sg net.sg org.sg com.my edu.my gov.my net.my org.my
    ac.id co.id go.id or.id web.id com.ph edu.ph gov.ph net.ph org.ph ac.th co.th go.th in.th
    or.th com.vn edu.vn gov.vn net.vn org.vn
    ac.in co.in edu.in gov.in net.in org.in firm.in gen.in ind.in com.pk edu.pk gov.pk net.pk
    org.pk com.bd edu.bd gov.bd net.bd org.bd com.lk edu.lk gov.lk org.lk com.np org.np com.af
    edu.af gov.af net.af org.af
    ac.ir co.ir gov.ir net.ir org.ir com.iq edu.iq gov.iq net.iq org.iq com.sy edu.sy gov.sy
    net.sy org.sy com.lb edu.lb gov.lb net.lb org.lb com.jo edu.jo gov.jo net.jo org.jo com.ps
    edu.ps gov.ps net.ps org.ps ac.il co.il gov.il net.il org.il muni.il
    com.sa edu.sa gov.sa net.sa org.sa med.sa com.kw edu.kw gov.kw net.kw org.kw com.qa edu.qa
    gov.qa net.qa org.qa com.bh edu.bh gov.bh net.bh org.bh com.om edu.om gov.om net.om org.om
    ac.ae co.ae gov.ae net.ae org.ae com.ye edu.ye gov.ye net.ye org.ye
    com.eg edu.eg gov.eg net.eg org.eg com.ly edu.ly gov.ly net.ly org.ly com.tn edu.tn gov.tn
    net.tn org.tn com.dz edu.dz gov.dz net.dz org.dz ac.ma co.ma gov.ma net.ma org.ma com.sd
    edu.sd gov.sd net.sd org.sd com.so edu.so gov.so net.so org.so com.et edu.et gov.et net.et
    org.et com.ng edu.ng gov.ng net.ng org.ng co.ke ac.ke go.ke or.ke ne.ke ac.za co.za gov.za
    net.za org.za web.za com.gh edu.gh gov.gh org.gh co.tz ac.tz go.tz or.tz co.ug ac.ug go.ug
    or.ug com.ml
    com.tr edu.tr gen.tr gov.tr net.tr org.tr web.tr biz.tr av.tr k12.tr com.cy gov.cy org.cy
    com.ru net.ru org.ru pp.ru msk.ru spb.ru com.ua in.ua kiev.ua net.ua org.ua gov.ua edu.ua
    com.by gov.by com.kz edu.kz gov.kz org.kz com.uz co.uz com.az gov.az net.az org.az com.ge
    edu.ge gov.ge org.ge com.pl net.pl org.pl gov.pl waw.pl co.hu com.ro org.ro com.gr edu.gr
    gov.gr org.gr co.at or.at ac.at gv.at com.es org.es gob.es com.pt gov.pt org.pt com.br
    edu.br gov.br net.br org.br com.ar edu.ar gob.ar gov.ar net.ar org.ar com.mx edu.mx gob.mx
    net.mx org.mx com.co edu.co gov.co net.co org.co com.pe edu.pe gob.pe org.pe com.ve co.ve
    gob.ve com.ec gob.ec com.bo com.py com.uy gub.uy com.cl gob.cl co.cr com.gt com.do
    github.io gitlab.io blogspot.com appspot.com herokuapp.com netlify.app vercel.app pages.dev
    workers.dev r2.dev web.app firebaseapp.com azurewebsites.net cloudfront.net
    s3.amazonaws.com glitch.me 000webhostapp.com wixsite.com neocities.org onrender.com fly.dev
    repl.co ngrok.io ngrok-free.app translate.goog
    """
    )
)


def is_public_suffix(host: str) -> bool:
    """True for a single label ("com") or a known multi-label public suffix ("co.uk")."""
    return "." not in host or host in _MULTI_LABEL_SUFFIXES


def registrable_domain(host: str) -> str | None:
    """The domain a registrant controls: ``a.b.example.co.uk`` -> ``example.co.uk``.

    Offline by design (the Public Suffix List is not downloaded at run time): a host's last two
    labels, or three when the last two are a known multi-label suffix (``co.uk``, ``com.au``,
    ``github.io``...). Suffixes missing from the built-in list (the PSL has thousands, including
    wildcard rules such as ``*.ck``) give a registrable domain one label too short, e.g.
    ``example.gov.xx`` -> ``gov.xx``. It is informational: bank matching never depends on it.
    None for a public suffix itself.
    """
    host = host.lower().removesuffix(".")
    if is_public_suffix(host):
        return None
    labels = host.split(".")
    take = 3 if ".".join(labels[-2:]) in _MULTI_LABEL_SUFFIXES else 2
    return ".".join(labels[-take:])


# --- extraction ---------------------------------------------------------------------------------

# Characters that end a URL in running text: whitespace, controls, invisible format characters
# (bidi marks often sit right beside links in Arabic text) and quotation marks and brackets that
# never appear unescaped in a URL.
_DELIMITERS: Final = (
    r"\s<>\"`|\\^\x00-\x1f\x7f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069"
    r"\ufeff\u00ab\u00bb\u201c\u201d\u201e\u2039\u203a\u3008-\u3011"
)
_URL_CHAR: Final = f"[^{_DELIMITERS}]"
_SEPARATOR: Final = r"(?:\.|\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\})"
# Linear time: every unbounded repeat is either the last thing in its branch (so it never
# backtracks) or made of items that cannot overlap (a label never contains a separator's first
# character), and the look-behinds stop a bare domain from starting inside a word, so no
# position is rescanned more than a constant number of times.
_CANDIDATE: Final = re.compile(
    rf"(?P<scheme>(?<![a-z0-9])h[tx]{{2}}ps?(?::|\[:\])//|(?<![a-z0-9])h[tx]{{2}}ps?\[://\])"
    rf"{_URL_CHAR}*"
    rf"|(?<![\w.@/%\-])[\w-]+(?:{_SEPARATOR}[\w-]+)+(?::\d{{1,5}})?(?:[/?#]{_URL_CHAR}*)?",
    re.IGNORECASE,
)
# Latin, Arabic (comma, semicolon, question mark, full stop) and CJK punctuation.
_TRAILING: Final = frozenset(
    ".,;:!?'*\u2026\u060c\u061b\u061f\u06d4\u3001\u3002\uff01\uff0c\uff1a\uff1b\uff1f"
)
_CLOSERS: Final = {")": "(", "]": "[", "}": "{"}

# Top-level domains common enough that a bare "name.tld" without a path is taken for a link.
# Other TLDs count when a path follows ("example.zip/x") or the host starts with "www.".
_KNOWN_TLDS: Final = frozenset(
    _words(
        """
        com net org info biz edu gov mil int io co me tv cc ws to ly gg su ru ua by kz uz kg tj tm
        az am ge lt lv ee pl cz sk hu ro bg rs hr si ba mk al gr tr cy il ps jo lb sy iq ir af pk
        in bd lk np cn jp kr tw hk sg my id ph th vn au nz uk de fr nl be ch at it es pt ie se no
        dk fi is eu us ca mx br ar cl pe ve za ng ke et so sd eg tn dz ma sa ae qa kw bh om ye ml
        ne td onion xyz top site online club live app dev page link click pro news blog shop store
        website space tech fun icu cyou buzz vip win bid loan work rest fyi today world life one
        global network media digital social chat video stream cloud host press email zone
        """
    )
    # Cyrillic and Arabic-script country TLDs, in their punycode form: rf, ukr, bel, srb, qaz,
    # mkd, mon; Egypt, Saudi Arabia, Emirates, Qatar, Jordan, Algeria, Tunisia, Morocco, Syria,
    # Oman, Palestine, Iran, Pakistan, Iraq, Sudan, Yemen.
    + _words(
        """
        xn--p1ai xn--j1amh xn--90ais xn--90a3ac xn--80ao21a xn--d1alf xn--l1acc xn--wgbh1c
        xn--mgberp4a5d4ar xn--mgbaam7a8h xn--wgbl6a xn--mgbayh7gpa xn--lgbbat1ad8j xn--pgbs0dh
        xn--mgbc0a9azcg xn--ogbpf8fl xn--mgb9awbf xn--ygbi2ammx xn--mgba3a4f16a xn--mgbai9azgqp6j
        xn--mgbtx2b xn--mgbpl2fh xn--mgb2ddes
        """
    )
)
# File name extensions: "node.js/docs" and "index.html/x" are not hosts, even with a path.
_FILE_EXTENSIONS: Final = frozenset(
    _words(
        """
    js mjs ts json html htm php asp aspx jsp txt pdf doc docx xls xlsx ppt pptx csv jpg jpeg png
    gif webp svg bmp mp3 mp4 avi mkv mov wav ogg exe dll bat py rb java cpp hpp h c cs go rs md
    yml yaml xml ini cfg conf log tmp bak tar gz tgz bz2 rar 7z apk
    """
    )
)


def extract_urls(text: str, *, max_urls: int = 1000) -> list[FoundUrl]:
    """URLs in ``text``, in order, at most ``max_urls``; linear in the length of ``text``.

    Finds http(s) URLs (also defanged: ``hxxp://``, ``http[:]//``), ``www.`` forms and bare
    domains (``t.me/channel``, ``example.org``; without a path only under well-known TLDs),
    including IDN hosts and defanged dots (``example[.]org``, ``example(dot)org``). Trailing
    punctuation (Latin, Arabic, CJK, closing quotes) is left out, and a closing bracket only when
    unbalanced, so ``.../Foo_(bar)`` keeps its parenthesis. A scheme-prefixed URL that does not
    canonicalise is returned with ``canonical=None`` and the ``invalid`` flag; bare candidates
    that do not are taken to be ordinary words and skipped.
    """
    if max_urls < 0:
        raise ValueError("max_urls must not be negative")
    found: list[FoundUrl] = []
    if max_urls == 0:
        return found
    for candidate in _CANDIDATE.finditer(text):
        raw = _trim(candidate.group())
        start = candidate.start()
        has_scheme = candidate.group("scheme") is not None
        item = _found(raw, start, has_scheme)
        if item is None:
            continue
        found.append(item)
        if len(found) >= max_urls:
            break
    return found


def _trim(raw: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets; linear in ``len(raw)``."""
    counts = {char: raw.count(char) for char in "()[]{}"}
    end = len(raw)
    while end > 0:
        char = raw[end - 1]
        if char in _CLOSERS:
            opener = _CLOSERS[char]
            if counts[char] <= counts[opener]:
                break
            counts[char] -= 1
        elif char not in _TRAILING:
            break
        end -= 1
    return raw[:end]


def _found(raw: str, start: int, has_scheme: bool) -> FoundUrl | None:
    if has_scheme and not _SCHEME.sub("", raw, count=1):
        return None  # a scheme and nothing else
    if not has_scheme and not _could_be_tld(raw):
        return None  # cheap test first: prose is full of "a.b" that are not links
    try:
        canonical = canonicalize_url(raw)
    except InvalidSignal:
        if not has_scheme:
            return None  # a word with a dot in it, not a link
        return FoundUrl(raw, start, start + len(raw), None, None, None, [INVALID])
    if not has_scheme and not _plausible_bare(raw, canonical):
        return None
    return FoundUrl(
        raw=raw,
        start=start,
        end=start + len(raw),
        canonical=canonical.url,
        host=canonical.host,
        registrable_domain=canonical.registrable_domain,
        flags=list(canonical.flags),
    )


def _could_be_tld(raw: str) -> bool:
    last = _FANGLESS_DOT.sub(".", raw[: _first_of(raw, "/?#:")]).rstrip(".").rsplit(".", 1)[-1]
    if not last.isascii():
        return True  # an IDN top-level domain, or a word: canonicalisation will tell
    if last.isdigit():
        return True  # perhaps an IPv4 address with a path
    return len(last) >= 2 and (last.isalpha() or last[:4].lower() == "xn--")


def _plausible_bare(raw: str, canonical: CanonicalUrl) -> bool:
    """Whether a scheme-less ``name.tld...`` is a link rather than prose ("e.g.", "node.js")."""
    host_end = _first_of(raw, "/?#:")
    with_path = raw[host_end : host_end + 1] == "/"
    if IP_HOST in canonical.flags:
        # "1.2.3.4" alone is more often a version number than a link.
        return with_path and len(_FANGLESS_DOT.sub(".", raw[:host_end]).split(".")) == 4
    if "." not in canonical.host:
        return False
    tld = canonical.host.rsplit(".", 1)[1]
    if tld in _KNOWN_TLDS:
        return True
    if not (with_path or _FANGLESS_DOT.sub(".", raw[:host_end]).lower().startswith("www.")):
        return False
    if tld.startswith("xn--"):
        return True
    return len(tld) >= 2 and tld.isalpha() and tld not in _FILE_EXTENSIONS
