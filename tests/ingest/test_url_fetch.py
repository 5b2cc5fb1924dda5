"""The guarded URL fetcher: what it fetches over real loopback HTTP, and everything it refuses.

Refusals of private and public targets all happen before any connection: they use literal IPs or
a stub resolver, and the conftest guard fails any test that tries to reach a non-loopback address.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.errors import (
    BastionError,
    FetchFailed,
    FetchTimeout,
    FetchTooLarge,
    UnsupportedMedia,
    UrlBlocked,
)
from bastion.ingest import FetchedContent, FetchPolicy, fetch_url
from bastion.ingest.address_policy import (
    IPAddress,
    blocked_reason,
    parse_target,
    system_resolver,
)
from bastion.settings import Settings

if TYPE_CHECKING:
    from conftest import LoopbackServer

LOCAL = FetchPolicy(max_bytes=1 << 20, timeout_seconds=5, allow_private=True)
GUARDED = FetchPolicy(max_bytes=1 << 20, timeout_seconds=5)
TEST_SERVER = ipaddress.ip_address("127.0.0.1")
PUBLIC = ipaddress.ip_address("93.184.215.14")


def only_test_server(address: IPAddress) -> str | None:
    """The default rules, except that the loopback test server counts as a public host."""
    return None if address == TEST_SERVER else blocked_reason(address)


class StubResolver:
    """Answers from a table, records every lookup, and never touches DNS."""

    def __init__(self, table: dict[str, list[str]] | None = None) -> None:
        self.table = table or {}
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(a) for a in self.table[host]]


class RebindingResolver:
    """First answers with the test server, then with an internal address: a rebinding attack."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, host: str, port: int) -> Iterable[IPAddress]:
        self.calls += 1
        return [TEST_SERVER if self.calls == 1 else ipaddress.ip_address("10.0.0.1")]


def unreachable_client() -> httpx.Client:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"refused URL was sent: {request.url}")

    return httpx.Client(transport=httpx.MockTransport(refuse))


# --- fetching ---------------------------------------------------------------------------------


def test_fetches_bytes_with_media_type_and_filename(http_server: LoopbackServer) -> None:
    got = fetch_url(http_server.url("/media/photo.jpg"), LOCAL)

    assert got == FetchedContent(
        data=http_server.photo,
        content_type="image/jpeg",
        final_url=http_server.url("/media/photo.jpg"),
        filename="photo.jpg",
    )


def test_response_without_type_or_name_gives_none(http_server: LoopbackServer) -> None:
    got = fetch_url(http_server.url("/"), LOCAL)

    assert (got.data, got.content_type, got.filename) == (b"index", None, None)


