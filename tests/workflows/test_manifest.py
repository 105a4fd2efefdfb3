"""A broken manifest or graph never loads: ManifestError names every problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.workflows.support import KONTEXT, kontext_manifest, parameter, write_kontext_copy
from workflows.errors import ManifestError
from workflows.manifest import load_template

Edit = Callable[[dict[str, Any]], object]


def load_problems(
    folder: Path, edit_manifest: Edit = lambda _: None, edit_graph: Edit = lambda _: None
) -> tuple[str, ...]:
    write_kontext_copy(folder, edit_manifest, edit_graph)
    with pytest.raises(ManifestError) as caught:
        load_template(folder / f"{KONTEXT}.bindings.json")
    assert caught.value.source == str(folder / f"{KONTEXT}.bindings.json")
    return caught.value.problems


def test_the_unedited_copy_loads(tmp_path: Path) -> None:
    write_kontext_copy(tmp_path)
    assert load_template(tmp_path / f"{KONTEXT}.bindings.json").name == KONTEXT


def test_a_parameter_bound_to_a_missing_node_fails_to_load(tmp_path: Path) -> None:
    problems = load_problems(tmp_path, lambda m: parameter(m, "steps").update(node="999"))
    assert problems == ("parameter 'steps' targets node 999, which is not in the graph",)


def test_a_parameter_bound_to_a_missing_input_fails_to_load(tmp_path: Path) -> None:
    problems = load_problems(tmp_path, lambda m: parameter(m, "steps").update(input="stepz"))
    assert problems == ("parameter 'steps' targets 31.stepz, but node 31 has no input 'stepz'",)


def test_a_model_slot_or_prefix_bound_to_a_missing_node_fails_to_load(tmp_path: Path) -> None:
    def edit(manifest: dict[str, Any]) -> None:
        manifest["models"][0]["node"] = "404"
        manifest["filename_prefix"]["input"] = "prefix"

    problems = load_problems(tmp_path, edit)
    assert "model slot 'unet' targets node 404, which is not in the graph" in problems
    assert any(p.startswith("filename_prefix targets 136.prefix") for p in problems)


def test_binding_over_a_link_fails_to_load(tmp_path: Path) -> None:
    problems = load_problems(tmp_path, lambda m: parameter(m, "steps").update(input="model"))
    assert problems == ("parameter 'steps' targets 31.model, which is a link, not a value",)


def test_output_and_sampler_nodes_must_exist(tmp_path: Path) -> None:
    problems = load_problems(tmp_path, lambda m: m.update(output_node="1", sampler_node="2"))
    assert problems == ("output_node 1 is not in the graph", "sampler_node 2 is not in the graph")


def test_required_node_types_must_be_exactly_those_used(tmp_path: Path) -> None:
    def edit(manifest: dict[str, Any]) -> None:
        manifest["required_node_types"].remove("ImageStitch")
        manifest["required_node_types"].append("UpscaleModelLoader")

    assert load_problems(tmp_path, edit) == (
        "node type ImageStitch is used by the graph but not in required_node_types",
        "node type UpscaleModelLoader is in required_node_types but not used by the graph",
    )


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("steps", {"maximun": 150}, "unknown key 'maximun'"),
        ("steps", {"type": "integer"}, "type 'integer' is not one of"),
        ("steps", {"default": 0}, "parameter 'steps': its default 0 must be at least 1."),
        ("steps", {"minimum": 200}, "parameter 'steps': minimum is above maximum"),
        ("steps", {"maximum": 150.5}, "whole-number parameters need whole-number bounds"),
        ("steps", {"maximum": None}, "parameter 'steps': needs both minimum and maximum"),
        ("cfg", {"default": "1"}, "parameter 'cfg': its default '1' must be a number."),
        (
            "seed",
            {"maximum": 2**64},
            "parameter 'seed': a seed lies within 0..18446744073709551615",
        ),
        ("sampler", {"default": "fastest"}, "parameter 'sampler': its default 'fastest' must be"),
        ("sampler", {"choices": []}, "parameter 'sampler': an enum needs choices"),
        ("sampler", {"minimum": 1}, "minimum, maximum and step are for numbers only"),
        ("description", {"max_length": None}, "a string needs a positive max_length"),
        ("description", {"default": "x"}, "a required parameter or an image has no default"),
        ("description", {"required": "yes"}, "'required' must be true or false, got str"),
        ("image2", {"remove_node_when_absent": False}, "an optional image needs remove_node_"),
        ("steps", {"remove_node_when_absent": True}, "remove_node_when_absent is for optional"),
        ("steps", {"name": "steps count"}, "name 'steps count' is not an identifier"),
        ("steps", {"name": "cfg"}, "parameter 'cfg' is declared more than once"),
        ("cfg", {"input": "steps"}, "31.steps is bound more than once"),
    ],
)
def test_broken_parameter_rules_fail_to_load(
    tmp_path: Path, name: str, change: dict[str, Any], expected: str
) -> None:
    problems = load_problems(tmp_path, lambda m: parameter(m, name).update(change))
    assert any(expected in problem for problem in problems), problems


def test_a_second_seed_parameter_fails_to_load(tmp_path: Path) -> None:
    def edit(manifest: dict[str, Any]) -> None:
        manifest["parameters"].append(
            {**parameter(manifest, "seed"), "name": "seed2", "input": "cfg"}
        )

    assert "a template has at most one seed parameter" in load_problems(tmp_path, edit)


def test_unknown_top_level_keys_and_a_wrong_format_fail_to_load(tmp_path: Path) -> None:
    problems = load_problems(tmp_path, lambda m: m.update(format=2, sampler="31"))
    assert problems == ("manifest: 'format' must be 1, got 2", "manifest: unknown key 'sampler'")


def test_missing_keys_are_all_reported(tmp_path: Path) -> None:
    def edit(manifest: dict[str, Any]) -> None:
        del manifest["title"], manifest["output_node"]
        del parameter(manifest, "steps")["description"]

    assert load_problems(tmp_path, edit) == (
        "manifest: 'title' is required",
        "manifest: 'output_node' is required",
        "manifest.parameters[3]: 'description' is required",
    )


def test_a_graph_with_a_dangling_link_fails_to_load(tmp_path: Path) -> None:
    problems = load_problems(tmp_path, edit_graph=lambda g: g.pop("42"))
    assert problems == ("node 124 input 'pixels' links to missing node 42",)


def test_a_graph_node_without_class_type_fails_to_load(tmp_path: Path) -> None:
    problems = load_problems(tmp_path, edit_graph=lambda g: g["8"].pop("class_type"))
    assert problems == ("node 8 has no class_type",)


@pytest.mark.parametrize("graph_name", ["../flux.json", "sub/flux.json", ""])
def test_the_graph_must_be_a_file_beside_the_manifest(tmp_path: Path, graph_name: str) -> None:
    problems = load_problems(tmp_path, lambda m: m.update(graph=graph_name))
    assert problems == (f"'graph' must be a file name, got {graph_name!r}",)


def test_unreadable_files_fail_to_load(tmp_path: Path) -> None:
    write_kontext_copy(tmp_path)
    (tmp_path / f"{KONTEXT}.json").write_text("{not json")
    with pytest.raises(ManifestError, match=f"cannot read {KONTEXT}.json"):
        load_template(tmp_path / f"{KONTEXT}.bindings.json")
    (tmp_path / f"{KONTEXT}.bindings.json").write_text(json.dumps([1, 2]))
    with pytest.raises(ManifestError, match="must be a JSON object"):
        load_template(tmp_path / f"{KONTEXT}.bindings.json")


@pytest.mark.parametrize(
    ("name", "literal", "expected"),
    [
        ("steps", "20", "node 31.steps, parameter 'steps': is int but the graph holds '20'"),
        ("guidance", "2.5", "node 35.guidance, parameter 'guidance': is float but the graph"),
        ("description", 7, "node 6.text, parameter 'description': is string but the graph holds 7"),
    ],
)
def test_a_parameter_bound_to_an_input_of_another_type_fails_to_load(
    tmp_path: Path, name: str, literal: object, expected: str
) -> None:
    def edit(graph: dict[str, Any]) -> None:
        target = parameter(kontext_manifest(), name)
        graph[target["node"]]["inputs"][target["input"]] = literal

    problems = load_problems(tmp_path, edit_graph=edit)
    assert any(problem.startswith(expected) for problem in problems), problems
