from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tests.storage.s3_server import S3Server, running_s3_server
from tests.support.databases import (
    chosen_database,
    database_url_for,
    prepare_database,
    reset_postgres,
)
from tests.support.graphql import GraphQLClient
from tests.support.server import serve_asgi

DATABASE_FIXTURES = {"database", "database_url", "settings", "app_url", "api"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    on_sqlite = chosen_database() == "sqlite"
    needs_postgres = pytest.mark.skip(
        reason="needs PostgreSQL: set KONTEXT_TEST_DATABASE_URL (scripts/test runs it that way)"
    )
    for item in items:
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.database)
        if on_sqlite and item.get_closest_marker("postgres_only"):
            item.add_marker(needs_postgres)


@pytest.fixture(scope="session", autouse=True)
def fresh_postgres_schema() -> None:
    chosen = chosen_database()
    if chosen != "sqlite":
        asyncio.run(reset_postgres(chosen))


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    url = database_url_for(tmp_path)
    await prepare_database(url)
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    async with Database(database_url) as db:
        with db.bound():
            yield db


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        storage_dir=tmp_path / "files",
        web_dist=tmp_path / "web-dist",  # not built: tests that serve the app make their own
        dispatch=False,
        submit_rate_per_minute=100_000,
        submit_burst=1_000,
        max_unfinished_per_owner=1_000,
        migrate_on_start=False,
    )


@pytest.fixture
async def app_url(settings: Settings) -> AsyncIterator[str]:
    async with serve_asgi(create_app(settings)) as url:
        yield url


@pytest.fixture
async def api(app_url: str, database: Database) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=app_url, timeout=30) as http:
        yield GraphQLClient(http)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A moto S3 server on loopback, one per test module that asks for it."""
    with running_s3_server(tmp_path_factory.mktemp("s3") / "moto.log") as server:
        yield server
