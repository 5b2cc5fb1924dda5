"""URLs in text: extraction, canonicalisation, flags, and the url/url_prefix/domain signal types."""

from __future__ import annotations

import pytest

from bastion.errors import InvalidSignal
from bastion.signals.url import DomainSignal, UrlPrefixSignal, UrlSignal, url_signals
from bastion.signals.url_canonical import (
    FLAGS,
    MAX_URL_LENGTH,
    canonicalize_url,
    registrable_domain,
)
from bastion.signals.url_extract import extract_urls

CYRILLIC_A = "\u0430"
CYRILLIC_ER = "\u0440"
CYRILLIC_PALOCHKA = "\u04cf"
CYRILLIC_IE = "\u0435"


def canonical(url: str) -> str:
    return canonicalize_url(url).url


def flags(url: str) -> set[str]:
    return set(canonicalize_url(url).flags)


def found(text: str) -> list[str | None]:
    return [item.canonical for item in extract_urls(text)]


def raws(text: str) -> list[str]:
    return [item.raw for item in extract_urls(text)]


# --- canonicalisation, rule by rule --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # http and https are one page: both become https.
        ("http://example.org/a", "https://example.org/a"),
        ("HTTPS://example.org/a", "https://example.org/a"),
        ("example.org/a", "https://example.org/a"),
        ("//example.org/a", "https://example.org/a"),
        # Host: case, trailing dot, one leading www.
        ("https://EXAMPLE.Org./a", "https://example.org/a"),
        ("https://www.example.org/a", "https://example.org/a"),
        ("https://www2.example.org/a", "https://www2.example.org/a"),
        ("https://www.co.uk/", "https://www.co.uk/"),
        # Default ports go, others stay.
        ("http://example.org:80/", "https://example.org/"),
        ("https://example.org:443/", "https://example.org/"),
        ("https://example.org:8443/", "https://example.org:8443/"),
        ("http://example.org:0080/", "https://example.org/"),
        ("example.org:/x", "https://example.org/x"),
        # Path: root, trailing slash, duplicate slashes, dot-segments, escapes.
        ("https://example.org", "https://example.org/"),
        ("https://example.org/a/b/", "https://example.org/a/b"),
        ("https://example.org//a///b", "https://example.org/a/b"),
        ("https://example.org/a/./b/../c", "https://example.org/a/c"),
        ("https://example.org/../../a", "https://example.org/a"),
        ("https://example.org/a/%2E%2E/b", "https://example.org/b"),
        ("https://example.org/%7Euser/%41bc", "https://example.org/~user/Abc"),
        ("https://example.org/a%2fb%c3%a9", "https://example.org/a%2Fb%C3%A9"),
        ("https://example.org/caf\u00e9", "https://example.org/caf%C3%A9"),
        ("https://example.org/100%", "https://example.org/100%25"),
        ("https://example.org/a\\b", "https://example.org/a/b"),
        ("https://example.org/CaseKept", "https://example.org/CaseKept"),
        # Query: tracking parameters out, the rest sorted.
        (
            "https://example.org/v?utm_source=tw&b=2&fbclid=x&a=1&gclid=y&si=z",
            "https://example.org/v?a=1&b=2",
        ),
        (
            "https://example.org/v?UTM_Campaign=x&igshid=1&mc_cid=2&ref_src=3",
            "https://example.org/v",
        ),
        ("https://example.org/v?&&id=%7e", "https://example.org/v?id=~"),
        ("https://example.org/v?q=a+b&q=a%20b", "https://example.org/v?q=a%20b&q=a+b"),
        # Fragments go, except hashbang ones, which name content.
        ("https://example.org/a#section-2", "https://example.org/a"),
        ("https://mega.nz/#!AbCd!key", "https://mega.nz/#!AbCd!key"),
        ("https://example.org/a?b=1#!/page", "https://example.org/a?b=1#!/page"),
        # Credentials go (and are flagged, below).
        ("https://user:secret@example.org/a", "https://example.org/a"),
    ],
)
def test_canonical_forms(url: str, expected: str) -> None:
    assert canonical(url) == expected
    assert canonical(expected) == expected  # canonical forms are fixed points


