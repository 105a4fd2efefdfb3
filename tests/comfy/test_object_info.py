from __future__ import annotations

from comfy.errors import PromptRejected
from comfy.object_info import input_choices
from tests.comfy.recorded import exchange, exchanges


def test_choices_are_read_from_both_shapes_comfyui_declares_them_in() -> None:
    info = {
        "VAELoader": {"input": {"required": {"vae_name": [["ae.safetensors", "pixel_space"]]}}},
        "UNETLoader": {
            "input": {"optional": {"unet_name": ["COMBO", {"options": ["a.gguf", "b.gguf"]}]}}
        },
        "KSampler": {"input": {"required": {"steps": ["INT", {"default": 20}]}}},
    }
    assert input_choices(info, "VAELoader", "vae_name") == ["ae.safetensors", "pixel_space"]
    assert input_choices(info, "UNETLoader", "unet_name") == ["a.gguf", "b.gguf"]
    assert input_choices(info, "KSampler", "steps") is None
    assert input_choices(info, "KSampler", "nope") is None
    assert input_choices(info, "Nope", "vae_name") is None


def test_the_recorded_loader_choices_are_read() -> None:
    info = exchange("a_success", "GET", "/object_info/KSampler")["body"]
    assert "euler" in (input_choices(info, "KSampler", "sampler_name") or [])


def rejection(node_ids: list[str]) -> PromptRejected:
    body = next(
        record["body"]
        for record in exchanges("c_validation_errors", "POST", "/prompt", 400)
        if sorted(record["body"].get("node_errors", {})) == sorted(node_ids)
    )
    return PromptRejected(body["error"], body["node_errors"])


def test_a_rejection_naming_exactly_one_node_names_it() -> None:
    assert rejection(["37"]).only_node == ("37", "UNETLoader")
    assert rejection(["39", "31"]).only_node == (None, None)
    assert rejection([]).only_node == (None, None)
