"""Redirects from an allowed loopback server (exempted through allowed_networks) to forbidden
destinations, and a name that rebinds between hops. The only connection ever allowed is to that
one server; everything else is refused before a socket connects."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from storage.errors import ImageRejected
from storage.fetch import fetch_url
from tests.attack.guard import ConnectionGuard, Watch
from tests.attack.pictures import picture
from tests.attack.resolvers import StubResolver
from tests.support.server import serve_asgi

ALLOWED = [ipaddress.ip_network("127.0.0.1/32")]


@dataclass
class Redirector:
    url: str = ""
    port: int = 0
    seen: list[str] = field(default_factory=list)


def redirector_app(state: Redirector) -> Starlette:
    async def redirect(request: Request) -> Response:
        state.seen.append(request.url.path)
        return RedirectResponse(request.query_params["to"], status_code=302)

    async def image(request: Request) -> Response:
        state.seen.append(request.url.path)
        return Response(picture(4, 4, "PNG"), media_type="image/png")

    return Starlette(routes=[Route("/redirect", redirect), Route("/picture.png", image)])


@pytest.fixture
async def redirector() -> AsyncIterator[Redirector]:
    state = Redirector()
    async with serve_asgi(redirector_app(state)) as url:
        state.url, state.port = url, int(url.rsplit(":", 1)[1])
        yield state


@pytest.fixture
def only_the_server(connection_guard: ConnectionGuard, redirector: Redirector) -> Iterator[Watch]:
    def the_server(host: str, port: int) -> bool:
        return host == "127.0.0.1" and port == redirector.port

    with connection_guard.armed(the_server) as watch:
        yield watch


def forbidden_targets(port: int) -> list[str]:
    return [
        f"http://127.0.0.2:{port}/picture.png",
        f"http://2130706434:{port}/picture.png",
        f"http://0x7f.2:{port}/picture.png",
        f"http://[::1]:{port}/picture.png",
        f"http://[::ffff:127.0.0.2]:{port}/picture.png",
        "http://10.0.0.1/a.png",
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.64.0.1/",
        "http://intranet.example/a.png",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://public-then-private.example/a.png",
        "http://user:pass@10.0.0.1/a.png",
        "//10.0.0.1/a.png",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/_x",
    ]


async def fetch(url: str, resolver: StubResolver) -> bytes:
    return await fetch_url(
        url, max_bytes=1 << 20, timeout=5, resolver=resolver, allowed_networks=ALLOWED
    )


async def test_the_allowed_server_is_reachable(
    redirector: Redirector, only_the_server: Watch
) -> None:
    data = await fetch(f"{redirector.url}/redirect?to=/picture.png", StubResolver())
    assert data.startswith(b"\x89PNG")
    assert redirector.seen == ["/redirect", "/picture.png"]


async def test_redirects_to_forbidden_destinations_are_refused_before_connecting(
    redirector: Redirector, only_the_server: Watch
) -> None:
    for target in forbidden_targets(redirector.port):
        redirector.seen.clear()
        with pytest.raises(ImageRejected) as caught:
            await fetch(f"{redirector.url}/redirect?to={target}", StubResolver())
        assert caught.value.code == "URL_FORBIDDEN", (target, caught.value.message)
        assert redirector.seen == ["/redirect"], (target, redirector.seen)
    assert only_the_server.refused == [], f"connections attempted: {only_the_server.refused}"
    assert set(only_the_server.attempts) == {("127.0.0.1", redirector.port)}


async def test_a_name_that_rebinds_between_hops_is_checked_again(
    redirector: Redirector, only_the_server: Watch
) -> None:
    resolver = StubResolver({"rebind.example": [["127.0.0.1"], ["10.0.0.1"]]})
    url = f"http://rebind.example:{redirector.port}/redirect?to=/picture.png"
    with pytest.raises(ImageRejected) as caught:
        await fetch(url, resolver)
    assert caught.value.code == "URL_FORBIDDEN", caught.value.message
    assert resolver.asked == ["rebind.example", "rebind.example"]
    assert redirector.seen == ["/redirect"]
    assert only_the_server.refused == []
