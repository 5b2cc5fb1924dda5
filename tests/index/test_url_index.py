"""URL prefix and domain indexes: which banked prefixes and domains cover a canonical URL."""

from __future__ import annotations

from bastion.index.base import Hit
from bastion.index.url import DomainIndex, UrlPrefixIndex, domain_keys, prefix_keys
from bastion.signals.url import DomainSignal, UrlPrefixSignal, UrlSignal


def prefix_index(*values: str) -> UrlPrefixIndex:
    index = UrlPrefixIndex()
    index.add((n, UrlPrefixSignal.normalize(value)) for n, value in enumerate(values, start=1))
    return index


def domain_index(*values: str) -> DomainIndex:
    index = DomainIndex()
    index.add((n, DomainSignal.normalize(value)) for n, value in enumerate(values, start=1))
    return index


def ids(hits: list[Hit]) -> list[int]:
    return [hit.entry_id for hit in hits]


def query(url: str) -> str:
    return UrlSignal.normalize(url)


# --- prefixes ------------------------------------------------------------------------------------


def test_prefix_matches_at_path_segment_boundaries() -> None:
    index = prefix_index("https://t.me/somechannel")
    assert ids(index.search(query("https://t.me/somechannel"), 0)) == [1]
    assert ids(index.search(query("https://t.me/somechannel/123"), 0)) == [1]
    assert ids(index.search(query("t.me/somechannel/123/4?single"), 0)) == [1]
    assert ids(index.search(query("https://t.me/somechannel2"), 0)) == []
    assert ids(index.search(query("https://t.me/somechann"), 0)) == []
    assert ids(index.search(query("https://t.me/other/somechannel"), 0)) == []
    assert ids(index.search(query("https://www.t.me/somechannel/1"), 0)) == [1]
    assert ids(index.search(query("https://sub.t.me/somechannel/1"), 0)) == []


def test_prefix_matches_either_scheme_and_is_case_sensitive_in_the_path() -> None:
    index = prefix_index("http://example.org/Files")
    assert ids(index.search(query("https://example.org/Files/a.zip"), 0)) == [1]
    assert ids(index.search(query("https://example.org/files/a.zip"), 0)) == []


def test_prefix_hits_say_which_prefix_matched_most_specific_first() -> None:
    index = prefix_index(
        "https://archive.org/details", "https://archive.org/details/item", "archive.org"
    )
    hits = index.search(query("https://archive.org/details/item"), 0)
    assert ids(hits) == [2, 1, 3]
    assert [hit.detail for hit in hits] == [
        {"prefix": "https://archive.org/details/item", "exact": True},
        {"prefix": "https://archive.org/details", "exact": False},
        {"prefix": "https://archive.org/", "exact": False},
    ]
    assert all(hit.distance == 0.0 for hit in hits)


def test_root_prefix_covers_the_whole_site_but_not_other_hosts_or_ports() -> None:
    index = prefix_index("https://example.org/")
    assert ids(index.search(query("https://example.org"), 0)) == [1]
    assert index.search(query("https://example.org"), 0)[0].detail == {
        "prefix": "https://example.org/",
        "exact": True,
    }
    assert ids(index.search(query("https://example.org/a/b?c=d"), 0)) == [1]
    assert ids(index.search(query("https://example.org:8080/a"), 0)) == []
    assert ids(index.search(query("https://example.org.evil.com/a"), 0)) == []


def test_prefix_keys() -> None:
    assert prefix_keys("https://t.me/a/1?x=1#!y") == [
        ("https://t.me/a/1", True),
        ("https://t.me/a", False),
        ("https://t.me/", False),
    ]
    assert prefix_keys("https://t.me/") == [("https://t.me/", True)]
    assert prefix_keys("https://[2001:db8::1]:8080/a") == [
        ("https://[2001:db8::1]:8080/a", True),
        ("https://[2001:db8::1]:8080/", False),
    ]
    assert prefix_keys("not a url") == []


# --- domains -------------------------------------------------------------------------------------


def test_domain_matches_the_host_and_its_subdomains_only() -> None:
    index = domain_index("example.org")
    for url in ("https://example.org/x", "http://www.example.org", "https://a.b.example.org/c"):
        assert ids(index.search(query(url), 0)) == [1], url
    for url in ("https://badexample.org/", "https://example.org.evil.com/", "https://example.com/"):
        assert ids(index.search(query(url), 0)) == [], url