def test_idn_hosts_are_punycode_in_the_canonical_form() -> None:
    result = canonicalize_url("https://\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444/\u043f")
    assert result.url == "https://xn--e1afmkfd.xn--p1ai/%D0%BF"
    assert result.host_unicode == "\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444"
    assert "idn" in result.flags
    # The punycode spelling, the Unicode one and a full-width one are the same host.
    assert canonical("https://xn--e1afmkfd.xn--p1ai/%D0%BF") == result.url
    assert canonical("https://\uff45xample.org/") == "https://example.org/"


def test_credentials_are_removed_and_flagged() -> None:
    result = canonicalize_url("http://admin:hunter2@example.org/x")
    assert "hunter2" not in result.url and "admin" not in result.url
    assert result.flags == ("credentials",)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://203.0.113.7/x", "203.0.113.7"),
        ("http://2130706433/", "127.0.0.1"),
        ("http://0x7f.1/", "127.0.0.1"),
        ("http://[2001:DB8:0:0::1]:8080/", "[2001:db8::1]"),
    ],
)
def test_ip_hosts_are_flagged_and_spelled_out(url: str, host: str) -> None:
    result = canonicalize_url(url)
    assert result.host == host
    assert "ip_host" in result.flags
    assert result.registrable_domain is None


def test_numeric_ip_spellings_are_flagged_obfuscated() -> None:
    assert "obfuscated" in flags("http://2130706433/")
    assert "obfuscated" not in flags("http://203.0.113.7/")


@pytest.mark.parametrize(
    "url", ["https://bit.ly/3xYz", "t.co/abc", "https://www.tinyurl.com/x", "http://cutt.ly/a"]
)
def test_shorteners_are_flagged(url: str) -> None:
    assert "shortener" in flags(url)


def test_ordinary_hosts_are_not_flagged() -> None:
    assert flags("https://example.org/bit.ly") == set()
    assert flags("https://notbit.ly/") == set()


def test_homoglyph_host_with_a_cyrillic_letter_is_flagged() -> None:
    lookalike = f"https://ex{CYRILLIC_A}mple.com/login"
    result = canonicalize_url(lookalike)
    assert result.host == "xn--exmple-4nf.com"
    assert result.url != canonical("https://example.com/login")
    assert {"homoglyph", "idn"} <= set(result.flags)
    # The same host written in punycode is caught too.
    assert "homoglyph" in flags("https://xn--exmple-4nf.com/")


def test_whole_script_lookalike_is_flagged_under_a_latin_tld() -> None:
    apple = f"{CYRILLIC_A}{CYRILLIC_ER}{CYRILLIC_ER}{CYRILLIC_PALOCHKA}{CYRILLIC_IE}"
    assert "homoglyph" in flags(f"https://{apple}.com/")


@pytest.mark.parametrize(
    "url",
    [
        "https://\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444/",  # Russian name under .рф
        "https://\u4e2d\u56fd.cn/",
        "https://\u4f8b\u3048abc.jp/",  # Japanese names mix scripts legitimately
        "https://\u0645\u062b\u0627\u0644.\u0645\u0635\u0631/",
    ],
)
def test_genuine_idn_hosts_are_not_homoglyphs(url: str) -> None:
    assert "homoglyph" not in flags(url)


