"""Model loaders and conditioning nodes of the Flux.1 Kontext graph."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from comfy.emulator import tracebacks
from comfy.emulator.catalogue import InputSpec, NodeContext, NodeSpec
from comfy.emulator.values import Conditioning, Latent, ModelHandle, NodeFailure, NodeResult

CLIP_TYPES = (
    "sdxl", "sd3", "flux", "hunyuan_video", "hidream", "hunyuan_image", "hunyuan_video_15",
    "kandinsky5", "kandinsky5_image",
)  # fmt: skip
WEIGHT_DTYPES = ("default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2")
SAFETENSOR_ERROR = "safetensors._safetensors_rust.SafetensorError"
CORRUPT_HEADER = (
    "Error while deserializing header: invalid UTF-8 in header: "
    "invalid utf-8 sequence of 1 bytes from index 15\n"
)


async def load_unet(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    return NodeResult((_load(context, "MODEL", inputs["unet_name"]),))


async def load_dual_clip(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    _load(context, "CLIP", inputs["clip_name2"])
    return NodeResult((_load(context, "CLIP", inputs["clip_name1"]),))


async def load_vae(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    return NodeResult((_load(context, "VAE", inputs["vae_name"]),))


def _load(context: NodeContext, kind: str, name: str) -> ModelHandle:
    if context.environment.is_corrupt(name):
        raise NodeFailure(SAFETENSOR_ERROR, CORRUPT_HEADER, tracebacks.load_vae_failure())
    return ModelHandle(kind, name)


async def apply_lora(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    """The model with a LoRA patched in (strength 0 leaves it as it was, as in ComfyUI)."""
    lora = _load(context, "LORA", inputs["lora_name"])
    model: ModelHandle = inputs["model"]
    if inputs["strength_model"] == 0:
        return NodeResult((model,))
    return NodeResult((ModelHandle(model.kind, f"{model.name}+{lora.name}"),))


async def encode_text(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    return NodeResult((Conditioning(text=inputs["text"]),))


async def zero_out(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    return NodeResult((replace(inputs["conditioning"], zeroed=True),))


async def set_guidance(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    return NodeResult((replace(inputs["conditioning"], guidance=inputs["guidance"]),))


async def add_reference(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    conditioning: Conditioning = inputs["conditioning"]
    latent: Latent | None = inputs.get("latent")
    if latent is None:
        return NodeResult((conditioning,))
    return NodeResult((replace(conditioning, references=(*conditioning.references, latent)),))


UNET_LOADER = NodeSpec(
    name="UNETLoader",
    display_name="Load Diffusion Model",
    category="advanced/loaders",
    description="",
    inputs=(
        InputSpec("unet_name", "COMBO", choices_from="diffusion_models"),
        InputSpec("weight_dtype", "COMBO", choices=WEIGHT_DTYPES),
    ),
    outputs=("MODEL",),
    run=load_unet,
)

DUAL_CLIP_LOADER = NodeSpec(
    name="DualCLIPLoader",
    display_name="DualCLIPLoader",
    category="advanced/loaders",
    description=(
        "[Recipes]\n\nsdxl: clip-l, clip-g\nsd3: clip-l, clip-g / clip-l, t5 / clip-g, t5\n"
        "flux: clip-l, t5\nhidream: at least one of t5 or llama, recommended t5 and llama\n"
        "hunyuan_image: qwen2.5vl 7b and byt5 small"
    ),
    inputs=(
        InputSpec("clip_name1", "COMBO", choices_from="text_encoders"),
        InputSpec("clip_name2", "COMBO", choices_from="text_encoders"),
        InputSpec("type", "COMBO", choices=CLIP_TYPES),
        InputSpec("device", "COMBO", {"advanced": True}, "optional", ("default", "cpu")),
    ),
    outputs=("CLIP",),
    run=load_dual_clip,
)

LORA_LOADER_MODEL_ONLY = NodeSpec(
    name="LoraLoaderModelOnly",
    display_name="LoraLoaderModelOnly",
    category="loaders",
    description="",
    inputs=(
        InputSpec("model", "MODEL"),
        InputSpec("lora_name", "COMBO", choices_from="loras"),
        InputSpec(
            "strength_model", "FLOAT", {"default": 1.0, "min": -100.0, "max": 100.0, "step": 0.01}
        ),
    ),
    outputs=("MODEL",),
    run=apply_lora,
)

VAE_LOADER = NodeSpec(
    name="VAELoader",
    display_name="Load VAE",
    category="loaders",
    description="",
    inputs=(InputSpec("vae_name", "COMBO", choices_from="vae"),),
    outputs=("VAE",),
    run=load_vae,
)

CLIP_TEXT_ENCODE = NodeSpec(
    name="CLIPTextEncode",
    display_name="CLIP Text Encode (Prompt)",
    category="conditioning",
    description=(
        "Encodes a text prompt using a CLIP model into an embedding that can be used to guide "
        "the diffusion model towards generating specific images."
    ),
    inputs=(
        InputSpec(
            "text",
            "STRING",
            {"multiline": True, "dynamicPrompts": True, "tooltip": "The text to be encoded."},
        ),
        InputSpec("clip", "CLIP", {"tooltip": "The CLIP model used for encoding the text."}),
    ),
    outputs=("CONDITIONING",),
    output_tooltips=(
        "A conditioning containing the embedded text used to guide the diffusion model.",
    ),
    run=encode_text,
)

CONDITIONING_ZERO_OUT = NodeSpec(
    name="ConditioningZeroOut",
    display_name="ConditioningZeroOut",
    category="advanced/conditioning",
    description="",
    inputs=(InputSpec("conditioning", "CONDITIONING"),),
    outputs=("CONDITIONING",),
    run=zero_out,
)

FLUX_GUIDANCE = NodeSpec(
    name="FluxGuidance",
    display_name="FluxGuidance",
    category="advanced/conditioning/flux",
    description="",
    python_module="comfy_extras.nodes_flux",
    inputs=(
        InputSpec("conditioning", "CONDITIONING", schema_v3=True),
        InputSpec(
            "guidance",
            "FLOAT",
            {"default": 3.5, "min": 0.0, "max": 100.0, "step": 0.1},
            schema_v3=True,
        ),
    ),
    outputs=("CONDITIONING",),
    run=set_guidance,
)

REFERENCE_LATENT = NodeSpec(
    name="ReferenceLatent",
    display_name="ReferenceLatent",
    category="advanced/conditioning/edit_models",
    description=(
        "This node sets the guiding latent for an edit model. If the model supports it you can "
        "chain multiple to set multiple reference images."
    ),
    python_module="comfy_extras.nodes_edit_model",
    inputs=(
        InputSpec("conditioning", "CONDITIONING", schema_v3=True),
        InputSpec("latent", "LATENT", section="optional", schema_v3=True),
    ),
    outputs=("CONDITIONING",),
    run=add_reference,
)

MODEL_NODES = (
    UNET_LOADER,
    LORA_LOADER_MODEL_ONLY,
    DUAL_CLIP_LOADER,
    VAE_LOADER,
    CLIP_TEXT_ENCODE,
    CONDITIONING_ZERO_OUT,
    FLUX_GUIDANCE,
    REFERENCE_LATENT,
)
