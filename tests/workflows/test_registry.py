"""The registry: every manifest in a folder; a new template is two new files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.workflows.support import KONTEXT, copy_kontext, link_sources
from workflows.binder import bind
from workflows.errors import ManifestError, UnknownWorkflow
from workflows.parameters import InvalidParameters, resolve_parameters
from workflows.registry import TemplateRegistry, load_templates

INVERT_GRAPH = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "placeholder.png"}},
    "2": {"class_type": "LoadImage", "inputs": {"image": "placeholder.png"}},
    "3": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    "4": {"class_type": "ImageBlend", "inputs": {"image1": ["3", 0], "image2": ["2", 0]}},
    "5": {"class_type": "SaveImage", "inputs": {"images": ["4", 0], "filename_prefix": "x"}},
}
INVERT_MANIFEST = {
    "format": 1,
    "name": "invert",
    "title": "Invert",
    "description": "Inverts an image.",
    "output_node": "5",
    "sampler_node": "3",
    "filename_prefix": {"node": "5", "input": "filename_prefix"},
    "required_node_types": ["ImageBlend", "ImageInvert", "LoadImage", "SaveImage"],
    "parameters": [
        {
            "name": "photo",
            "type": "image",
            "node": "1",
            "input": "image",
            "required": True,
            "description": "The image.",
        },
        {
            "name": "overlay",
            "type": "image",
            "node": "2",
            "input": "image",
            "remove_node_when_absent": True,
            "description": "Blended over it.",
        },
    ],
}


def write_invert(folder: Path) -> None:
    (folder / "invert.json").write_text(json.dumps(INVERT_GRAPH))
    (folder / "invert.bindings.json").write_text(json.dumps(INVERT_MANIFEST))


LORA = "flux_kontext_dev_lora"


def test_the_package_ships_the_kontext_templates(registry: TemplateRegistry) -> None:
    assert registry.names() == [KONTEXT, LORA]
    assert registry.get_default().name == KONTEXT
    assert KONTEXT in registry and len(registry) == 2
    assert [t.name for t in registry] == [KONTEXT, LORA]


def test_the_lora_template_is_the_edit_with_a_lora_before_the_sampler(
    registry: TemplateRegistry,
) -> None:
    lora = registry.get(LORA)
    sampler = lora.graph[lora.sampler_node]["inputs"]
    loader = lora.graph[sampler["model"][0]]
    assert loader["class_type"] == "LoraLoaderModelOnly"
    assert loader["inputs"]["model"] == ["37", 0]
    options = {spec.name: spec for spec in lora.parameters}
    assert options["lora"].required and options["lora_strength"].default == 1.0


def test_an_unknown_name_raises_unknown_workflow(registry: TemplateRegistry) -> None:
    with pytest.raises(UnknownWorkflow, match="'sdxl'; known: flux_kontext_dev_basic") as caught:
        registry.get("sdxl")
    assert (caught.value.name, caught.value.known) == ("sdxl", (KONTEXT, LORA))


def test_a_second_template_is_two_files(tmp_path: Path) -> None:
    copy_kontext(tmp_path)
    write_invert(tmp_path)
    registry = load_templates(tmp_path, default=KONTEXT)
    assert registry.names() == [KONTEXT, "invert"]
    assert registry.get_default().name == KONTEXT
    assert registry.required_node_types() >= {"ImageInvert", "ImageBlend", "KSampler"}
    invert = registry.get("invert")
    graph = bind(
        invert, resolve_parameters(invert, {}), images={"photo": "a.png"}, filename_prefix="q"
    )
    assert graph["1"]["inputs"]["image"] == "a.png"
    assert graph["5"]["inputs"]["filename_prefix"] == "q"
    assert "2" not in graph and "image2" not in graph["4"]["inputs"]
    assert all(source in graph for source in link_sources(graph))
    with pytest.raises(InvalidParameters):
        resolve_parameters(invert, {"steps": 3})


def test_templates_with_the_same_name_are_refused(tmp_path: Path) -> None:
    copy_kontext(tmp_path)
    manifest = json.loads((tmp_path / f"{KONTEXT}.bindings.json").read_text())
    manifest["graph"] = f"{KONTEXT}.json"
    (tmp_path / "copy.bindings.json").write_text(json.dumps(manifest))
    with pytest.raises(
        ManifestError, match=r"name .flux_kontext_dev_basic. is taken by .*bindings.json"
    ):
        load_templates(tmp_path)


def test_a_folder_without_manifests_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=re.escape("no *.bindings.json files")):
        load_templates(tmp_path)


def test_an_unknown_default_is_refused(tmp_path: Path) -> None:
    copy_kontext(tmp_path)
    with pytest.raises(UnknownWorkflow):
        load_templates(tmp_path, default="invert")


def test_one_broken_template_stops_the_whole_load(tmp_path: Path) -> None:
    copy_kontext(tmp_path)
    write_invert(tmp_path)
    broken = {**INVERT_MANIFEST, "output_node": "9"}
    (tmp_path / "invert.bindings.json").write_text(json.dumps(broken))
    with pytest.raises(ManifestError, match=re.escape("invert.bindings.json: output_node 9")):
        load_templates(tmp_path)


def test_a_folder_of_your_own_loads_beside_the_built_in_templates(tmp_path: Path) -> None:
    write_invert(tmp_path)
    registry = load_templates(extra_directory=tmp_path)
    assert registry.names() == [KONTEXT, LORA, "invert"]
    assert registry.default_name == KONTEXT


def test_your_own_template_may_not_take_a_built_in_name(tmp_path: Path) -> None:
    copy_kontext(tmp_path)
    with pytest.raises(ManifestError, match=f"name '{KONTEXT}' is taken by .*{KONTEXT}.bindings"):
        load_templates(extra_directory=tmp_path)


def test_a_missing_folder_of_your_own_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="is not a folder"):
        load_templates(extra_directory=tmp_path / "nowhere")
