"""The access log's lines (end to end with `kontext serve`: tests/cli/test_serve_command.py)."""

from __future__ import annotations

import dataclasses
import logging

import httpx
import pytest

from graphql_api.access_log import logged_path
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tests.support.graphql_ws import graphql_ws
from tests.support.server import serve_asgi


def test_image_keys_and_long_paths_are_cut() -> None:
    assert logged_path("/files/outputs/abc/0123456789abcdef.png") == "/files/…"
    assert logged_path("/graphql") == "/graphql"
    assert len(logged_path("/" + "x" * 1000)) == 201


def access_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, int]]:
    return [
        (r.method, r.path, r.status)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "kontext.access"
    ]


async def test_one_line_per_request_and_per_websocket(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kontext.access")
    async with serve_asgi(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            await http.get("/healthz?secret=1")
            await http.post("/graphql", json={"query": "{ __typename }"})
        async with graphql_ws(url):
            pass
    assert access_lines(caplog) == [
        ("GET", "/healthz", 200),
        ("POST", "/graphql", 200),
        ("WEBSOCKET", "/graphql", 101),
    ]
    assert "secret" not in caplog.text


async def test_it_can_be_turned_off(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kontext.access")
    quiet = dataclasses.replace(settings, access_log=False)
    async with serve_asgi(create_app(quiet)) as url, httpx.AsyncClient(base_url=url) as http:
        await http.get("/healthz")
    assert access_lines(caplog) == []
