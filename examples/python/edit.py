"""Edit examples/car.jpg from Python: upload it, follow the task live, then page the history.

    .venv/bin/python examples/python/edit.py [IMAGE]

Needs httpx and websockets (both in the project's .venv). KONTEXT_URL picks the server
(default http://127.0.0.1:8000); KONTEXT_API_KEY, when set, is sent as `Authorization: Bearer`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

URL = os.environ.get("KONTEXT_URL", "http://127.0.0.1:8000").rstrip("/")
KEY = os.environ.get("KONTEXT_API_KEY", "")
AUTH = {"Authorization": f"Bearer {KEY}"} if KEY else {}

GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { message task { id status } } }"""
PROGRESS = """subscription($id: ID!) {
  taskProgress(id: $id) { sequence kind status step totalSteps progress
                          result { imageUrl width height } error { code message } } }"""
HISTORY = """query($after: String) {
  history(first: 2, after: $after) {
    totalCount edges { node { id status description } } pageInfo { hasNextPage endCursor } } }"""


async def submit(http: httpx.AsyncClient, image: Path) -> str:
    """Upload the image with the edit (GraphQL multipart request); returns the task id."""
    operations = {
        "query": GENERATE,
        "variables": {
            "input": {
                "referenceImage": {"upload": None},
                "description": "change the car to red, keep the background",
                "parameters": {"steps": 8},
            }
        },
    }
    response = await http.post(
        "/graphql",
        headers={"Apollo-Require-Preflight": "true"},  # CSRF guard on multipart requests
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.referenceImage.upload"]}),
        },
        files={"0": (image.name, image.read_bytes(), "image/jpeg")},
    )
    body = response.json()
    if "errors" in body:
        raise SystemExit(f"refused: {body['errors']}")
    payload = body["data"]["generateImage"]
    print(payload["message"], payload["task"]["id"])
    return str(payload["task"]["id"])


async def follow(task_id: str) -> dict[str, Any]:
    """Every event of the task over graphql-transport-ws, until the last one."""
    ws_url = URL.replace("http", "ws", 1) + "/graphql"
    protocol = [Subprotocol("graphql-transport-ws")]
    async with connect(ws_url, subprotocols=protocol, additional_headers=AUTH) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": AUTH}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": PROGRESS, "variables": {"id": task_id}},
                }
            )
        )
        last: dict[str, Any] = {}
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif message["type"] == "next":
                last = message["payload"]["data"]["taskProgress"]
                print(
                    f"{last['kind']:>9} {last['status']:<10} step {last['step']}/{last['totalSteps']}"
                    f" {last['progress']:5.1f} %"
                )
            elif message["type"] in ("complete", "error"):
                break
        return last


async def page_history(http: httpx.AsyncClient, pages: int) -> None:
    """The newest tasks, two at a time, following `endCursor`."""
    after = None
    for _ in range(pages):
        response = await http.post(
            "/graphql", json={"query": HISTORY, "variables": {"after": after}}
        )
        history = response.json()["data"]["history"]
        for edge in history["edges"]:
            print("history:", edge["node"]["id"], edge["node"]["status"])
        if not history["pageInfo"]["hasNextPage"]:
            break
        after = history["pageInfo"]["endCursor"]


async def main(image: Path) -> int:
    async with httpx.AsyncClient(base_url=URL, headers=AUTH, timeout=30) as http:
        task_id = await submit(http, image)
        last = await follow(task_id)
        if last.get("status") != "COMPLETED":
            print("task ended:", last.get("status"), last.get("error"))
            return 1
        print("result:", last["result"]["imageUrl"])
        await page_history(http, pages=2)
    return 0


if __name__ == "__main__":
    image = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/car.jpg")
    raise SystemExit(asyncio.run(main(image)))
