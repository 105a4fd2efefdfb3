"""A small GraphQL-over-HTTP client for tests, speaking JSON and the multipart request spec."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from tasks.api_keys import create_key


@dataclass
class GraphQLResponse:
    status: int
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or [])

    @property
    def codes(self) -> list[str]:
        return [error.get("extensions", {}).get("code") for error in self.errors]

    def ok(self) -> Any:
        assert not self.errors, self.errors
        return self.data


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, path: str = "/graphql") -> None:
        self.http = http
        self.path = path

    async def execute(self, query: str, **variables: Any) -> GraphQLResponse:
        response = await self.http.post(self.path, json={"query": query, "variables": variables})
        return GraphQLResponse(response.status_code, response.json())

    async def upload(
        self,
        query: str,
        variables: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]],
        *,
        preflight: bool = True,
    ) -> GraphQLResponse:
        """`files` maps a variable path (e.g. "variables.input.referenceImage.upload") to a file."""
        operations = json.dumps({"query": query, "variables": variables})
        mapping = {str(i): [path] for i, path in enumerate(files)}
        parts = {str(i): file for i, file in enumerate(files.values())}
        headers = {"Apollo-Require-Preflight": "true"} if preflight else {}
        response = await self.http.post(
            self.path,
            data={"operations": operations, "map": json.dumps(mapping)},
            files=parts,
            headers=headers,
        )
        return GraphQLResponse(response.status_code, response.json())


async def client_with_key(url: str, owner: str) -> GraphQLClient:
    """A client of the service at `url` sending a new API key of `owner`."""
    key = await create_key(owner)
    http = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key.token}"})
    return GraphQLClient(http)
