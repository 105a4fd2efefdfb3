"""Binding writes every value where the manifest says, and nothing else."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.workflows.support import link_sources
from workflows.binder import BindingError, bind, check_model_files
from workflows.parameters import ResolvedParameters, resolve_parameters
from workflows.template import WorkflowTemplate

SEED_MAX = 2**64 - 1


def bound(
    template: WorkflowTemplate,
    raw: dict[str, object] | None = None,
    images: dict[str, str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    params = resolve_parameters(template, {"description": "make it red", **(raw or {})})
    return bind(
        template,
        params if params.seed is not None else params.with_seed(7),
        images=images if images is not None else {"image": "a.png"},
        filename_prefix=options.pop("filename_prefix", "kontext"),
        **options,
    )


def test_every_parameter_lands_on_its_node_input(kontext: WorkflowTemplate) -> None:
    raw = {
        "description": " a red car ",
        "steps": 8,
        "cfg": 1.5,
        "guidance": 3,
        "seed": SEED_MAX,
        "sampler": "heun",
        "scheduler": "karras",
        "denoise": 0.5,
    }
    graph = bound(kontext, raw, filename_prefix="out/run")
    sampler = graph["31"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"], sampler["denoise"]) == (
        SEED_MAX,
        8,
        1.5,
        0.5,
    )
    assert type(sampler["seed"]) is int
    assert (sampler["sampler_name"], sampler["scheduler"]) == ("heun", "karras")
    assert graph["35"]["inputs"]["guidance"] == 3.0
    assert type(graph["35"]["inputs"]["guidance"]) is float
    assert graph["6"]["inputs"]["text"] == "a red car"
    assert graph["142"]["inputs"]["image"] == "a.png"
    assert graph["136"]["inputs"]["filename_prefix"] == "out/run"


def test_defaults_are_written_when_nothing_is_given(kontext: WorkflowTemplate) -> None:
    sampler = bound(kontext)["31"]["inputs"]
    assert (sampler["steps"], sampler["cfg"], sampler["denoise"]) == (20, 1.0, 1.0)
    assert (sampler["sampler_name"], sampler["scheduler"], sampler["seed"]) == (
        "euler",
        "simple",
        7,
    )


def test_model_files_default_to_the_slots_and_can_be_overridden(
    kontext: WorkflowTemplate,
) -> None:
    default = bound(kontext)
    assert default["37"]["inputs"]["unet_name"] == "flux1-dev-kontext_fp8_scaled.safetensors"
    models = {"unet": "kontext_fp16.safetensors", "t5": "t5xxl_fp16.safetensors", "vae": "v.st"}
    graph = bound(kontext, models=models)
    assert graph["37"]["inputs"]["unet_name"] == "kontext_fp16.safetensors"
    assert graph["38"]["inputs"]["clip_name1"] == "clip_l.safetensors"
    assert graph["38"]["inputs"]["clip_name2"] == "t5xxl_fp16.safetensors"
    assert graph["39"]["inputs"]["vae_name"] == "v.st"


def test_a_second_image_is_loaded_and_stitched(kontext: WorkflowTemplate) -> None:
    graph = bound(kontext, images={"image": "a.png", "image2": "b.png"})
    assert graph["147"] == {
        "class_type": "LoadImage",
        "inputs": {"image": "b.png"},
        "_meta": {"title": "Load Image (second reference)"},
    }
    assert graph["146"]["inputs"]["image1"] == ["142", 0]
    assert graph["146"]["inputs"]["image2"] == ["147", 0]


def test_without_a_second_image_its_loader_and_link_leave_the_graph(
    kontext: WorkflowTemplate,
) -> None:
    graph = bound(kontext)
    assert "147" not in graph
    assert "image2" not in graph["146"]["inputs"]
    assert graph["146"]["inputs"]["image1"] == ["142", 0]
    assert len(graph) == len(kontext.graph) - 1
    assert all(source in graph for source in link_sources(graph))


def test_binding_never_changes_the_template(kontext: WorkflowTemplate) -> None:
    before = copy.deepcopy(dict(kontext.graph))
    graph = bound(kontext, {"steps": 9})
    graph["31"]["inputs"]["model"][0] = "mutated"
    assert dict(kontext.graph) == before
    assert bound(kontext) == bound(kontext)


@given(seed=st.integers(min_value=0, max_value=SEED_MAX))
def test_any_seed_in_range_is_written_exactly(kontext: WorkflowTemplate, seed: int) -> None:
    assert bound(kontext, {"seed": seed})["31"]["inputs"]["seed"] == seed


def test_binding_needs_a_concrete_seed(kontext: WorkflowTemplate) -> None:
    params = resolve_parameters(kontext, {"description": "x"})
    with pytest.raises(BindingError, match="seed"):
        bind(kontext, params, images={"image": "a.png"}, filename_prefix="p")


@pytest.mark.parametrize(
    ("images", "fragment"),
    [
        ({}, "image 'image' is required"),
        ({"image": ""}, "uploaded image"),
        ({"image": "a.png", "image3": "c.png"}, "no image parameter 'image3'"),
    ],
)
def test_bad_images_are_refused(
    kontext: WorkflowTemplate, images: dict[str, str], fragment: str
) -> None:
    with pytest.raises(BindingError, match=fragment):
        bound(kontext, images=images)


@pytest.mark.parametrize(
    ("values", "seed", "fragment"),
    [
        ({"description": "x", "steps": 0}, 1, "'steps' must be at least 1"),
        ({"description": "x", "colour": "red"}, 1, "no parameter 'colour'"),
        ({"steps": 4}, 1, "'description' is required"),
        ({"description": "x"}, 2**64, "seed 'seed' must be at most"),
    ],
)
def test_values_are_checked_again_when_bound(
    kontext: WorkflowTemplate, values: dict[str, Any], seed: int, fragment: str
) -> None:
    params = ResolvedParameters(values=values, seed=seed)
    with pytest.raises(BindingError, match=fragment):
        bind(kontext, params, images={"image": "a.png"}, filename_prefix="p")


def test_stored_values_missing_a_parameter_take_its_default(kontext: WorkflowTemplate) -> None:
    params = ResolvedParameters(values={"description": "x", "steps": 4}, seed=3)
    graph = bind(kontext, params, images={"image": "a.png"}, filename_prefix="p")
    assert (graph["31"]["inputs"]["steps"], graph["31"]["inputs"]["cfg"]) == (4, 1.0)


@pytest.mark.parametrize("prefix", ["", "   ", "/abs/out", "../escape", "a/../../b"])
def test_a_filename_prefix_outside_the_output_folder_is_refused(
    kontext: WorkflowTemplate, prefix: str
) -> None:
    with pytest.raises(BindingError, match="filename prefix"):
        bound(kontext, filename_prefix=prefix)


def test_unknown_or_empty_model_files_are_refused(kontext: WorkflowTemplate) -> None:
    with pytest.raises(BindingError) as caught:
        bound(kontext, models={"lora": "x.safetensors", "vae": ""})
    assert caught.value.problems == (
        "no model slot 'lora'",
        "model slot 'vae' needs a file name",
    )
    with pytest.raises(BindingError, match="lora"):
        check_model_files(kontext, {"lora": "x.safetensors"})
    check_model_files(kontext, {"unet": "kontext_fp16.safetensors"})