@pytest.mark.parametrize(
    ("disposition", "filename"),
    [
        ('attachment; filename="report.pdf"', "report.pdf"),
        ("attachment; filename*=UTF-8''na%C3%AFve%20report.pdf", "naïve report.pdf"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="..\\\\evil.exe"', "evil.exe"),
        ("attachment", "attachment"),  # no name given: the last path segment
    ],
)
def test_filename_comes_from_content_disposition(
    http_server: LoopbackServer, disposition: str, filename: str
) -> None:
    got = fetch_url(http_server.url(f"/attachment?cd={quote(disposition)}"), LOCAL)

    assert got.filename == filename


def test_sends_no_credentials_from_a_lent_client(http_server: LoopbackServer) -> None:
    lent = httpx.Client(
        headers={"Authorization": "Bearer lead-secret"}, cookies={"session": "s"}, auth=("u", "p")
    )
    with lent:
        fetch_url(http_server.url("/"), LOCAL, client=lent)

    sent = http_server.seen[-1]
    assert "authorization" not in sent
    assert "cookie" not in sent
    assert sent["accept-encoding"] == "identity"


def test_logs_host_and_path_but_not_the_query(
    http_server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bastion.ingest"):
        fetch_url(http_server.url("/media/photo.jpg?token=s3cret"), LOCAL)

    assert f"127.0.0.1:{http_server.port}/media/photo.jpg" in caplog.text
    assert "s3cret" not in caplog.text


@pytest.mark.parametrize(
    ("path", "allowed", "accepted"),
    [
        ("/media/photo.jpg", {"image/jpeg"}, True),
        ("/media/photo.jpg", {"video/*", "image/*"}, True),
        ("/media/photo.jpg", {"video/*", "image/png"}, False),
        ("/", {"image/*"}, False),  # no Content-Type at all
    ],
)
def test_policy_can_restrict_media_types(
    http_server: LoopbackServer, path: str, allowed: set[str], accepted: bool
) -> None:
    policy = FetchPolicy(max_bytes=1 << 20, allow_private=True, allowed_types=frozenset(allowed))

    if accepted:
        assert fetch_url(http_server.url(path), policy).content_type == "image/jpeg"
    else:
        with pytest.raises(UnsupportedMedia):
            fetch_url(http_server.url(path), policy)


# --- redirects --------------------------------------------------------------------------------


def test_follows_a_redirect_chain(http_server: LoopbackServer) -> None:
    policy = FetchPolicy(max_bytes=1000, max_redirects=3, allow_private=True)

    got = fetch_url(http_server.url("/hop/3"), policy)

    assert got.data == b"arrived"
    assert got.final_url == http_server.url("/hop/0")


@pytest.mark.parametrize("status", [301, 303, 307, 308])
def test_follows_every_redirect_status(http_server: LoopbackServer, status: int) -> None:
    got = fetch_url(http_server.url(f"/to?status={status}&url=/media/photo.jpg"), LOCAL)

    assert got.data == http_server.photo


@pytest.mark.parametrize(("hops", "limit"), [(3, 2), (1, 0)])
def test_refuses_more_redirects_than_the_policy_allows(
    http_server: LoopbackServer, hops: int, limit: int
) -> None:
    policy = FetchPolicy(max_bytes=1000, max_redirects=limit, allow_private=True)

    with pytest.raises(FetchFailed) as caught:
        fetch_url(http_server.url(f"/hop/{hops}"), policy)

    assert caught.value.context["max_redirects"] == limit


def test_redirect_without_location_fails(http_server: LoopbackServer) -> None:
    with pytest.raises(FetchFailed):
        fetch_url(http_server.url("/redirect-without-location"), LOCAL)


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/admin",
        "http://[::1]/",
        "http://0xa9.0xfe.0xa9.0xfe/",  # 169.254.169.254
        "http://internal.test/",  # resolves to 10.0.0.1
        "file:///etc/passwd",
        "ftp://example.com/",
        "http://user:pw@example.com/",
    ],
)
def test_redirect_to_a_refused_url_is_blocked(http_server: LoopbackServer, location: str) -> None:
    resolver = StubResolver({"internal.test": ["10.0.0.1"]})
    start = http_server.url(f"/to?url={quote(location)}")

    with pytest.raises(UrlBlocked):
        fetch_url(start, GUARDED, resolver=resolver, address_check=only_test_server)

    assert http_server.seen[-1]["host"] == f"127.0.0.1:{http_server.port}"  # first hop was made


# --- addresses --------------------------------------------------------------------------------


def test_connects_to_the_checked_address_not_a_second_lookup(http_server: LoopbackServer) -> None:
    resolver = RebindingResolver()

    got = fetch_url(
        f"http://media.test:{http_server.port}/echo-host",
        GUARDED,
        resolver=resolver,
        address_check=only_test_server,
    )

    assert got.data == f"media.test:{http_server.port}".encode()
    assert resolver.calls == 1


def test_each_redirect_hop_is_resolved_and_checked_again(http_server: LoopbackServer) -> None:
    with pytest.raises(UrlBlocked):
        fetch_url(
            f"http://media.test:{http_server.port}/to?url=/echo-host",
            GUARDED,
            resolver=RebindingResolver(),
            address_check=only_test_server,
        )


def test_refuses_a_name_with_any_refused_address() -> None:
    resolver = StubResolver({"mixed.test": ["93.184.215.14", "10.0.0.1"]})

    with pytest.raises(UrlBlocked, match="private"):
        fetch_url("http://mixed.test/", GUARDED, resolver=resolver, client=unreachable_client())


def test_tries_the_next_address_when_one_refuses(http_server: LoopbackServer) -> None:
    resolver = StubResolver({"dual.test": ["::1", "127.0.0.1"]})  # the server listens on IPv4

    got = fetch_url(f"http://dual.test:{http_server.port}/echo-host", LOCAL, resolver=resolver)

    assert got.data == f"dual.test:{http_server.port}".encode()