def test_domain_hits_say_whether_it_was_a_subdomain_match() -> None:
    index = domain_index("example.org", "files.example.org")
    hits = index.search(query("https://dl.files.example.org/f"), 0)
    assert ids(hits) == [2, 1]
    assert [hit.detail for hit in hits] == [
        {"domain": "files.example.org", "subdomain": True},
        {"domain": "example.org", "subdomain": True},
    ]
    [exact] = index.search(query("https://example.org/"), 0)
    assert exact.detail == {"domain": "example.org", "subdomain": False}


def test_domain_matching_of_idn_and_ip_hosts() -> None:
    index = domain_index("\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", "203.0.113.7")
    russian = (
        "https://\u0432\u0438\u0434\u0435\u043e.\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444/"
    )
    assert ids(index.search(query(russian), 0)) == [1]
    assert ids(index.search(query("http://203.0.113.7/panel"), 0)) == [2]
    assert ids(index.search(query("http://203.0.113.70/"), 0)) == []


def test_domain_keys() -> None:
    assert domain_keys("https://a.example.org:8080/x?y#z") == [
        ("a.example.org", False),
        ("example.org", True),
        ("org", True),
    ]
    assert domain_keys("example.org") == [("example.org", False), ("org", True)]
    assert domain_keys("https://[2001:db8::1]/") == [("[2001:db8::1]", False)]
    assert domain_keys("https://10.0.0.1/") == [("10.0.0.1", False)]


# --- add, remove, search_many --------------------------------------------------------------------


def test_add_replaces_remove_forgets_and_len_counts() -> None:
    index = DomainIndex()
    index.add([(1, "example.org"), (2, "example.org"), (3, "other.net")])
    assert len(index) == 3
    assert ids(index.search("https://example.org/", 0)) == [1, 2]
    index.add([(1, "other.net")])  # re-adding an id replaces its value
    assert len(index) == 3
    assert ids(index.search("https://example.org/", 0)) == [2]
    assert ids(index.search("https://x.other.net/", 0)) == [1, 3]
    index.remove([2, 99])  # unknown ids are ignored
    assert ids(index.search("https://example.org/", 0)) == []
    index.remove([1, 3])
    assert len(index) == 0
    assert index.search("https://other.net/", 0) == []


def test_prefix_index_add_remove() -> None:
    index = UrlPrefixIndex()
    index.add([(5, "https://t.me/a"), (6, "https://t.me/a/1")])
    index.remove([5])
    assert ids(index.search("https://t.me/a/1/2", 0)) == [6]
    index.add([(6, "https://t.me/b")])
    assert ids(index.search("https://t.me/a/1/2", 0)) == []
    assert len(index) == 1


def test_search_many_answers_each_query() -> None:
    index = prefix_index("t.me/a", "t.me/b")
    urls = [query(url) for url in ("t.me/a/1", "t.me/c", "t.me/b", "t.me/a")]
    assert [ids(hits) for hits in index.search_many(urls, 0)] == [[1], [], [2], [1]]
    domains = domain_index("example.org")
    assert [
        ids(hits) for hits in domains.search_many(["https://x.example.org/", "https://y.org/"], 0)
    ] == [
        [1],
        [],
    ]


def test_signal_types_of_the_indexes() -> None:
    assert UrlPrefixIndex().signal_type == UrlPrefixSignal.name
    assert DomainIndex().signal_type == DomainSignal.name


def test_hundred_thousand_entries() -> None:
    count = 100_000
    prefixes = UrlPrefixIndex()
    prefixes.add((n, f"https://t.me/channel{n}") for n in range(count))
    domains = DomainIndex()
    domains.add((n, f"site{n}.example.org") for n in range(count))
    assert len(prefixes) == len(domains) == count

    for n in (0, 1, 4242, count - 1):
        assert ids(prefixes.search(f"https://t.me/channel{n}/{n}", 0)) == [n]
        assert ids(domains.search(f"https://www.a.site{n}.example.org/x", 0)) == [n]
    assert prefixes.search(f"https://t.me/channel{count}", 0) == []
    assert domains.search(f"https://site{count}.example.org/", 0) == []

    prefixes.remove(range(0, count, 2))
    assert len(prefixes) == count // 2
    assert prefixes.search("https://t.me/channel4242/1", 0) == []
    assert ids(prefixes.search("https://t.me/channel4243/1", 0)) == [4243]
