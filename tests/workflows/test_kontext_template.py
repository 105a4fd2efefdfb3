"""The shipped Flux.1 Kontext dev template against the graph a real ComfyUI 0.8.0 accepted."""

from __future__ import annotations

from tests.workflows.support import ACCEPTED_VALUES, accepted_graph, kontext_graph
from workflows.binder import bind
from workflows.parameters import resolve_parameters
from workflows.registry import TemplateRegistry
from workflows.template import ParameterType, WorkflowTemplate

OFFICIAL_IDS = {
    "6": "CLIPTextEncode",
    "8": "VAEDecode",
    "31": "KSampler",
    "35": "FluxGuidance",
    "37": "UNETLoader",
    "38": "DualCLIPLoader",
    "39": "VAELoader",
    "42": "FluxKontextImageScale",
    "124": "VAEEncode",
    "135": "ConditioningZeroOut",
    "136": "SaveImage",
    "142": "LoadImage",
    "146": "ImageStitch",
    "147": "LoadImage",
    "177": "ReferenceLatent",
}


def bind_accepted_values(template: WorkflowTemplate) -> dict[str, object]:
    raw = {"description": ACCEPTED_VALUES["description"], "seed": ACCEPTED_VALUES["seed"]}
    return bind(
        template,
        resolve_parameters(template, raw),
        images={"image": ACCEPTED_VALUES["image"]},
        filename_prefix=ACCEPTED_VALUES["filename_prefix"],
    )


def test_bound_with_the_accepted_values_the_template_is_exactly_the_accepted_graph(
    kontext: WorkflowTemplate,
) -> None:
    assert bind_accepted_values(kontext) == accepted_graph()


def test_the_template_keeps_the_official_node_ids_and_types(kontext: WorkflowTemplate) -> None:
    assert {node_id: node["class_type"] for node_id, node in kontext.graph.items()} == OFFICIAL_IDS


def test_the_shipped_graph_differs_from_the_accepted_one_only_by_the_second_image() -> None:
    shipped, accepted = kontext_graph(), accepted_graph()
    assert shipped.pop("147")["inputs"] == {"image": "second_reference.png"}
    assert shipped["146"]["inputs"].pop("image2") == ["147", 0]
    for node_id, node in accepted.items():
        assert shipped[node_id]["class_type"] == node["class_type"]
        assert shipped[node_id]["inputs"].keys() == node["inputs"].keys()
    assert shipped.keys() == accepted.keys()


def test_every_node_type_used_is_required(
    kontext: WorkflowTemplate, registry: TemplateRegistry
) -> None:
    used = {node["class_type"] for node in kontext.graph.values()}
    assert kontext.required_node_types == used
    assert registry.required_node_types() >= used


def test_defaults_are_the_official_templates(kontext: WorkflowTemplate) -> None:
    defaults = {spec.name: spec.default for spec in kontext.parameters}
    assert defaults == {
        "description": None,
        "image": None,
        "image2": None,
        "steps": 20,
        "cfg": 1.0,
        "guidance": 2.5,
        "seed": None,
        "sampler": "euler",
        "scheduler": "simple",
        "denoise": 1.0,
    }


def test_ranges_and_requirements_are_published(kontext: WorkflowTemplate) -> None:
    ranges = {s.name: (s.minimum, s.maximum) for s in kontext.parameters if s.type.is_numeric}
    assert ranges == {
        "steps": (1, 150),
        "cfg": (0.0, 100.0),
        "guidance": (0.0, 100.0),
        "seed": (0, 2**64 - 1),
        "denoise": (0.0, 1.0),
    }
    assert [s.name for s in kontext.parameters if s.required] == ["description", "image"]
    assert all(spec.description for spec in kontext.parameters)


def test_sampler_and_scheduler_choices_are_comfyui_0_8_0s(kontext: WorkflowTemplate) -> None:
    sampler, scheduler = kontext.parameter("sampler"), kontext.parameter("scheduler")
    assert sampler is not None and scheduler is not None
    assert sampler.type is ParameterType.ENUM
    assert len(sampler.choices) == 44
    assert {"euler", "dpmpp_2m", "uni_pc_bh2", "res_multistep"} <= set(sampler.choices)
    assert scheduler.choices == (
        "simple",
        "sgm_uniform",
        "karras",
        "exponential",
        "ddim_uniform",
        "beta",
        "normal",
        "linear_quadratic",
        "kl_optimal",
    )


def test_model_slots_name_the_template_files(kontext: WorkflowTemplate) -> None:
    assert {(s.name, str(s.target), s.default) for s in kontext.models} == {
        ("unet", "37.unet_name", "flux1-dev-kontext_fp8_scaled.safetensors"),
        ("clip_l", "38.clip_name1", "clip_l.safetensors"),
        ("t5", "38.clip_name2", "t5xxl_fp8_e4m3fn_scaled.safetensors"),
        ("vae", "39.vae_name", "ae.safetensors"),
    }


def test_output_and_progress_nodes(kontext: WorkflowTemplate) -> None:
    assert (kontext.output_node, kontext.sampler_node) == ("136", "31")
    assert str(kontext.filename_prefix) == "136.filename_prefix"
