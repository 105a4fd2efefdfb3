"""Progress a person can trust, on the emulator: a percent that moves with the steps of the bound
prompt, an honest restart when a task is re-queued, and a finish estimate from measured times."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from typing import Any

import httpx

from comfy.emulator.config import EmulatorConfig
from comfy.emulator.server import RunningEmulator, running_emulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tasks.store.models import Task
from tests.integration.test_runs_on_comfyui import submit, wait_terminal
from tests.support.graphql import GraphQLClient
from tests.support.graphql_ws import graphql_ws
from tests.support.server import serve_asgi

PROGRESS = """subscription($id: ID!) { taskProgress(id: $id) {
  sequence kind status step totalSteps progress currentNode previewUrl estimatedFinishAt
  requeueReason task { attempts updatedAt finishedAt } } }"""
STEPS = """subscription($id: ID!) { taskProgress(id: $id) {
  sequence kind status step totalSteps progress currentNode } }"""
ESTIMATE = "query($id: ID!) { task(id: $id) { status estimatedFinishAt } }"

SAMPLER = "31"
# The bound default prompt: the template's 15 nodes but the absent second image's loader (147).
NODES_BEFORE_SAMPLING = 11  # every node but the sampler, VAEDecode and SaveImage
NODES_AFTER_SAMPLING = 2


async def watch(url: str, task_id: str, query: str = PROGRESS) -> list[dict[str, Any]]:
    async with graphql_ws(url) as ws:
        events = [event async for event in ws.subscribe(query, id=task_id)]
    assert all("errors" not in event for event in events), events
    return [event["data"]["taskProgress"] for event in events]


def sampling(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == "PROGRESS" and e["currentNode"] == SAMPLER]


async def estimate_of(api: GraphQLClient, task_id: str) -> dict[str, Any]:
    """The task while an estimate is given (the run just ended is measured a moment after its
    result is announced)."""
    async with asyncio.timeout(2):
        while True:
            task: dict[str, Any] = (await api.execute(ESTIMATE, id=task_id)).ok()["task"]
            if task["estimatedFinishAt"] is not None or task["status"] != "PENDING":
                return task
            await asyncio.sleep(0.02)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_percent_follows_the_steps_of_the_bound_prompt(
    live: GraphQLClient, live_url: str
) -> None:
    steps = 20
    task_id = await submit(live, steps=steps)
    events = await asyncio.wait_for(watch(live_url, task_id, STEPS), 30)
    started = next(e for e in events if e["kind"] == "STATUS" and e["status"] == "PROCESSING")
    assert started["totalSteps"] == steps  # known before the sampler's first frame
    units = NODES_BEFORE_SAMPLING + steps + NODES_AFTER_SAMPLING
    before, share = 100 * NODES_BEFORE_SAMPLING / units, 100 * steps / units
    stepped = [e for e in sampling(events) if e["step"] >= 1]
    assert len({e["step"] for e in stepped}) >= steps // 2
    for event in stepped:
        expected = before + share * event["step"] / steps
        assert abs(event["progress"] - expected) <= 8, (event, expected)
    waiting = [e["progress"] for e in sampling(events) if e["step"] == 0]
    assert all(abs(p - before) <= 8 for p in waiting), waiting
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress)
    assert events[-1]["progress"] == 100.0
    assert (await Task.get(id=task_id)).node_count == 14  # node 147 left the bound prompt


async def test_a_requeued_task_starts_its_next_attempt_from_zero_and_says_why(
    live: GraphQLClient, live_url: str, emulator: RunningEmulator
) -> None:
    task_id = await submit(live, steps=80)
    watching = asyncio.create_task(watch(live_url, task_id))
    async with asyncio.timeout(20):
        while (await Task.get(id=task_id)).step < 10:
            await asyncio.sleep(0.02)
    await emulator.crash()
    events = await asyncio.wait_for(watching, 30)
    requeued = next(
        i for i, e in enumerate(events) if e["kind"] == "STATUS" and e["status"] == "PENDING"
    )
    first, event, second = events[:requeued], events[requeued], events[requeued + 1 :]
    assert max(e["progress"] for e in first) > 20  # ten of 80 steps done
    assert any(e["previewUrl"] for e in first)
    assert event["task"]["attempts"] == 2
    assert "Re-queued as attempt 2" in event["requeueReason"]
    assert "no longer knows the prompt" in event["requeueReason"]
    assert (event["progress"], event["step"], event["previewUrl"]) == (0.0, 0, None)
    assert all(e["task"]["attempts"] == 1 for e in first if e["kind"] != "SNAPSHOT")
    assert all(e["task"]["attempts"] == 2 for e in second)
    for attempt in (first, second):
        progress = [e["progress"] for e in attempt]
        assert progress == sorted(progress), progress
    old_previews = {e["previewUrl"] for e in first if e["previewUrl"]}
    assert not old_previews & {e["previewUrl"] for e in second}
    assert second[-1]["status"] == "COMPLETED"


async def test_the_estimated_finish_comes_from_measured_step_times(
    settings: Settings, database: Database
) -> None:
    async with running_emulator(EmulatorConfig(step_seconds=0.25)) as emulator:
        live = dataclasses.replace(settings, dispatch=True, comfyui_urls=(emulator.url,))
        async with serve_asgi(create_app(live)) as url, httpx.AsyncClient(base_url=url) as http:
            api = GraphQLClient(http)
            first = await submit(api, steps=4, seed="1")
            unknown = (await api.execute(ESTIMATE, id=first)).ok()["task"]
            assert unknown == {"status": "PENDING", "estimatedFinishAt": None}  # nothing measured
            await wait_terminal(api, first)
            # One run measured: a task waiting behind a running one is estimated too.
            measured = await submit(api, steps=20, seed="2")
            behind = await submit(api, steps=4, seed="3")
            waiting = await estimate_of(api, behind)
            events = await asyncio.wait_for(watch(url, measured), 30)
            await wait_terminal(api, behind)
    assert waiting["status"] == "PENDING" and waiting["estimatedFinishAt"] is not None
    after_three = next(e for e in sampling(events) if e["step"] >= 3)
    finished = moment(events[-1]["task"]["finishedAt"])
    estimated_at = moment(after_three["task"]["updatedAt"])
    estimate = moment(after_three["estimatedFinishAt"])
    assert events[-1]["status"] == "COMPLETED"
    left = (finished - estimated_at).total_seconds()
    assert abs((estimate - finished).total_seconds()) <= 0.2 * left, (estimate, finished, left)
    assert events[-1]["estimatedFinishAt"] is None