def test_https_verifies_the_host_name_while_connecting_to_the_ip(
    https_server: LoopbackServer, tls_files: tuple[Path, Path]
) -> None:
    resolver = StubResolver({"media.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    trusting = httpx.Client(verify=ssl.create_default_context(cafile=str(tls_files[1])))
    port = https_server.port

    with trusting:
        got = fetch_url(
            f"https://media.test:{port}/echo-host", LOCAL, client=trusting, resolver=resolver
        )
        with pytest.raises(FetchFailed):  # the certificate is not valid for other.test
            fetch_url(f"https://other.test:{port}/", LOCAL, client=trusting, resolver=resolver)
    with pytest.raises(FetchFailed):  # nor trusted by the default client
        fetch_url(f"https://media.test:{port}/", LOCAL, resolver=resolver)

    assert got.data == f"media.test:{port}".encode()


def test_default_resolver_uses_getaddrinfo(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 80, 0, 0)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)

    assert system_resolver("localhost", 80) == [TEST_SERVER, ipaddress.ip_address("::1")]
    with pytest.raises(UrlBlocked, match="loopback"):
        fetch_url("http://localhost/", GUARDED, client=unreachable_client())


def test_unresolvable_host_fails() -> None:
    with pytest.raises(FetchFailed, match="resolve"):
        fetch_url("http://nowhere.test/", GUARDED, resolver=StubResolver())


def test_slow_resolver_times_out(elapsed: Callable[[], float]) -> None:
    def hanging(host: str, port: int) -> list[IPAddress]:
        threading.Event().wait(1.0)
        return [PUBLIC]

    policy = FetchPolicy(max_bytes=1000, timeout_seconds=0.2)
    with pytest.raises(FetchTimeout):
        fetch_url("http://slow-dns.test/", policy, resolver=hanging, client=unreachable_client())
    assert elapsed() < 0.8


# --- refusals by the default rules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://localhost/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://100.64.0.1/", "shared"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://255.255.255.255/", "reserved"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fc00::1]/", "unique local"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://017700000001/", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "IPv4-mapped"),
        ("http://[::ffff:a9fe:a9fe]/", "IPv4-mapped"),
        ("http://[::127.0.0.1]/", "IPv4-compatible"),
        ("http://[64:ff9b::a9fe:a9fe]/", "NAT64"),
        ("http://[2002:7f00:1::]/", "6to4"),
        ("http://[2001:db8::1]/", "documentation"),
        ("ftp://example.com/file", "http and https"),
        ("file:///etc/passwd", "http and https"),
        ("javascript:alert(1)", "http and https"),
        ("data:text/plain,hi", "http and https"),
        ("http://user:pass@example.com/", "credentials"),
        ("https://token@example.com/", "credentials"),
        ("http://" + "a" * 2050 + ".com/", "longer than"),
        ("http:///path", "no host"),
        ("http://", "no host"),
        ("http://[::1/", "malformed"),
        ("http://exa mple.com/", "host name"),
        ("http://a!b.com/", "host name"),
        ("http://☃.com/", "malformed"),  # not valid IDNA
        ("http://1.2.3.4.5/", "IPv4"),
        ("http://example.0x1/", "IPv4"),
        ("http://example.com:99999/", "port"),
        ("http://[fe80::1%25eth0]/", "zone"),
        ("http://exa\nmple.com/", "control"),
    ],
)
def test_default_policy_refuses_before_connecting(url: str, reason: str) -> None:
    resolver = StubResolver({"localhost": ["127.0.0.1", "::1"], "example.com": ["93.184.215.14"]})

    with pytest.raises(UrlBlocked, match=reason) as caught:
        fetch_url(url, GUARDED, resolver=resolver, client=unreachable_client())

    assert caught.value.code == "url_blocked"


def test_refusal_of_a_name_does_not_reveal_its_address() -> None:
    resolver = StubResolver({"db.internal.test": ["10.20.30.40"]})

    with pytest.raises(UrlBlocked) as caught:
        fetch_url("http://db.internal.test/", GUARDED, resolver=resolver)

    assert "10.20.30.40" not in str(caught.value.to_dict())


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


def test_idna_host_is_resolved_in_ascii() -> None:
    resolver = StubResolver({"xn--bcher-kva.de": ["10.0.0.1"]})

    with pytest.raises(UrlBlocked):
        fetch_url("http://bücher.de/", GUARDED, resolver=resolver)

    assert resolver.calls == ["xn--bcher-kva.de"]
    assert parse_target("http://bücher.de/x").url == httpx.URL("http://xn--bcher-kva.de/x")


# --- limits and failures ----------------------------------------------------------------------


def test_declared_length_over_the_limit_is_refused_unread(
    http_server: LoopbackServer, elapsed: Callable[[], float]
) -> None:
    policy = FetchPolicy(max_bytes=1000, allow_private=True)

    with pytest.raises(FetchTooLarge) as caught:
        fetch_url(http_server.url("/declared-huge"), policy)

    assert caught.value.context["max_bytes"] == 1000
    assert elapsed() < 1


def test_streamed_body_over_the_limit_is_cut_off(http_server: LoopbackServer) -> None:
    policy = FetchPolicy(max_bytes=100_000, allow_private=True)

    with pytest.raises(FetchTooLarge):
        fetch_url(http_server.url("/endless-chunks"), policy)