@pytest.mark.parametrize(
    "url",
    [
        "hxxp://example.org/x",
        "hXXps://example.org/x",
        "http[:]//example.org/x",
        "https[://]example.org/x",
        "https://example[.]org/x",
        "example(dot)org/x",
        "example[dot]org/x",
        "https://ex%61mple.org/x",
    ],
)
def test_defanged_forms_are_undone_and_flagged(url: str) -> None:
    result = canonicalize_url(url)
    assert result.url in ("https://example.org/x",)
    assert "obfuscated" in result.flags


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "https://",
        "https://exa mple.org/",
        "https://example.org/a b",
        "https://example.org/\tx",
        "https://example.org/\x00",
        "https://exam\u200bple.org/",
        "https://example.org/\u202ex",
        "ftp://example.org/",
        "javascript:alert(1)",
        "mailto:someone@example.org",
        "file:///etc/passwd",
        "https://example..org/",
        "https://exa!mple.org/",
        "https://example.org:99999/",
        "https://example.org:0/",
        "https://example.org:8o/",
        "http://1.2.3.256/",
        "http://example.0x1/",
        "http://[::1%25eth0]/",
        "http://[::zz]/",
        "http://[::1/",
        "https://xn--a.com/",
        "https://a" + "b" * 63 + ".com/",
        "https://ex%ff.org/",
        "https://" + "a" * MAX_URL_LENGTH + ".com/",
    ],
)
def test_unusable_urls_are_invalid_signals(url: str) -> None:
    with pytest.raises(InvalidSignal) as raised:
        canonicalize_url(url)
    assert raised.value.code == "invalid_signal"


def test_non_strings_are_invalid_signals() -> None:
    with pytest.raises(InvalidSignal):
        canonicalize_url(42)  # type: ignore[arg-type]


def test_long_non_ascii_paths_are_capped_after_encoding() -> None:
    # Under the input cap, but nine times longer once percent-encoded.
    with pytest.raises(InvalidSignal):
        canonicalize_url("https://example.org/" + "\u20ac" * 4000)


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("example.org", "example.org"),
        ("a.b.example.org", "example.org"),
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("shop.example.com.au", "example.com.au"),
        ("someone.github.io", "someone.github.io"),
        ("x.someone.github.io", "someone.github.io"),
        ("co.uk", None),
        ("com", None),
        ("localhost", None),
    ],
)
def test_registrable_domain(host: str, domain: str | None) -> None:
    assert registrable_domain(host) == domain


def test_canonical_url_carries_its_parts() -> None:
    result = canonicalize_url("http://a.example.org:8080/p/q?z=1&y=2#x")
    assert result.host == "a.example.org"
    assert result.port == 8080
    assert result.path == "/p/q"
    assert result.query == "y=2&z=1"
    assert result.origin == "https://a.example.org:8080"
    assert result.registrable_domain == "example.org"
    assert set(result.flags) <= FLAGS


# --- extraction ----------------------------------------------------------------------------------


def test_extracts_schemes_bare_domains_and_www() -> None:
    text = "Join t.me/ourchannel or https://example.org/a?utm_source=x and www.example.xyz now"
    assert found(text) == [
        "https://t.me/ourchannel",
        "https://example.org/a",
        "https://example.xyz/",
    ]


def test_positions_point_at_the_raw_text() -> None:
    text = "see: (https://example.org/x), t.me/abc."
    for item in extract_urls(text):
        assert text[item.start : item.end] == item.raw
    assert raws(text) == ["https://example.org/x", "t.me/abc"]


def test_found_urls_carry_host_domain_and_flags() -> None:
    [item] = extract_urls("link: hxxps://files.example[.]co.uk/f?id=1")
    assert item.canonical == "https://files.example.co.uk/f?id=1"
    assert item.host == "files.example.co.uk"
    assert item.registrable_domain == "example.co.uk"
    assert item.flags == ["obfuscated"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hxxp://example.org/x", ["https://example.org/x"]),
        ("hXXps[:]//example.org/x", ["https://example.org/x"]),
        ("example[.]org", ["https://example.org/"]),
        ("example(.)org/page", ["https://example.org/page"]),
        ("example(dot)org", ["https://example.org/"]),
        ("sub[.]example[dot]net/x", ["https://sub.example.net/x"]),
    ],
)
def test_extracts_obfuscated_forms(text: str, expected: list[str]) -> None:
    assert found(f"mirror: {text} (new)") == expected
    assert all("obfuscated" in item.flags for item in extract_urls(text))


