"""Posting a webhook through the guard of image fetches: vetted again at send time, pinned to the
vetted address, redirects not followed, no answer reported without the URL's secrets."""

from __future__ import annotations

import ipaddress

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from storage.errors import ImageRejected
from storage.posting import PostFailed, check_destination, post_json
from tests.storage.network import NoConnections, RecordingTransport, TableResolver
from tests.support.server import serve_asgi

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


def receiver_app(seen: list[Request]) -> Starlette:
    async def hook(request: Request) -> Response:
        seen.append(request)
        return Response(status_code=204)

    async def moved(request: Request) -> Response:
        seen.append(request)
        return RedirectResponse("/hook", status_code=307)

    return Starlette(
        routes=[Route("/hook", hook, methods=["POST"]), Route("/moved", moved, methods=["POST"])]
    )


async def test_a_post_goes_to_the_vetted_address_with_the_name_as_host() -> None:
    seen: list[Request] = []
    transport = RecordingTransport()
    async with serve_asgi(receiver_app(seen)) as url:
        port = url.rsplit(":", 1)[1]
        resolver = TableResolver({"hooks.test": ["127.0.0.1"]})
        status = await post_json(
            f"http://hooks.test:{port}/hook?token=abc",
            b'{"a":1}',
            headers={"webhook-id": "msg_1"},
            timeout=5,
            allowed_networks=LOOPBACK,
            resolver=resolver,
            transport=transport,
        )
    assert status == 204
    [request] = transport.requests
    assert request.url.host == "127.0.0.1"
    assert request.headers["host"] == f"hooks.test:{port}"
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "msg_1"
    assert seen[0].url.query == "token=abc"


async def test_a_redirect_is_an_answer_not_followed() -> None:
    seen: list[Request] = []
    async with serve_asgi(receiver_app(seen)) as url:
        status = await post_json(
            f"{url}/moved", b"{}", headers={}, timeout=5, allowed_networks=LOOPBACK
        )
    assert status == 307
    assert [request.url.path for request in seen] == ["/moved"]


async def test_a_host_that_now_resolves_privately_is_refused_before_any_connection() -> None:
    resolver = TableResolver({"hooks.test": ["10.0.0.7"]})
    with pytest.raises(PostFailed) as refused:
        await post_json(
            "https://hooks.test/hook?token=secret",
            b"{}",
            headers={},
            timeout=5,
            resolver=resolver,
            transport=NoConnections(),
        )
    assert "not a public internet address (private)" in refused.value.message
    assert "token" not in refused.value.message


async def test_no_answer_is_reported_without_the_url() -> None:
    with pytest.raises(PostFailed) as failed:
        await post_json(
            "http://127.0.0.1:9/hook?token=secret",
            b"{}",
            headers={},
            timeout=5,
            allowed_networks=LOOPBACK,
        )
    assert "secret" not in failed.value.message and "127.0.0.1" in failed.value.message


async def test_loopback_is_refused_unless_allowed() -> None:
    with pytest.raises(ImageRejected) as refused:
        await check_destination("http://127.0.0.1:8080/hook")
    assert refused.value.code == "URL_FORBIDDEN"
    assert "loopback" in refused.value.message
    await check_destination("http://127.0.0.1:8080/hook", allowed_networks=LOOPBACK)
