"""URL fetching as a unit: resolution answered by a table, requests answered in memory (or
forbidden), so nothing here opens a socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import httpx
import pytest

from storage.errors import ImageRejected
from storage.fetch import fetch_url
from storage.netguard import IPAddress
from tests.storage.network import NoConnections, TableResolver
from tests.support.images import encoded

PUBLIC_IP = "93.184.216.34"
PICTURE = encoded(8, 8)
RESOLVER_TABLE = {
    "localhost": ["127.0.0.1", "::1"],
    "intranet.example": ["10.1.2.3"],
    "metadata.example": ["169.254.169.254"],
    "mixed.example": [PUBLIC_IP, "192.168.0.10"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "images.example": [PUBLIC_IP],
}


async def refused(url: str, resolver: TableResolver | None = None) -> tuple[str, NoConnections]:
    transport = NoConnections()
    with pytest.raises(ImageRejected) as caught:
        await fetch_url(
            url,
            max_bytes=1024 * 1024,
            timeout=5,
            resolver=resolver or TableResolver(RESOLVER_TABLE),
            transport=transport,
        )
    assert transport.attempts == []
    return caught.value.code, transport


FORBIDDEN_URLS = [
    "http://127.0.0.1/a.png",
    "http://localhost/a.png",
    "http://[::1]/a.png",
    "http://10.0.0.1/a.png",
    "http://169.254.169.254/latest/meta-data",
    "http://[::ffff:127.0.0.1]/a.png",
    "http://[::ffff:a9fe:a9fe]/latest/meta-data",
    "http://[fd00:ec2::254]/latest/meta-data",
    "http://0.0.0.0:8188/view",
    "http://2130706433/a.png",
    "http://0x7f.1/a.png",
    "http://127.1:8080/a.png",
    "http://100.100.100.200/a.png",
    "https://[fe80::1]/a.png",
    "http://224.0.0.1/a.png",
    "http://intranet.example/a.png",
    "http://metadata.example/latest/meta-data",
    "https://mixed.example/a.png",
    "http://mapped.example/a.png",
    "file:///etc/passwd",
    "ftp://example.com/a.png",
    "gopher://example.com/",
    "javascript:alert(1)",
    "example.com/a.png",
]


@pytest.mark.parametrize("url", FORBIDDEN_URLS)
async def test_forbidden_url_is_refused_without_any_connection(url: str) -> None:
    code, _ = await refused(url)
    assert code == "URL_FORBIDDEN"


async def test_refusal_message_names_host_and_kind_but_not_the_address() -> None:
    with pytest.raises(ImageRejected) as caught:
        await fetch_url(
            "http://intranet.example/a.png",
            max_bytes=1024,
            timeout=5,
            resolver=TableResolver(RESOLVER_TABLE),
            transport=NoConnections(),
        )
    assert "intranet.example" in caught.value.message and "private" in caught.value.message
    assert "10.1.2.3" not in caught.value.message


async def test_scheme_refusal_names_the_scheme() -> None:
    with pytest.raises(ImageRejected) as caught:
        await fetch_url("file:///etc/passwd", max_bytes=1, timeout=1, transport=NoConnections())
    assert "'file:'" in caught.value.message


async def test_ip_literals_are_not_sent_to_the_resolver() -> None:
    resolver = TableResolver()
    await refused("http://127.0.0.1/a.png", resolver)
    assert resolver.asked == []


async def test_unknown_host_fails_without_connecting() -> None:
    code, _ = await refused("http://nowhere.example/a.png")
    assert code == "URL_FETCH_FAILED"


async def test_malformed_url_is_invalid() -> None:
    code, _ = await refused("http://[not-an-address]/a.png")
    assert code == "URL_INVALID"


Handler = Callable[[httpx.Request], httpx.Response]


class InMemory(httpx.MockTransport):
    """httpx's in-memory transport, keeping the requests it answered."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return handler(request)

        super().__init__(record)


async def fetch(url: str, transport: httpx.AsyncBaseTransport, **options: object) -> bytes:
    settings: dict[str, object] = {
        "max_bytes": 1024 * 1024,
        "timeout": 5,
        "resolver": TableResolver(RESOLVER_TABLE),
    }
    settings.update(options)
    return await fetch_url(url, transport=transport, **settings)  # type: ignore[arg-type]


