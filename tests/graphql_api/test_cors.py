"""Cross-origin access is off by default; a refused browser preflight gets a clear 403."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from graphql_api.app import create_app
from graphql_api.settings import Settings
from tests.support.server import serve_asgi

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


@pytest.fixture
async def open_to_one(settings: Settings) -> AsyncIterator[str]:
    allowed = dataclasses.replace(settings, cors_origins=("http://localhost:5173",))
    async with serve_asgi(create_app(allowed)) as url:
        yield url


async def test_a_preflight_with_cors_off_is_refused_with_403_saying_how_to_allow_it(
    app_url: str,
) -> None:
    async with httpx.AsyncClient(base_url=app_url) as http:
        response = await http.options(
            "/graphql", headers={"Origin": "http://localhost:5173", **PREFLIGHT}
        )
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "CORS_ORIGIN_REFUSED"
    assert "KONTEXT_CORS_ORIGINS" in error["message"]


async def test_an_origin_not_listed_is_refused_and_a_listed_one_allowed(open_to_one: str) -> None:
    async with httpx.AsyncClient(base_url=open_to_one) as http:
        refused = await http.options(
            "/graphql", headers={"Origin": "http://evil.test", **PREFLIGHT}
        )
        allowed = await http.options(
            "/graphql", headers={"Origin": "http://localhost:5173", **PREFLIGHT}
        )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "CORS_ORIGIN_REFUSED"
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
