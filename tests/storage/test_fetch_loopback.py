"""URL fetching end to end against a real HTTP server on 127.0.0.1, exempted for the test."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from storage.errors import ImageRejected
from storage.fetch import fetch_url
from tests.storage.network import RecordingTransport, TableResolver
from tests.support.images import encoded
from tests.support.server import serve_asgi

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]
PICTURE = encoded(40, 30)


@dataclass
class ImageServer:
    url: str
    hosts_seen: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)


def image_app(server: ImageServer) -> Starlette:
    async def picture(request: Request) -> Response:
        server.hosts_seen.append(request.headers["host"])
        return Response(PICTURE, media_type="image/png")

    async def redirect(request: Request) -> Response:
        return RedirectResponse(request.query_params.get("to", "/redirect"), status_code=302)

    async def endless(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(64):  # 4 MiB, far past any cap under test, with no declared length
                if await request.is_disconnected():
                    return
                yield b"\x00" * 65536

        return StreamingResponse(chunks(), media_type="image/png")

    async def slow(request: Request) -> Response:
        await asyncio.wait_for(server.release.wait(), timeout=10)
        return Response(PICTURE)

    return Starlette(
        routes=[
            Route("/picture.png", picture),
            Route("/redirect", redirect),
            Route("/endless", endless),
            Route("/big.png", lambda request: Response(b"\x00" * 5000)),
            Route("/slow", slow),
        ]
    )


@pytest.fixture
async def server() -> AsyncIterator[ImageServer]:
    state = ImageServer(url="")
    async with serve_asgi(image_app(state)) as url:
        state.url = url
        yield state
        state.release.set()


async def fetch(url: str, **options: object) -> bytes:
    settings: dict[str, object] = {
        "max_bytes": 1024 * 1024,
        "timeout": 5,
        "allowed_networks": LOOPBACK,
    }
    settings.update(options)
    return await fetch_url(url, **settings)  # type: ignore[arg-type]


async def refusal(url: str, **options: object) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        await fetch(url, **options)
    return caught.value


async def test_image_is_downloaded_from_an_allowed_loopback_server(server: ImageServer) -> None:
    assert await fetch(f"{server.url}/picture.png") == PICTURE


async def test_loopback_is_refused_unless_explicitly_allowed(server: ImageServer) -> None:
    rejected = await refusal(f"{server.url}/picture.png", allowed_networks=())
    assert rejected.code == "URL_FORBIDDEN"
    assert server.hosts_seen == []


async def test_name_is_resolved_once_and_sent_as_the_host_header(server: ImageServer) -> None:
    port = server.url.rsplit(":", 1)[1]
    resolver = TableResolver({"images.test": ["127.0.0.1"]})
    data = await fetch(f"http://images.test:{port}/picture.png", resolver=resolver)
    assert data == PICTURE
    assert server.hosts_seen == [f"images.test:{port}"]
    assert resolver.asked == ["images.test"]


@pytest.mark.parametrize(
    "target",
    ["http://10.0.0.1/a.png", "http://169.254.169.254/latest/meta-data", "http://[::1]/a.png"],
)
async def test_redirect_from_the_allowed_server_to_a_forbidden_address_is_refused(
    server: ImageServer, target: str
) -> None:
    transport = RecordingTransport()
    rejected = await refusal(f"{server.url}/redirect?to={target}", transport=transport)
    assert rejected.code == "URL_FORBIDDEN"
    assert [request.url.host for request in transport.requests] == ["127.0.0.1"]


async def test_redirect_within_the_allowed_server_is_followed(server: ImageServer) -> None:
    assert await fetch(f"{server.url}/redirect?to=/picture.png") == PICTURE


async def test_redirect_loop_ends_as_a_fetch_failure(server: ImageServer) -> None:
    loop = f"{server.url}/redirect"
    transport = RecordingTransport()
    rejected = await refusal(loop, max_redirects=3, transport=transport)
    assert rejected.code == "URL_FETCH_FAILED"
    assert len(transport.requests) == 4


async def test_endless_body_is_cut_at_the_byte_cap(server: ImageServer) -> None:
    rejected = await refusal(f"{server.url}/endless", max_bytes=200_000)
    assert rejected.code == "IMAGE_TOO_LARGE"
    assert "195.3 KB" in rejected.message


async def test_declared_length_over_the_cap_is_refused_before_reading(server: ImageServer) -> None:
    rejected = await refusal(f"{server.url}/big.png", max_bytes=1000)
    assert rejected.code == "IMAGE_TOO_LARGE"
    assert "5000 bytes" in rejected.message or "4.9 KB" in rejected.message


async def test_missing_image_is_a_fetch_failure_naming_the_status(server: ImageServer) -> None:
    rejected = await refusal(f"{server.url}/missing.png")
    assert rejected.code == "URL_FETCH_FAILED"
    assert "404" in rejected.message


async def test_slow_server_is_abandoned_at_the_timeout(server: ImageServer) -> None:
    rejected = await refusal(f"{server.url}/slow", timeout=0.2)
    assert rejected.code == "URL_FETCH_FAILED"
    assert "0.2 seconds" in rejected.message


async def test_closed_port_is_a_fetch_failure() -> None:
    rejected = await refusal("http://127.0.0.1:9/a.png")
    assert rejected.code == "URL_FETCH_FAILED"
