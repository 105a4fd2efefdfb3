"""SSRF as units: storage.fetch.fetch_url with a stub resolver and the real network transport,
under a socket-level guard that allows no connection at all. Every forbidden destination is
refused before a connection is attempted (the audit hook sees every connect, in any thread)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from storage.errors import ImageRejected
from storage.fetch import fetch_url
from tests.attack.guard import (
    ConnectionGuard,
    ForbiddenLookup,
    Watch,
    nothing,
)
from tests.attack.resolvers import TABLE, StubResolver

FORBIDDEN = frozenset({"URL_FORBIDDEN"})
UNPARSABLE_OR_FORBIDDEN = frozenset({"URL_FORBIDDEN", "URL_INVALID"})

LITERAL_HOSTS = (
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.0.1",
    "100.64.0.1",
    "100.127.255.255",
    "169.254.169.254",
    "169.254.1.1",
    "0.0.0.0",
    "0.1.2.3",
    "192.0.0.8",
    "198.18.0.1",
    "224.0.0.1",
    "255.255.255.255",
    "[::1]",
    "[::]",
    "[0:0:0:0:0:0:0:1]",
    "[0000:0000:0000:0000:0000:0000:0000:0001]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:a9fe:a9fe]",
    "[::ffff:10.0.0.1]",
    "[::127.0.0.1]",
    "[64:ff9b::7f00:1]",
    "[64:ff9b:1::1]",
    "[2002:7f00:1::1]",
    "[2001::1]",
    "[fd00:ec2::254]",
    "[fe80::1]",
    "[fe80::1%25eth0]",
    "[fc00::1]",
    "[fec0::1]",
    "[ff02::1]",
    "[2001:db8::1]",
)
# Legacy IPv4 spellings that resolvers (inet_aton) accept.
NUMERIC_SPELLINGS = (
    "2130706433",
    "0x7f.1",
    "0x7f000001",
    "017700000001",
    "127.1",
    "0x7f.0.0.1",
    "0x7f.0x0.0x0.0x1",
    "3232235521",
    "2852039166",
    "0xa9fea9fe",
    "0xa9.0xfe.0xa9.0xfe",
)
# Spellings a URL parser may refuse outright (then URL_INVALID is as good).
PARSER_DEPENDENT = ("0177.0.0.1", "0300.0250.0.1", "0251.0376.0251.0376", "127.000.000.001")
REFUSED_URLS = (
    "file:///etc/passwd",
    "ftp://10.0.0.1/a.png",
    "gopher://127.0.0.1:70/_GET%20/",
    "dict://127.0.0.1:11211/stat",
    "ldap://127.0.0.1/",
    "jar:http://127.0.0.1!/a",
    "data:image/png;base64,iVBORw0KGgo=",
    "javascript:alert(1)",
    "ws://127.0.0.1/",
    "//127.0.0.1/a.png",
    "127.0.0.1/a.png",
    "http:/127.0.0.1/a.png",
    "http://",
    "http://:80/",
    "http://[::1/",
    "http://intranet.example@127.0.0.1/",
    "http://127.0.0.1:80@10.0.0.1/",
    "http://127.0.0.1%2f@10.0.0.1/",
)


@pytest.fixture
def no_connections(connection_guard: ConnectionGuard) -> Iterator[Watch]:
    with connection_guard.armed(nothing) as watch:
        yield watch


async def test_the_guard_stops_a_connection_before_the_system_call(no_connections: Watch) -> None:
    """Proof the tripwire fires on a real connect in practice: even loopback is stopped when not
    allowed, and the attempt is recorded (the hook raises before the system call)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")
    assert no_connections.refused == [("127.0.0.1", port)]


def test_the_guard_stops_name_lookups(connection_guard: ConnectionGuard) -> None:
    with connection_guard.armed(nothing) as watch, pytest.raises(ForbiddenLookup):
        connection_guard._hook("socket.getaddrinfo", ("intranet.example", 80, 0, 1, 0, 0))
    assert watch.lookups == ["intranet.example"]


async def refusal_code(url: str, resolver: StubResolver) -> str:
    with pytest.raises(ImageRejected) as caught:
        await fetch_url(url, max_bytes=1 << 20, timeout=5, resolver=resolver)
    return caught.value.code


def assert_no_connection(watch: Watch, url: str) -> None:
    assert watch.attempts == [], f"{url}: connections were attempted to {watch.attempts}"
    assert watch.lookups == [], f"{url}: the system resolver was asked for {watch.lookups}"


@pytest.mark.parametrize("host", LITERAL_HOSTS + NUMERIC_SPELLINGS)
async def test_forbidden_addresses_are_refused_before_any_connection(
    no_connections: Watch, host: str
) -> None:
    resolver = StubResolver()
    scheme = "https" if len(host) % 2 else "http"
    url = f"{scheme}://{host}:8080/latest/meta-data/"
    assert await refusal_code(url, resolver) in FORBIDDEN, url
    assert resolver.asked == [], f"{host} is an address, yet the resolver was asked"
    assert_no_connection(no_connections, url)


@pytest.mark.parametrize("host", PARSER_DEPENDENT)
async def test_octal_spellings_are_refused_before_any_connection(
    no_connections: Watch, host: str
) -> None:
    url = f"http://{host}/a.png"
    assert await refusal_code(url, StubResolver()) in UNPARSABLE_OR_FORBIDDEN, url
    assert_no_connection(no_connections, url)


SPELLINGS = (str.lower, str.upper, lambda name: name + ".")


@pytest.mark.parametrize("name", sorted(TABLE))
async def test_names_resolving_to_a_forbidden_address_are_refused(
    no_connections: Watch, name: str
) -> None:
    resolver = StubResolver()
    host = SPELLINGS[len(name) % len(SPELLINGS)](name)
    url = f"http://{host}/a.png"
    assert await refusal_code(url, resolver) in FORBIDDEN, url
    assert [asked.lower() for asked in resolver.asked] == [host.lower()], resolver.asked
    assert_no_connection(no_connections, url)


@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_other_schemes_and_malformed_urls_are_refused_without_connecting(
    no_connections: Watch, url: str
) -> None:
    code = await refusal_code(url, StubResolver())
    assert code in UNPARSABLE_OR_FORBIDDEN | {"URL_FETCH_FAILED"}, (url, code)
    assert_no_connection(no_connections, url)


async def test_a_name_that_does_not_resolve_fails_without_connecting(no_connections: Watch) -> None:
    assert await refusal_code("http://nowhere.example/a.png", StubResolver()) == "URL_FETCH_FAILED"
    assert_no_connection(no_connections, "http://nowhere.example/a.png")
