from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from tests.integration.test_runs_on_comfyui import submit, wait_terminal
from tests.support.graphql import GraphQLClient
from tests.support.graphql_ws import graphql_ws

PROGRESS = """subscription($id: ID!) { taskProgress(id: $id) {
  sequence kind status step totalSteps progress currentNode previewUrl
  result { imageUrl } error { code } } }"""
UPDATES = "subscription { taskUpdates { sequence kind status task { id } } }"


async def collect(url: str, task_id: str) -> list[dict[str, Any]]:
    async with graphql_ws(url) as ws:
        return [event async for event in ws.subscribe(PROGRESS, id=task_id)]


def updates(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert all("errors" not in e for e in events), events
    return [e["data"]["taskProgress"] for e in events]


async def test_subscriber_sees_every_step_and_ends_on_the_result(
    live: GraphQLClient, live_url: str
) -> None:
    task_id = await submit(live, steps=8)
    events = updates(await asyncio.wait_for(collect(live_url, task_id), 20))
    sequences = [e["sequence"] for e in events]
    assert sequences == sorted(set(sequences))
    assert events[0]["kind"] == "SNAPSHOT"
    steps = [e["step"] for e in events if e["kind"] == "PROGRESS" and e["currentNode"] == "31"]
    assert steps == sorted(steps) and steps[-1] == 8 and len(set(steps)) >= 6
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress)
    assert [e["status"] for e in events if e["kind"] == "STATUS"] == ["PROCESSING", "COMPLETED"]
    assert events[-1]["result"]["imageUrl"]
    previews = [e["previewUrl"] for e in events if e["kind"] == "PREVIEW"]
    assert previews, "latent previews are relayed while sampling"
    preview = await live.http.get(previews[-1])
    # ComfyUI's preview JPEG (512 px by default) is served as it was sent, not re-encoded.
    assert preview.headers["content-type"] == "image/jpeg"
    assert preview.content.startswith(b"\xff\xd8\xff")


async def test_late_subscriber_gets_the_snapshot_and_the_end(
    live: GraphQLClient, live_url: str
) -> None:
    task_id = await submit(live, steps=2)
    await wait_terminal(live, task_id)
    events = updates(await asyncio.wait_for(collect(live_url, task_id), 10))
    assert len(events) == 1
    assert (events[0]["kind"], events[0]["status"]) == ("SNAPSHOT", "COMPLETED")
    assert events[0]["result"]["imageUrl"]


async def test_unknown_task_is_not_found_not_an_empty_stream(live_url: str) -> None:
    events = await collect(live_url, "00000000-0000-4000-8000-000000000000")
    assert len(events) == 1
    errors = events[0]["errors"]
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_two_hundred_subscribers_each_get_every_transition_in_order(
    live: GraphQLClient, live_url: str
) -> None:
    task_id = await submit(live, steps=20)
    watchers = [asyncio.create_task(collect(live_url, task_id)) for _ in range(200)]
    results = await asyncio.wait_for(asyncio.gather(*watchers), 60)
    for events in map(updates, results):
        sequences = [e["sequence"] for e in events]
        assert sequences == sorted(set(sequences))
        transitions = [e["status"] for e in events if e["kind"] in ("SNAPSHOT", "STATUS")]
        assert transitions[-1] == "COMPLETED"
        assert "PROCESSING" in transitions or events[0]["status"] != "PENDING"
        assert events[-1]["result"]["imageUrl"]


async def test_task_updates_streams_changes_of_the_callers_tasks(
    live: GraphQLClient, live_url: str
) -> None:
    async with graphql_ws(live_url) as ws:
        stream = ws.subscribe(UPDATES)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.2)
        task_id = await submit(live, steps=2)
        seen = [(await first)["data"]["taskUpdates"]]
        while seen[-1]["status"] != "COMPLETED":
            seen.append((await asyncio.wait_for(anext(stream), 10))["data"]["taskUpdates"])
    assert seen[0]["kind"] == "CREATED"
    assert {e["task"]["id"] for e in seen} == {task_id}


async def test_legacy_graphql_ws_protocol_is_served_too(live: GraphQLClient, live_url: str) -> None:
    task_id = await submit(live, steps=2)
    url = live_url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "start",
                    "payload": {"query": PROGRESS, "variables": {"id": task_id}},
                }
            )
        )
        statuses = []
        async with asyncio.timeout(10):
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "ka":
                    continue
                if message["type"] == "complete":
                    break
                statuses.append(message["payload"]["data"]["taskProgress"]["status"])
    assert statuses[-1] == "COMPLETED"
