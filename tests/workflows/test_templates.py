from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from workflows.binder import BindingError, bind
from workflows.manifest import ManifestError
from workflows.parameters import InvalidParameters, resolve_parameters
from workflows.registry import PACKAGE_DIR, UnknownWorkflow, load_templates

ACCEPTED = json.loads((Path(__file__).parent / "accepted_by_comfyui_0_8_0.api.json").read_text())
REGISTRY = load_templates()
KONTEXT = REGISTRY.get("flux_kontext_dev_basic")


def bound(**raw: object) -> dict[str, Any]:
    params = resolve_parameters(KONTEXT, {"description": "make it red", **raw})
    return bind(
        KONTEXT,
        params.with_seed(params.seed or 7),
        images={"image": "ref.png"},
        filename_prefix="kontext",
    )


def test_template_is_the_graph_comfyui_accepted_up_to_bound_values() -> None:
    graph = bound()
    assert set(graph) == set(ACCEPTED)
    for node_id, node in ACCEPTED.items():
        assert graph[node_id]["class_type"] == node["class_type"]
        assert set(graph[node_id]["inputs"]) == set(node["inputs"])
        for name, value in node["inputs"].items():
            if isinstance(value, list):
                assert graph[node_id]["inputs"][name] == value


def test_every_node_type_is_required_and_defaults_match_the_official_template() -> None:
    assert {n["class_type"] for n in ACCEPTED.values()} <= REGISTRY.required_node_types()
    inputs = bound()["31"]["inputs"]
    assert (inputs["steps"], inputs["cfg"], inputs["sampler_name"], inputs["scheduler"]) == (
        20,
        1.0,
        "euler",
        "simple",
    )
    assert bound()["35"]["inputs"]["guidance"] == 2.5


def test_binding_writes_every_parameter_where_the_manifest_says() -> None:
    params = resolve_parameters(
        KONTEXT,
        {
            "description": " red car ",
            "steps": 8,
            "cfg": 1.5,
            "guidance": 3.0,
            "sampler": "heun",
            "scheduler": "karras",
            "denoise": 0.5,
            "seed": 2**64 - 1,
        },
    )
    graph = bind(
        KONTEXT,
        params,
        images={"image": "a.png", "image2": "b.png"},
        models={"unet": "kontext_fp16.safetensors", "vae": "vae.safetensors"},
        filename_prefix="out",
    )
    sampler = graph["31"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"], sampler["denoise"]) == (
        2**64 - 1,
        8,
        1.5,
        0.5,
    )
    assert (sampler["sampler_name"], sampler["scheduler"]) == ("heun", "karras")
    assert graph["6"]["inputs"]["text"] == "red car"
    assert graph["35"]["inputs"]["guidance"] == 3.0
    assert graph["142"]["inputs"]["image"] == "a.png"
    assert graph["191"]["inputs"]["image"] == "b.png"
    assert graph["146"]["inputs"]["image2"] == ["191", 0]
    assert graph["37"]["inputs"]["unet_name"] == "kontext_fp16.safetensors"
    assert graph["39"]["inputs"]["vae_name"] == "vae.safetensors"
    assert graph["136"]["inputs"]["filename_prefix"] == "out"
    assert KONTEXT.graph["31"]["inputs"]["steps"] == 20, "binding never changes the template"


def test_without_a_second_image_its_loader_and_link_are_removed() -> None:
    graph = bound()
    assert "191" not in graph
    assert "image2" not in graph["146"]["inputs"]
    links = [v for node in graph.values() for v in node["inputs"].values() if isinstance(v, list)]
    assert all(link[0] in graph for link in links)


@pytest.mark.parametrize(
    ("raw", "name", "reason"),
    [
        ({"steps": 0}, "steps", "OUT_OF_RANGE"),
        ({"steps": 10000}, "steps", "OUT_OF_RANGE"),
        ({"seed": -1}, "seed", "OUT_OF_RANGE"),
        ({"seed": 2**64}, "seed", "OUT_OF_RANGE"),
        ({"description": ""}, "description", "EMPTY"),
        ({"description": "   "}, "description", "EMPTY"),
        ({"description": "x" * 100_000}, "description", "TOO_LONG"),
        ({"sampler": "nope"}, "sampler", "NOT_A_CHOICE"),
        ({"steps": "20"}, "steps", "WRONG_TYPE"),
        ({"steps": True}, "steps", "WRONG_TYPE"),
        ({"steps": 2.5}, "steps", "WRONG_TYPE"),
        ({"colour": "red"}, "colour", "UNKNOWN_PARAMETER"),
    ],
)
def test_bad_parameters_are_refused(raw: dict[str, object], name: str, reason: str) -> None:
    with pytest.raises(InvalidParameters) as caught:
        resolve_parameters(KONTEXT, {"description": "ok", **raw})
    assert [(p.name, p.reason) for p in caught.value.problems] == [(name, reason)]


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(InvalidParameters) as caught:
        resolve_parameters(KONTEXT, {"description": "", "steps": 0, "cfg": -1})
    assert {p.name for p in caught.value.problems} == {"description", "steps", "cfg"}


def test_seed_none_stays_none_until_the_caller_picks_one() -> None:
    params = resolve_parameters(KONTEXT, {"description": "x"})
    assert params.seed is None
    with pytest.raises(BindingError):
        bind(KONTEXT, params, images={"image": "a.png"}, filename_prefix="p")


def test_a_second_template_is_two_files(tmp_path: Path) -> None:
    for name in ("flux_kontext_dev_basic.json", "flux_kontext_dev_basic.bindings.json"):
        shutil.copy(PACKAGE_DIR / name, tmp_path / name)
    (tmp_path / "invert.json").write_text(
        json.dumps(
            {
                "1": {"class_type": "LoadImage", "inputs": {"image": "x.png"}},
                "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
                "3": {
                    "class_type": "SaveImage",
                    "inputs": {"images": ["2", 0], "filename_prefix": "p"},
                },
            }
        )
    )
    (tmp_path / "invert.bindings.json").write_text(
        json.dumps(
            {
                "name": "invert",
                "graph": "invert.json",
                "output_node": "3",
                "sampler_node": "2",
                "filename_prefix": {"node": "3", "input": "filename_prefix"},
                "parameters": [
                    {
                        "name": "image",
                        "type": "image",
                        "node": "1",
                        "input": "image",
                        "required": True,
                    }
                ],
            }
        )
    )
    registry = load_templates(tmp_path)
    assert registry.names() == ["flux_kontext_dev_basic", "invert"]
    invert = registry.get("invert")
    graph = bind(
        invert,
        resolve_parameters(invert, {}).with_seed(1),
        images={"image": "a.png"},
        filename_prefix="q",
    )
    assert graph["1"]["inputs"]["image"] == "a.png"
    with pytest.raises(UnknownWorkflow):
        registry.get("nope")


def test_manifest_pointing_at_a_missing_node_fails_to_load(tmp_path: Path) -> None:
    shutil.copy(
        PACKAGE_DIR / "flux_kontext_dev_basic.json", tmp_path / "flux_kontext_dev_basic.json"
    )
    manifest = json.loads((PACKAGE_DIR / "flux_kontext_dev_basic.bindings.json").read_text())
    manifest["parameters"][3]["node"] = "999"
    (tmp_path / "flux_kontext_dev_basic.bindings.json").write_text(json.dumps(manifest))
    with pytest.raises(ManifestError, match="999"):
        load_templates(tmp_path)
