"""The GraphQL operations the benchmarks send, and a small client for setting things up."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from bench.waiting import poll_until_async

GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { task { id status } } }"""
UPLOAD = "mutation($image: ImageInput!) { uploadImage(image: $image) { id } }"
STATUSES = "query($id: ID!) { task(id: $id) { id status error { code message } } }"
PROGRESS = """subscription($id: ID!) { taskProgress(id: $id) {
  sequence kind status step totalSteps progress currentNode queuePosition previewUrl
  result { imageUrl width height } error { code message } } }"""
FINISHED = "{ history(first: 1, status: [COMPLETED, FAILED, CANCELLED]) { totalCount } }"
FAILURES = """{ history(first: 100, status: [FAILED, CANCELLED]) {
  edges { node { id status error { code message } } } } }"""


class GraphQLFailed(RuntimeError):
    """The service answered with errors where the benchmark needs data."""


class Service:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        body: dict[str, Any] = response.json()
        if body.get("errors") or response.status_code != 200:
            raise GraphQLFailed(f"{response.status_code}: {body.get('errors')}")
        data: dict[str, Any] = body["data"]
        return data

    async def upload_image(self, png: bytes) -> str:
        image = {"base64": base64.b64encode(png).decode()}
        return str((await self.execute(UPLOAD, image=image))["uploadImage"]["id"])

    async def generate(self, image_id: str, *, steps: int) -> str:
        request = {
            "referenceImage": {"imageId": image_id},
            "description": "make it red",
            "parameters": {"steps": steps},
        }
        data = await self.execute(GENERATE, input=request)
        return str(data["generateImage"]["task"]["id"])

    async def status(self, task_id: str) -> dict[str, Any]:
        task: dict[str, Any] = (await self.execute(STATUSES, id=task_id))["task"]
        return task

    async def finished_count(self) -> int:
        data = await self.execute(FINISHED)
        return int(data["history"]["totalCount"])

    async def wait_finished(self, expected: int, *, within: float) -> None:
        """Until `expected` tasks have ended; one small query per poll, to stay out of the way."""

        async def enough() -> bool:
            return await self.finished_count() >= expected

        await poll_until_async(enough, within=within)

    async def failures(self) -> list[dict[str, Any]]:
        data = await self.execute(FAILURES)
        return [edge["node"] for edge in data["history"]["edges"]]
