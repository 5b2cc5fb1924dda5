"""URLs: reduce each to one canonical form, and flag what makes it suspect (finding them in text
is :mod:`bastion.signals.url_extract`).

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
from dataclasses import dataclass
from importlib import resources
from typing import Final

import idna

from bastion.errors import InvalidSignal

__all__ = [
    "FLAGS",
    "MAX_CANONICAL_LENGTH",
    "MAX_URL_LENGTH",
    "CanonicalUrl",
    "canonical_host",
    "canonicalize_url",
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

    authority_end = first_of(rest, "/\\?#")
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


SCHEME_PREFIX: Final = re.compile(r"(?i)(h[tx]{2}ps?)(://|\[:\]//|\[://\])")
_OTHER_SCHEME: Final = re.compile(r"(?i)[a-z][a-z0-9+.-]*:(?://|(?!\d*(?:[/?#\\]|$)))")


def _split_scheme(text: str, flags: set[str]) -> tuple[str, str]:
    """``("http"|"https"|"", rest)``; defanged schemes (hxxp, [:]//) are undone and flagged."""
    found = SCHEME_PREFIX.match(text)
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


def first_of(text: str, chars: str) -> int:
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
FANGLESS_DOT: Final = re.compile(r"(?i)\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}")
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
    refanged = FANGLESS_DOT.sub(".", host)
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


def words(text: str) -> list[str]:
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
    words(
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
