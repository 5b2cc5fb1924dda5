"""Finding URLs in running text, including forms written to dodge filters.

``hxxp://``, ``example[.]org``, ``example(dot)org``, bare ``t.me/channel`` links without a scheme,
links inside Arabic or Russian sentences with their punctuation: each candidate is trimmed of the
punctuation around it, canonicalised (:mod:`bastion.signals.url_canonical`) and kept with its
offsets and flags. The matching is linear in the text's length (see ``_CANDIDATE``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from bastion.errors import InvalidSignal
from bastion.signals.url_canonical import (
    FANGLESS_DOT,
    INVALID,
    IP_HOST,
    SCHEME_PREFIX,
    CanonicalUrl,
    canonicalize_url,
    first_of,
    words,
)

__all__ = ["FoundUrl", "extract_urls"]


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
    words(
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
    + words(
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
    words(
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
    if has_scheme and not SCHEME_PREFIX.sub("", raw, count=1):
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
    last = FANGLESS_DOT.sub(".", raw[: first_of(raw, "/?#:")]).rstrip(".").rsplit(".", 1)[-1]
    if not last.isascii():
        return True  # an IDN top-level domain, or a word: canonicalisation will tell
    if last.isdigit():
        return True  # perhaps an IPv4 address with a path
    return len(last) >= 2 and (last.isalpha() or last[:4].lower() == "xn--")


def _plausible_bare(raw: str, canonical: CanonicalUrl) -> bool:
    """Whether a scheme-less ``name.tld...`` is a link rather than prose ("e.g.", "node.js")."""
    host_end = first_of(raw, "/?#:")
    with_path = raw[host_end : host_end + 1] == "/"
    if IP_HOST in canonical.flags:
        # "1.2.3.4" alone is more often a version number than a link.
        return with_path and len(FANGLESS_DOT.sub(".", raw[:host_end]).split(".")) == 4
    if "." not in canonical.host:
        return False
    tld = canonical.host.rsplit(".", 1)[1]
    if tld in _KNOWN_TLDS:
        return True
    if not (with_path or FANGLESS_DOT.sub(".", raw[:host_end]).lower().startswith("www.")):
        return False
    if tld.startswith("xn--"):
        return True
    return len(tld) >= 2 and tld.isalpha() and tld not in _FILE_EXTENSIONS
