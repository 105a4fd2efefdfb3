"""The watchdog reaches every unfinished task: past its deadline on any backend, on a backend no
replica tracks any more, running or already waiting in ComfyUI's queue; and it says so sparingly."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfy.client import ComfyClient
from comfy.emulator.server import RunningEmulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from storage.local import LocalBlobStore
from tasks.background import BackgroundTasks
from tasks.events.broker import InProcessBroker
from tasks.runtime.backends import Backend, BackendPool
from tasks.runtime.cancelling import RemoteCanceller
from tasks.runtime.finisher import PromptFinisher
from tasks.runtime.leases import SoleReplica
from tasks.runtime.leftovers import TaskLeftovers
from tasks.runtime.outcomes import TaskOutcomes
from tasks.runtime.outputs import OutputCollector
from tasks.runtime.reconciler import Reconciler
from tasks.runtime.watchdog import Watchdog, WatchdogSettings
from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.database import Database
from tasks.store.models import Task
from tasks.store.transitions import TaskChanges
from tests.comfy.emulator.prompts import kontext, png, upload
from tests.comfy.emulator.prompts import submit as send_prompt
from tests.integration.test_client_ids import connected_backend
from tests.integration.test_runs_on_comfyui import submit, wait_terminal
from tests.support.graphql import GraphQLClient
from tests.support.server import serve_asgi
from tests.tasks.test_outputs import a_task
from workflows.registry import load_templates

GONE = "http://gone.invalid:8188"
AN_HOUR_AGO = timedelta(hours=1)


async def strand(task_id: str, status: TaskStatus, **fields: Any) -> None:
    """Make the task look sent to GONE an hour ago, by a process configured with it then."""
    then = utc_now() - AN_HOUR_AGO
    values: dict[str, Any] = {"backend": GONE, **fields}
    await Task.filter(id=task_id).update(
        status=status,
        prompt_id=str(uuid.uuid4()),
        attempts=1,
        dispatched_at=then,
        queued_at=then,
        started_at=then if status is TaskStatus.PROCESSING else None,
        updated_at=then,
        **values,
    )


async def test_a_task_past_its_deadline_on_a_backend_nobody_configures_times_out(
    api: GraphQLClient,
) -> None:
    task_id = await submit(api, steps=3)  # `api` does not dispatch; its watchdog still runs
    await strand(task_id, TaskStatus.PROCESSING, deadline_at=utc_now() - timedelta(minutes=1))
    task = await wait_terminal(api, task_id, timeout=10)
    assert (task["status"], task["error"]["code"]) == ("FAILED", "TIMED_OUT"), task


@pytest.mark.parametrize("status", [TaskStatus.PROCESSING, TaskStatus.PENDING])
async def test_a_task_on_a_backend_no_replica_tracks_runs_again_on_a_tracked_one(
    settings: Settings, api: GraphQLClient, emulator: RunningEmulator, status: TaskStatus
) -> None:
    """PENDING here is a prompt already waiting in the (now unconfigured) ComfyUI's queue."""
    task_id = await submit(api, steps=3)
    await strand(task_id, status)
    live = dataclasses.replace(
        settings, dispatch=True, comfyui_urls=(emulator.url,), silence_seconds=1.0
    )
    async with serve_asgi(create_app(live)) as url, httpx.AsyncClient(base_url=url) as http:
        task = await wait_terminal(GraphQLClient(http), task_id, timeout=20)
    assert task["status"] == "COMPLETED", task
    row = await Task.get(id=task_id)
    assert (row.backend, row.attempts) == (emulator.url, 2)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


async def test_the_watchdog_says_once_that_a_backends_tasks_are_silent(
    api: GraphQLClient, database: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = closed_port_url()  # ComfyUI is unreachable: every check is postponed
    task_id = await submit(api, steps=3)
    await strand(task_id, TaskStatus.PROCESSING, backend=url)
    blobs = LocalBlobStore(tmp_path / "blobs")
    changes = TaskChanges(InProcessBroker(), BackgroundTasks())
    outcomes = TaskOutcomes(changes, TaskLeftovers(blobs), max_attempts=3)
    async with ComfyClient(url, client_id="watchdog-test", timeout=1) as client:
        backend = Backend(url=url, client=client, connected=True, problem=None)
        pool = BackendPool([backend])
        finisher = PromptFinisher(
            outcomes=outcomes,
            collector=OutputCollector(blobs),
            templates=load_templates(),
        )
        watchdog = Watchdog(
            pool=pool,
            outcomes=outcomes,
            canceller=RemoteCanceller(pool),
            reconciler=Reconciler(outcomes=outcomes, finisher=finisher),
            leases=SoleReplica(),
            settings=WatchdogSettings(silence_seconds=1.0),
        )
        with caplog.at_level(logging.WARNING):
            for _ in range(10):
                await watchdog.sweep()
    said = [r for r in caplog.records if r.name.startswith("tasks.") and r.levelname == "WARNING"]
    assert [r.name for r in said] == ["tasks.runtime.watchdog", "tasks.runtime.reconciler"], said
    assert (await Task.get(id=task_id)).status is TaskStatus.PROCESSING


async def test_a_silent_task_waiting_inside_comfyui_is_reconciled_by_the_watchdog(
    settings: Settings, database: Database, emulator: RunningEmulator
) -> None:
    """The task's prompt was queued (PENDING, queued_at set) and has finished since, but no word
    of it reached this process: only the watchdog's silence check can find it."""
    live = dataclasses.replace(
        settings, dispatch=True, comfyui_urls=(emulator.url,), silence_seconds=1.0
    )
    async with serve_asgi(create_app(live)) as url, httpx.AsyncClient(base_url=url) as http:
        api = GraphQLClient(http)
        await connected_backend(api)
        async with httpx.AsyncClient(base_url=emulator.url) as comfy:
            assert (await upload(comfy, "in.png", png())).status_code == 200
            prompt_id = await send_prompt(comfy, kontext("in.png", steps=2), "elsewhere")
            async with asyncio.timeout(10):
                while prompt_id not in (await comfy.get(f"/history/{prompt_id}")).json():
                    await asyncio.sleep(0.05)
        task = await a_task(TaskStatus.PENDING)
        then = utc_now() - AN_HOUR_AGO
        await Task.filter(id=task.id).update(
            workflow=load_templates().default_name,
            backend=emulator.url,
            prompt_id=prompt_id,
            attempts=1,
            dispatched_at=then,
            queued_at=then,
            updated_at=then,
            deadline_at=utc_now() + AN_HOUR_AGO,
        )
        async with asyncio.timeout(15):
            while not (row := await Task.get(id=task.id)).status.is_terminal:
                await asyncio.sleep(0.05)
    assert row.status is TaskStatus.COMPLETED, row.error_message
    assert row.attempts == 1
