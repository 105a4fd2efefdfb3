"""Fixtures shared by the API tests: the service with API keys required."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tests.support.server import serve_asgi


@pytest.fixture
async def secured_url(settings: Settings, database: Database) -> AsyncIterator[str]:
    """The service on loopback with API keys required (KONTEXT_AUTH=on)."""
    async with serve_asgi(create_app(dataclasses.replace(settings, auth="on"))) as url:
        yield url
