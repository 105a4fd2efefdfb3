"""Templates beside the built-in one run on the emulator with their options: the shipped LoRA
template, and an operator's own from KONTEXT_WORKFLOWS_DIR without the common parameters."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfy.emulator.server import RunningEmulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tests.integration.test_runs_on_comfyui import wait_terminal
from tests.support.graphql import GraphQLClient
from tests.support.images import encoded
from tests.support.server import serve_asgi
from tests.workflows.support import kontext_graph, kontext_manifest, parameter

GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { task { id } } }"""
TASK = """query($id: ID!) { task(id: $id) { status workflow
  parameters { steps cfg guidance seed sampler scheduler denoise } options { name value } } }"""
WORKFLOWS = "{ workflows { name parameters { name inputField } } }"
MINE = "my_single_image_edit"


def write_own_template(folder: Path) -> None:
    """The Kontext graph as an operator would export it with one image and keep three
    parameters, one of them (`edit_strength`) their own name for the Flux guidance."""
    graph = kontext_graph()
    del graph["146"], graph["147"]
    graph["42"]["inputs"]["image"] = ["142", 0]
    basic = kontext_manifest()
    manifest = {
        **basic,
        "name": MINE,
        "title": "One-image edit",
        "description": "Edits one image; the guidance is called edit strength.",
        "graph": f"{MINE}.json",
        "required_node_types": sorted({node["class_type"] for node in graph.values()}),
        "parameters": [
            parameter(basic, "description"),
            parameter(basic, "image"),
            parameter(basic, "seed"),
            {
                "name": "edit_strength",
                "type": "float",
                "node": "35",
                "input": "guidance",
                "default": 2.5,
                "minimum": 0.0,
                "maximum": 10.0,
                "description": "How closely the edit follows the instruction.",
            },
        ],
    }
    (folder / f"{MINE}.json").write_text(json.dumps(graph))
    (folder / f"{MINE}.bindings.json").write_text(json.dumps(manifest))


@pytest.fixture
async def own_live(
    settings: Settings, emulator: RunningEmulator, database: Database, tmp_path: Path
) -> AsyncIterator[GraphQLClient]:
    folder = tmp_path / "workflows"
    folder.mkdir()
    write_own_template(folder)
    live = dataclasses.replace(
        settings, dispatch=True, comfyui_urls=(emulator.url,), workflows_dir=folder
    )
    async with serve_asgi(create_app(live)) as url, httpx.AsyncClient(base_url=url) as http:
        yield GraphQLClient(http)


async def submit(api: GraphQLClient, workflow: str, options: dict[str, object]) -> str:
    data = {
        "referenceImage": {"base64": base64.b64encode(encoded(96, 64)).decode()},
        "description": "make it red",
        "workflow": workflow,
        "options": [{"name": name, "value": value} for name, value in options.items()],
    }
    return str((await api.execute(GENERATE, input=data)).ok()["generateImage"]["task"]["id"])


async def sent_prompts(emulator: RunningEmulator) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=emulator.url) as http:
        history = (await http.get("/history")).json()
    return [entry["prompt"][2] for entry in history.values()]


async def test_the_lora_template_completes_with_its_options(
    live: GraphQLClient, emulator: RunningEmulator
) -> None:
    options = {"lora": "kontext_style_lora.safetensors", "lora_strength": 0.35, "steps": 3}
    task_id = await submit(live, "flux_kontext_dev_lora", options)
    assert (await wait_terminal(live, task_id))["status"] == "COMPLETED"
    (prompt,) = await sent_prompts(emulator)
    lora = next(node for node in prompt.values() if node["class_type"] == "LoraLoaderModelOnly")
    assert lora["inputs"]["lora_name"] == "kontext_style_lora.safetensors"
    assert lora["inputs"]["strength_model"] == 0.35
    task = (await live.execute(TASK, id=task_id)).ok()["task"]
    assert task["parameters"]["steps"] == 3
    assert {"name": "lora_strength", "value": 0.35} in task["options"]


async def test_a_template_from_the_folder_is_listed_and_completes_with_its_options(
    own_live: GraphQLClient, emulator: RunningEmulator
) -> None:
    workflows = {w["name"]: w for w in (await own_live.execute(WORKFLOWS)).ok()["workflows"]}
    assert set(workflows) == {"flux_kontext_dev_basic", "flux_kontext_dev_lora", MINE}
    fields = {p["name"]: p["inputField"] for p in workflows[MINE]["parameters"]}
    assert fields == {
        "description": "description",
        "image": "referenceImage",
        "seed": "parameters.seed",
        "edit_strength": "options",
    }
    task_id = await submit(own_live, MINE, {"edit_strength": 6.5})
    assert (await wait_terminal(own_live, task_id))["status"] == "COMPLETED"
    (prompt,) = await sent_prompts(emulator)
    assert prompt["35"]["inputs"]["guidance"] == 6.5
    task = (await own_live.execute(TASK, id=task_id)).ok()["task"]
    common = task["parameters"]
    assert (common["steps"], common["sampler"], common["guidance"]) == (None, None, None)
    assert task["options"] == [{"name": "edit_strength", "value": 6.5}]
