"""`kontext check-workflow` and the same check before `kontext serve`: one message naming the
file, the node and what is wrong; with --comfyui, node types and model files on that server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from comfy.emulator.config import EmulatorConfig, ModelFiles
from comfy.emulator.server import running_emulator
from graphql_api import cli
from tests.workflows.support import parameter, write_kontext_copy

MINE = "my_edit"


def write_mine(folder: Path, edit_graph: Any = lambda _: None) -> Path:
    """The shipped Kontext template under another name, as an operator's own folder holds it."""
    write_kontext_copy(folder, lambda m: m.update(name=MINE, graph=f"{MINE}.json"), edit_graph)
    (folder / "flux_kontext_dev_basic.json").rename(folder / f"{MINE}.json")
    manifest = folder / f"{MINE}.bindings.json"
    (folder / "flux_kontext_dev_basic.bindings.json").rename(manifest)
    return manifest


def test_a_good_folder_checks_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_mine(tmp_path)
    assert cli.main(["check-workflow", str(tmp_path)]) == 0
    assert f"ok: {MINE}" in capsys.readouterr().out


def test_a_bad_manifest_is_named_with_its_node_and_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_mine(tmp_path, lambda graph: graph["31"]["inputs"].update(steps="many"))
    assert cli.main(["check-workflow", str(manifest)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"workflow template error: {manifest}: ")
    assert "node 31.steps, parameter 'steps': is int but the graph holds 'many'" in error


def test_serve_stops_at_a_broken_template_with_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def edit(graph: dict[str, Any]) -> None:
        del graph["35"]

    manifest = write_mine(tmp_path, edit)
    monkeypatch.setenv("KONTEXT_WORKFLOWS_DIR", str(tmp_path))

    def never(*_: object, **__: object) -> None:
        raise AssertionError("the server started with a broken template")

    monkeypatch.setattr("uvicorn.run", never)
    assert cli.main(["serve"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"workflow template error: {manifest}: ")
    assert "node 35" in lines[0]


async def test_the_server_check_names_missing_node_types_and_model_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def edit_graph(graph: dict[str, Any]) -> None:
        graph["35"]["class_type"] = "FluxGuidanceDeluxe"

    manifest = write_mine(tmp_path, edit_graph)
    document = json.loads(manifest.read_text())
    document["required_node_types"] = [
        "FluxGuidanceDeluxe" if t == "FluxGuidance" else t for t in document["required_node_types"]
    ]
    assert parameter(document, "guidance")["node"] == "35"
    manifest.write_text(json.dumps(document))
    config = EmulatorConfig(models=dataclasses.replace(ModelFiles(), vae=("other.safetensors",)))
    async with running_emulator(config) as emulator:
        code = await asyncio.to_thread(
            cli.main, ["check-workflow", str(tmp_path), "--comfyui", emulator.url]
        )
    error = capsys.readouterr().err
    assert code == 1
    assert f"{MINE}: cannot run on {emulator.url}" in error
    assert "missing node types: FluxGuidanceDeluxe" in error
    assert "missing model file 'ae.safetensors' (model slot vae, VAELoader.vae_name)" in error


async def test_the_server_check_passes_on_a_server_with_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_mine(tmp_path)
    async with running_emulator(EmulatorConfig()) as emulator:
        code = await asyncio.to_thread(
            cli.main, ["check-workflow", str(tmp_path), "--comfyui", emulator.url]
        )
    assert code == 0, capsys.readouterr().err
    assert f"ok: {MINE} runs on {emulator.url}" in capsys.readouterr().out
