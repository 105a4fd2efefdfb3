"""GraphiQL is served from the service's own files: the page names nothing on another origin,
says so in its Content-Security-Policy, and opens with the example operation. (The page in a
real browser: tests/clients/graphiql.test.mjs, run by scripts/test-clients.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from graphql_api import graphiql

HTML = {"Accept": "text/html"}


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stand-ins for the files scripts/build-graphiql copies from npm (not built in this run)."""
    files = {}
    for name, (folder, content_type) in graphiql.FILES.items():
        if folder == graphiql.BUILT:
            (tmp_path / name).write_text(f"/* {name} */")
            files[name] = (tmp_path, content_type)
        else:
            files[name] = (folder, content_type)
    monkeypatch.setattr(graphiql, "FILES", files)
    return tmp_path


async def test_the_page_loads_only_its_own_files_and_opens_with_the_example(
    app_url: str, built: Path
) -> None:
    async with httpx.AsyncClient(base_url=app_url) as http:
        page = await http.get("/graphql", headers=HTML)
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        addresses = re.findall(r'(?:src|href)="([^"]*)"', page.text)
        assert addresses and all(a.startswith("/graphiql/") or a == "data:," for a in addresses)
        assert "unpkg" not in page.text and "cdn" not in page.text.lower()
        config = json.loads(
            re.search(r'id="kontext-graphiql">(.*?)</script>', page.text, re.S).group(1)  # type: ignore[union-attr]
        )
        assert "mutation Generate($input: GenerateImageInput!)" in config["query"]
        assert "subscription Progress($id: ID!)" in config["query"]
        variables = json.loads(config["variables"])
        assert variables["input"]["referenceImage"]["base64"] == graphiql.TINY_CAR_PNG
        for address in addresses[1:]:
            asset = await http.get(address)
            assert asset.status_code == 200, address
        start = await http.get("/graphiql/start.js")
        assert "graphqlWs.createClient" in start.text
        assert start.headers["content-type"].startswith("text/javascript")


async def test_the_example_mutation_runs_as_it_opens(app_url: str, api: object) -> None:
    variables = graphiql.EXAMPLE_VARIABLES
    async with httpx.AsyncClient(base_url=app_url) as http:
        response = await http.post(
            "/graphql",
            json={
                "query": graphiql.EXAMPLE_DOCUMENT,
                "operationName": "Generate",
                "variables": variables,
            },
        )
    payload = response.json()["data"]["generateImage"]
    assert payload["task"]["status"] == "PENDING"


async def test_only_graphiql_files_are_served_under_its_route(app_url: str, built: Path) -> None:
    async with httpx.AsyncClient(base_url=app_url) as http:
        for name in ("package.json", "..%2Fsettings.py", "graphiql.min.js.map"):
            response = await http.get(f"/graphiql/{name}")
            assert response.status_code == 404, name
            assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_without_the_built_files_the_page_says_how_to_build_them(
    app_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {name: (tmp_path, kind) for name, (_folder, kind) in graphiql.FILES.items()}
    monkeypatch.setattr(graphiql, "FILES", files)
    async with httpx.AsyncClient(base_url=app_url) as http:
        page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert "scripts/build-graphiql" in page.text
    assert "<script" not in page.text
