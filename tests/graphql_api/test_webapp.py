from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from graphql_api.app import create_app
from graphql_api.settings import Settings
from graphql_api.webapp import BUILD_COMMAND
from tests.support.server import serve_asgi

INDEX = '<!doctype html><div id="root"></div><script type="module" src="/assets/index-1a2b3c.js">'
SCRIPT = "console.log('kontext')"


def build(dist: Path) -> None:
    """A hand-made build shaped like Vite's output."""
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-1a2b3c.js").write_text(SCRIPT)
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")


@pytest.fixture
async def web(settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    build(tmp_path / "dist")
    served = dataclasses.replace(settings, web_dist=tmp_path / "dist")
    async with serve_asgi(create_app(served)) as url, httpx.AsyncClient(base_url=url) as http:
        yield http


async def test_the_app_is_served_at_the_root_and_its_hashed_assets_are_cached_for_good(
    web: httpx.AsyncClient,
) -> None:
    page = await web.get("/")
    assert page.status_code == 200 and page.text == INDEX
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["x-content-type-options"] == "nosniff"
    script = await web.get("/assets/index-1a2b3c.js")
    assert script.status_code == 200 and script.text == SCRIPT
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    icon = await web.get("/favicon.svg")
    assert icon.status_code == 200 and icon.headers["cache-control"] == "no-cache"
    again = await web.get("/", headers={"if-none-match": page.headers["etag"]})
    assert again.status_code == 304
    head = await web.head("/assets/index-1a2b3c.js")
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize("path", ["/history", "/tasks/5f0e/compare", "/index.html", "/presets/"])
async def test_client_routes_get_the_app_page(web: httpx.AsyncClient, path: str) -> None:
    page = await web.get(path)
    assert page.status_code == 200 and page.text == INDEX
    assert page.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/assets/index-gone.js",  # an asset of an older build: not the page, with a JS type
        "/assets",
        "/logo.png",
        "/graphql/nope",
        "/files",
        "/metrics/x",
        "/healthz/deep",
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
    ],
)
async def test_api_paths_missing_files_and_escapes_are_404(
    web: httpx.AsyncClient, path: str
) -> None:
    response = await web.get(path)
    assert response.status_code == 404, (path, response.text)
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_the_api_keeps_its_routes_beside_the_app(web: httpx.AsyncClient) -> None:
    answer = await web.post("/graphql", json={"query": "{ workflows { name } }"})
    assert answer.status_code == 200 and answer.json()["data"]["workflows"]
    assert (await web.get("/healthz")).status_code == 200
    assert (await web.get("/metrics")).status_code == 200
    assert (await web.post("/history", content=b"")).status_code == 405


async def test_without_a_build_the_page_says_how_to_make_one_and_the_api_runs(
    settings: Settings,
) -> None:
    assert not settings.web_dist.exists()
    async with serve_asgi(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        for path in ("/", "/history"):
            page = await http.get(path)
            assert page.status_code == 503
            assert page.headers["content-type"].startswith("text/html")
            assert BUILD_COMMAND in page.text and "./scripts/serve" in page.text
            assert str(settings.web_dist) in page.text
        assert (await http.get("/assets/index-1a2b3c.js")).status_code == 404
        answer = await http.post("/graphql", json={"query": "{ workflows { name } }"})
        assert answer.json()["data"]["workflows"]


async def test_a_build_made_while_the_service_runs_is_served(
    settings: Settings, tmp_path: Path
) -> None:
    dist = tmp_path / "later"
    served = dataclasses.replace(settings, web_dist=dist)
    async with serve_asgi(create_app(served)) as url, httpx.AsyncClient(base_url=url) as http:
        assert (await http.get("/")).status_code == 503
        build(dist)
        page = await http.get("/")
        assert page.status_code == 200 and page.text == INDEX


def test_the_default_is_the_checkouts_web_dist() -> None:
    assert Settings().web_dist == Path("web/dist")
    assert Settings.from_env({"KONTEXT_WEB_DIST": "/srv/web"}).web_dist == Path("/srv/web")