async def test_https_request_goes_to_the_vetted_address_with_name_in_host_and_sni() -> None:
    transport = InMemory(lambda request: httpx.Response(200, content=PICTURE))
    assert await fetch("https://images.example:8443/a.png?size=1", transport) == PICTURE
    [request] = transport.requests
    assert (request.url.host, request.url.port, request.url.scheme) == (PUBLIC_IP, 8443, "https")
    assert request.url.raw_path == b"/a.png?size=1"
    assert request.headers["host"] == "images.example:8443"
    assert request.extensions["sni_hostname"] == "images.example"
    assert request.headers["accept-encoding"] == "identity"


async def test_a_second_dns_answer_cannot_redirect_the_connection() -> None:
    class Rebinding(TableResolver):
        async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
            answer = [PUBLIC_IP] if not self.asked else ["127.0.0.1"]
            self.asked.append(host)
            return await TableResolver({host: answer}).resolve(host, port)

    transport = InMemory(lambda request: httpx.Response(200, content=PICTURE))
    await fetch("http://images.example/a.png", transport, resolver=Rebinding())
    assert [r.url.host for r in transport.requests] == [PUBLIC_IP]


async def test_redirect_to_a_private_address_is_refused_before_following_it() -> None:
    transport = InMemory(
        lambda request: httpx.Response(302, headers={"Location": "http://10.0.0.1/secret"})
    )
    with pytest.raises(ImageRejected) as caught:
        await fetch("http://images.example/a.png", transport)
    assert caught.value.code == "URL_FORBIDDEN"
    assert [r.url.host for r in transport.requests] == [PUBLIC_IP]


async def test_redirect_to_another_scheme_is_refused() -> None:
    transport = InMemory(
        lambda request: httpx.Response(301, headers={"Location": "file:///etc/passwd"})
    )
    with pytest.raises(ImageRejected) as caught:
        await fetch("http://images.example/a.png", transport)
    assert caught.value.code == "URL_FORBIDDEN"


async def test_relative_redirect_is_followed_and_revetted() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old.png":
            return httpx.Response(307, headers={"Location": "/new.png"})
        return httpx.Response(200, content=PICTURE)

    transport = InMemory(answer)
    assert await fetch("http://images.example/old.png", transport) == PICTURE
    assert [r.url.path for r in transport.requests] == ["/old.png", "/new.png"]


async def test_too_many_redirects_fail_after_the_allowed_number() -> None:
    transport = InMemory(lambda request: httpx.Response(302, headers={"Location": "/again"}))
    with pytest.raises(ImageRejected) as caught:
        await fetch("http://images.example/a.png", transport, max_redirects=2)
    assert caught.value.code == "URL_FETCH_FAILED"
    assert "2 times" in caught.value.message
    assert len(transport.requests) == 3


@pytest.mark.parametrize(
    ("response", "code"),
    [
        (httpx.Response(404), "URL_FETCH_FAILED"),
        (httpx.Response(500, content=b"oops"), "URL_FETCH_FAILED"),
        (httpx.Response(302), "URL_FETCH_FAILED"),
        (
            httpx.Response(200, content=b"x", headers={"Content-Encoding": "gzip"}),
            "URL_FETCH_FAILED",
        ),
        (httpx.Response(200, content=b"x" * 2048), "IMAGE_TOO_LARGE"),
    ],
    ids=["404", "500", "redirect-without-location", "compressed", "over-cap"],
)
async def test_unusable_answers_are_refused(response: httpx.Response, code: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        await fetch("http://images.example/a.png", InMemory(lambda r: response), max_bytes=1024)
    assert caught.value.code == code


async def test_next_vetted_address_is_tried_when_one_cannot_be_reached() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "2001:4860:4860::8888":
            raise httpx.ConnectError("unreachable", request=request)
        return httpx.Response(200, content=PICTURE)

    transport = InMemory(answer)
    resolver = TableResolver({"dual.example": ["2001:4860:4860::8888", PUBLIC_IP]})
    assert await fetch("http://dual.example/a.png", transport, resolver=resolver) == PICTURE
    assert [r.url.host for r in transport.requests] == ["2001:4860:4860::8888", PUBLIC_IP]


async def test_overall_timeout_ends_a_stalled_fetch() -> None:
    class Stalled(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await asyncio.sleep(30)
            raise AssertionError("the timeout did not fire")

    with pytest.raises(ImageRejected) as caught:
        await fetch("http://images.example/a.png", Stalled(), timeout=0.05)
    assert caught.value.code == "URL_FETCH_FAILED"
    assert "0.05 seconds" in caught.value.message