@pytest.mark.parametrize(
    "text",
    [
        "https://example.org/x.",
        "https://example.org/x,",
        "https://example.org/x;",
        "https://example.org/x:",
        "https://example.org/x!",
        "https://example.org/x?",
        "https://example.org/x)",
        "https://example.org/x\u00bb",  # »
        "https://example.org/x\u201d",  # ”
        "https://example.org/x\u060c",  # Arabic comma
        "https://example.org/x\u061b",  # Arabic semicolon
        "https://example.org/x\u061f",  # Arabic question mark
        "https://example.org/x\u06d4",  # Arabic full stop
        "https://example.org/x...",
        "https://example.org/x'",
    ],
)
def test_trailing_punctuation_is_not_part_of_the_url(text: str) -> None:
    assert raws(text) == ["https://example.org/x"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(https://example.org/wiki/Foo_(bar))", "https://example.org/wiki/Foo_(bar)"),
        ("see https://example.org/wiki/Foo_(bar).", "https://example.org/wiki/Foo_(bar)"),
        ("(see example.org/x)", "example.org/x"),
        ("[https://example.org/a[1]]", "https://example.org/a[1]"),
        ("\u00abt.me/abc\u00bb", "t.me/abc"),
        ("\u201chttps://example.org/q\u201d", "https://example.org/q"),
        ("<https://example.org/q>", "https://example.org/q"),
    ],
)
def test_brackets_and_quotes(text: str, expected: str) -> None:
    assert raws(text) == [expected]


def test_urls_in_arabic_text() -> None:
    text = (
        "\u0627\u0646\u0636\u0645\u0648\u0627 \u0625\u0644\u0649 \u0642\u0646\u0627\u062a\u0646"
        "\u0627: t.me/abc\u060c \u0648\u0634\u0627\u0647\u062f\u0648\u0627 "
        "https://example.com/\u0641\u064a\u062f\u064a\u0648\u061f \u200fhttps://t.me/def\u200f"
    )
    assert found(text) == [
        "https://t.me/abc",
        "https://example.com/%D9%81%D9%8A%D8%AF%D9%8A%D9%88",
        "https://t.me/def",
    ]


def test_urls_in_russian_text() -> None:
    text = (
        "\u041f\u043e\u0434\u043f\u0438\u0441\u044b\u0432\u0430\u0439\u0442\u0435\u0441\u044c: "
        "https://vk.com/club1! \u0418 \u0441\u0430\u0439\u0442 "
        "\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444."
    )
    assert found(text) == ["https://vk.com/club1", "https://xn--e1afmkfd.xn--p1ai/"]
    assert extract_urls(text)[1].flags == ["idn"]


def test_arabic_idn_host() -> None:
    text = "\u0632\u0648\u0631\u0648\u0627 \u0645\u062b\u0627\u0644.\u0645\u0635\u0631/\u0635"
    [item] = extract_urls(text)
    assert item.host is not None and item.host.endswith(".xn--wgbh1c")


@pytest.mark.parametrize(
    "text",
    [
        "e.g. this",
        "i.e.",
        "U.S.A",
        "version 3.14 or 1.2.3.4",
        "node.js/docs and index.html/x",
        "README.md",
        "write to someone@example.org",
        "ftp://example.org/file",
        "a.b c.d",
        "...",
    ],
)
def test_prose_is_not_a_url(text: str) -> None:
    assert [item for item in extract_urls(text) if item.canonical] == []


def test_unknown_tlds_need_a_path_or_www() -> None:
    assert found("example.zzz") == []
    assert found("example.zzz/x") == ["https://example.zzz/x"]
    assert found("www.example.zzz") == ["https://example.zzz/"]


def test_bare_ip_address_needs_a_path() -> None:
    assert found("203.0.113.7") == []
    assert found("203.0.113.7/panel") == ["https://203.0.113.7/panel"]


def test_scheme_urls_that_do_not_canonicalise_are_reported_invalid() -> None:
    [item] = extract_urls("visit https://exa!mple.org/ now")
    assert item.canonical is None and item.host is None
    assert item.flags == ["invalid"]