@pytest.mark.parametrize(("size", "fits"), [(1000, True), (1001, False)])
def test_limit_is_inclusive(http_server: LoopbackServer, size: int, fits: bool) -> None:
    policy = FetchPolicy(max_bytes=1000, allow_private=True)
    url = http_server.url(f"/exact?size={size}")

    if fits:
        assert len(fetch_url(url, policy).data) == size
    else:
        with pytest.raises(FetchTooLarge):
            fetch_url(url, policy)


def test_gzip_body_is_decoded(http_server: LoopbackServer) -> None:
    assert fetch_url(http_server.url("/gzip"), LOCAL).data == http_server.gzipped_text


def test_gzip_bomb_is_cut_off_while_inflating(http_server: LoopbackServer) -> None:
    policy = FetchPolicy(max_bytes=http_server.bomb_size // 8, allow_private=True)

    with pytest.raises(FetchTooLarge):
        fetch_url(http_server.url("/gzip-bomb"), policy)


def test_unrequested_encoding_fails(http_server: LoopbackServer) -> None:
    with pytest.raises(FetchFailed, match="Content-Encoding"):
        fetch_url(http_server.url("/brotli"), LOCAL)


@pytest.mark.parametrize("path", ["/slow-headers", "/drip"])
def test_whole_fetch_has_one_deadline(
    http_server: LoopbackServer, path: str, elapsed: Callable[[], float]
) -> None:
    # /drip sends a byte every 50 ms for 2.5 s: no single read is slow, only the sum.
    policy = FetchPolicy(max_bytes=1000, timeout_seconds=0.5, allow_private=True)

    with pytest.raises(FetchTimeout) as caught:
        fetch_url(http_server.url(path), policy)

    assert caught.value.context["timeout_seconds"] == 0.5
    assert elapsed() < 1.5


@pytest.mark.parametrize("status", [404, 500])
def test_error_status_fails_with_the_status(http_server: LoopbackServer, status: int) -> None:
    with pytest.raises(FetchFailed) as caught:
        fetch_url(http_server.url(f"/status/{status}"), LOCAL)

    assert caught.value.context["status"] == status


def test_refused_connection_fails() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the fetch: nothing listens

    with pytest.raises(FetchFailed):
        fetch_url(f"http://127.0.0.1:{port}/", LOCAL)


# --- policy -----------------------------------------------------------------------------------


def test_policy_from_settings() -> None:
    configured = Settings.model_validate(
        {
            "max_upload_mb": 2,
            "fetch_timeout_seconds": 7,
            "fetch_max_redirects": 1,
            "fetch_allow_private": True,
        }
    )

    assert FetchPolicy.from_settings(configured) == FetchPolicy(
        max_bytes=2 * 1024 * 1024, timeout_seconds=7, max_redirects=1, allow_private=True
    )


@pytest.mark.parametrize(
    "limits",
    [
        {"max_bytes": 0},
        {"max_bytes": 1, "timeout_seconds": 0},
        {"max_bytes": 1, "max_redirects": -1},
    ],
)
def test_policy_rejects_nonsense_limits(limits: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid fetch policy"):
        FetchPolicy(**limits)  # type: ignore[arg-type]


# --- any input --------------------------------------------------------------------------------


def _fuzz_resolver(host: str, port: int) -> list[IPAddress]:
    outcome = len(host) % 4
    if outcome == 0:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    if outcome == 1:
        raise UnicodeError("label too long")
    return [PUBLIC] if outcome == 2 else [ipaddress.ip_address("10.0.0.1")]


_SCHEMES = st.sampled_from(["http", "https", "HTTP", "ftp", "file", "", "javascript"])
_HOSTISH = st.text(alphabet="0123456789abcdefx.:[]%@-_ü", max_size=40)
URLISH = st.one_of(
    st.text(max_size=200),
    st.builds("{}://{}{}".format, _SCHEMES, st.text(max_size=40), st.text(max_size=40)),
    st.builds("{}://{}/{}".format, _SCHEMES, _HOSTISH, st.text(max_size=20)),
    st.builds("http://{}:{}/".format, _HOSTISH, st.integers(-5, 70_000)),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(URLISH)
def test_any_string_gives_content_or_a_bastion_error(text: str) -> None:
    reached: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        reached.append(request.url.host)
        return httpx.Response(200, content=b"ok")

    with httpx.Client(transport=httpx.MockTransport(serve)) as offline:
        try:
            got = fetch_url(text, GUARDED, client=offline, resolver=_fuzz_resolver)
        except BastionError:
            pass
        else:
            assert got.data == b"ok"

    for host in reached:  # whatever got through went to a checked, public IP literal
        assert blocked_reason(ipaddress.ip_address(host)) is None
