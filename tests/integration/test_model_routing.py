"""Two emulators offering different model files: tasks go only where their template can run,
prefer the backend that ran the same models last, and a template no backend can run is
refused at submit with NO_BACKEND."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import itertools
import json
import random
import socket
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from comfy.emulator.config import DEFAULT_DIFFUSION_MODELS, EmulatorConfig, ModelFiles
from comfy.emulator.server import RunningEmulator, running_emulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tasks.store.models import Task
from tests.support.graphql import GraphQLClient
from tests.support.images import encoded
from tests.support.server import serve_asgi
from tests.workflows.support import kontext_graph, kontext_manifest

OTHER = "other_model_edit"
OTHER_UNET = "flux1-kontext-other.safetensors"
BASIC = "flux_kontext_dev_basic"
GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { task { id } } }"""
BACKENDS = """{ backends { url ready workflows loadedModels
  unrunnableWorkflows { workflow reason } } }"""


def write_other_model_template(folder: Path) -> None:
    """The Kontext edit on another diffusion model file: an operator's second template."""
    graph = kontext_graph()
    graph["37"]["inputs"]["unet_name"] = OTHER_UNET
    manifest = {**kontext_manifest(), "name": OTHER, "graph": f"{OTHER}.json"}
    manifest["models"] = [
        {**slot, "default": OTHER_UNET} if slot["name"] == "unet" else slot
        for slot in manifest["models"]
    ]
    (folder / f"{OTHER}.json").write_text(json.dumps(graph))
    (folder / f"{OTHER}.bindings.json").write_text(json.dumps(manifest))


@asynccontextmanager
async def two_backends(
    settings: Settings, tmp_path: Path, *, prefer_warm: bool
) -> AsyncIterator[tuple[GraphQLClient, RunningEmulator, RunningEmulator]]:
    """Backend `only_basic` has the default model files; `both` also has the other unet."""
    folder = tmp_path / f"workflows-{prefer_warm}"
    folder.mkdir()
    write_other_model_template(folder)
    with_other = ModelFiles(diffusion_models=(*DEFAULT_DIFFUSION_MODELS, OTHER_UNET))
    async with AsyncExitStack() as stack:
        only_basic = await stack.enter_async_context(
            running_emulator(EmulatorConfig(step_seconds=0.01))
        )
        both = await stack.enter_async_context(
            running_emulator(EmulatorConfig(step_seconds=0.01, models=with_other))
        )
        live = dataclasses.replace(
            settings,
            dispatch=True,
            comfyui_urls=(only_basic.url, both.url),
            workflows_dir=folder,
            prefer_warm_backends=prefer_warm,
        )
        url = await stack.enter_async_context(serve_asgi(create_app(live)))
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30))
        api = GraphQLClient(http)
        await until_ready(api)
        yield api, only_basic, both


async def until_ready(api: GraphQLClient) -> list[dict[str, Any]]:
    async with asyncio.timeout(10):
        while True:
            backends: list[dict[str, Any]] = (await api.execute(BACKENDS)).ok()["backends"]
            if all(backend["ready"] for backend in backends):
                return backends
            await asyncio.sleep(0.05)


async def submit(api: GraphQLClient, workflow: str) -> str:
    data = {
        "referenceImage": {"base64": base64.b64encode(encoded(32, 32)).decode()},
        "description": "make it red",
        "workflow": workflow,
        "parameters": {"steps": 2},
    }
    return str((await api.execute(GENERATE, input=data)).ok()["generateImage"]["task"]["id"])


async def wait_all_completed(ids: list[str]) -> None:
    async with asyncio.timeout(120):
        while True:
            rows = await Task.filter(id__in=ids).values_list("status", flat=True)
            statuses = Counter(str(status) for status in rows)
            assert statuses["FAILED"] == statuses["CANCELLED"] == 0, statuses
            if statuses["COMPLETED"] == len(ids):
                return
            await asyncio.sleep(0.1)


async def model_switches(emulator: RunningEmulator) -> int:
    """How often the emulator's diffusion model changed between two prompts it ran."""
    async with httpx.AsyncClient(base_url=emulator.url) as http:
        history = (await http.get("/history")).json()
    ran = sorted(entry["prompt"] for entry in history.values())
    unets = [prompt[2]["37"]["inputs"]["unet_name"] for prompt in ran]
    return sum(1 for before, after in itertools.pairwise(unets) if before != after)


async def mixed_run(
    settings: Settings, tmp_path: Path, *, prefer_warm: bool
) -> tuple[int, dict[str, set[str]]]:
    """40 tasks of both templates in a fixed random order: model switches and where each
    template's tasks ran."""
    workflows = random.Random(16).choices([BASIC, OTHER], k=40)
    async with two_backends(settings, tmp_path, prefer_warm=prefer_warm) as (api, a, b):
        ids = [await submit(api, workflow) for workflow in workflows]
        await wait_all_completed(ids)
        switches = await model_switches(a) + await model_switches(b)
        where: dict[str, set[str]] = {BASIC: set(), OTHER: set()}
        for task in await Task.filter(id__in=ids):
            where[task.workflow].add(str(task.backend))
        return switches, where | {"urls": {a.url, b.url}}


async def test_backends_list_what_each_can_run_and_a_task_nowhere_runnable_is_refused(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    async with two_backends(settings, tmp_path, prefer_warm=True) as (api, only_basic, both):
        backends = {b["url"]: b for b in await until_ready(api)}
        assert backends[both.url]["workflows"] == [BASIC, "flux_kontext_dev_lora", OTHER]
        assert backends[only_basic.url]["workflows"] == [BASIC, "flux_kontext_dev_lora"]
        (problem,) = backends[only_basic.url]["unrunnableWorkflows"]
        assert problem["workflow"] == OTHER
        assert f"missing model file '{OTHER_UNET}'" in problem["reason"]
        task_id = await submit(api, OTHER)
        await wait_all_completed([task_id])
        assert (await Task.get(id=task_id)).backend == both.url
        backends = {b["url"]: b for b in (await api.execute(BACKENDS)).ok()["backends"]}
        assert OTHER_UNET in backends[both.url]["loadedModels"]


async def test_warm_routing_switches_models_less_than_least_loaded_routing(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    warm, warm_where = await mixed_run(settings, tmp_path, prefer_warm=True)
    plain, plain_where = await mixed_run(settings, tmp_path, prefer_warm=False)
    for where in (warm_where, plain_where):
        assert len(where[OTHER]) == 1 and where[OTHER] < where["urls"]  # only where it runs
    print(f"model switches in 40 mixed tasks: warm routing {warm}, least-loaded {plain}")
    assert warm < plain


async def test_a_task_waits_with_its_reason_visible_while_the_backends_are_only_down(
    settings: Settings, database: Database
) -> None:
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}"
    live = dataclasses.replace(settings, dispatch=True, comfyui_urls=(down,))
    async with serve_asgi(create_app(live)) as url, httpx.AsyncClient(base_url=url) as http:
        api = GraphQLClient(http)
        task_id = await submit(api, BASIC)
        query = "query($id: ID!) { task(id: $id) { status waitingReason } }"
        task = (await api.execute(query, id=task_id)).ok()["task"]
    assert task["status"] == "PENDING"
    assert task["waitingReason"].startswith(f"waiting for a backend that can run {BASIC}: {down}")