def test_many_urls_and_the_cap() -> None:
    text = " ".join(f"https://example.org/{n}" for n in range(3000))
    assert len(extract_urls(text)) == 1000
    assert len(extract_urls(text, max_urls=5000)) == 3000
    assert [item.canonical for item in extract_urls(text, max_urls=3)] == [
        "https://example.org/0",
        "https://example.org/1",
        "https://example.org/2",
    ]
    assert extract_urls(text, max_urls=0) == []
    with pytest.raises(ValueError, match="max_urls"):
        extract_urls(text, max_urls=-1)


ONE_MB = 1_000_000


@pytest.mark.parametrize(
    "unit",
    [
        "a",
        "a.",
        "a.b ",
        "1.",
        "-a",
        "a@",
        "h",
        "http://",
        "hxxp[:]//",
        "(",
        "a(dot",
        "a[.]",
        "www.",
        "x.org/)",
        "\u0627.",
        "a.com ",
    ],
)
def test_adversarial_megabyte_inputs_finish(unit: str) -> None:
    # Would take hours if any pattern backtracked quadratically; no timing assertion needed.
    text = unit * (ONE_MB // len(unit))
    result = extract_urls(text, max_urls=10)
    assert len(result) <= 10
    for item in result:
        assert text[item.start : item.end] == item.raw


# --- signal types --------------------------------------------------------------------------------


def test_url_signal_normalises_to_the_canonical_form() -> None:
    assert UrlSignal.name == "url"
    assert (
        UrlSignal.normalize(" HTTP://WWW.Example.org/a/?utm_medium=x ") == "https://example.org/a"
    )
    with pytest.raises(InvalidSignal) as raised:
        UrlSignal.normalize("javascript:alert(1)")
    assert raised.value.context["signal_type"] == "url"


def test_url_prefix_signal() -> None:
    assert UrlPrefixSignal.name == "url_prefix"
    assert UrlPrefixSignal.normalize("t.me/somechannel/") == "https://t.me/somechannel"
    assert UrlPrefixSignal.normalize("https://t.me") == "https://t.me/"
    assert UrlPrefixSignal.normalize("t.me/x?utm_source=a#top") == "https://t.me/x"
    for bad in ("t.me/x?page=2", "https://mega.nz/#!abc", "mailto:x@y.org"):
        with pytest.raises(InvalidSignal) as raised:
            UrlPrefixSignal.normalize(bad)
        assert raised.value.context["signal_type"] == "url_prefix"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.org", "example.org"),
        ("EXAMPLE.org.", "example.org"),
        ("*.example.org", "example.org"),
        ("www.example.org", "example.org"),
        ("example[.]org", "example.org"),
        ("https://example.org/", "example.org"),
        ("sub.example.co.uk", "sub.example.co.uk"),
        ("someone.github.io", "someone.github.io"),
        ("\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", "xn--e1afmkfd.xn--p1ai"),
        ("203.0.113.7", "203.0.113.7"),
    ],
)
def test_domain_signal_normalises_hosts(value: str, expected: str) -> None:
    assert DomainSignal.normalize(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "com",
        "co.uk",
        "github.io",
        "https://example.org/path",
        "https://example.org/?q=1",
        "https://example.org:8080/",
        "https://user@example.org/",
        "exa mple.org",
        "",
    ],
)
def test_domain_signal_refuses_what_is_not_one_bankable_host(value: str) -> None:
    with pytest.raises(InvalidSignal) as raised:
        DomainSignal.normalize(value)
    assert raised.value.context["signal_type"] == "domain"


def test_url_signals_are_distinct_canonical_links() -> None:
    signals = url_signals("t.me/a, https://t.me/a/ and hxxp://t[.]me/a; then example.org/b")
    assert [(signal.type, signal.value) for signal in signals] == [
        ("url", "https://t.me/a"),
        ("url", "https://example.org/b"),
    ]
