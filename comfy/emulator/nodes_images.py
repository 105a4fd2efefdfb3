"""Image nodes: load, save, invert, scale, stitch."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from comfy.emulator import imaging, tracebacks
from comfy.emulator.catalogue import InputSpec, NodeContext, NodeSpec
from comfy.emulator.files import sha256_of
from comfy.emulator.values import NodeFailure, NodeResult

UPSCALE_METHODS = tuple(imaging.RESAMPLING)
MAX_RESOLUTION = 16384
SAVE_PREFIX_TOOLTIP = (
    "The prefix for the file to save. This may include formatting information such as "
    "%date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes."
)


async def load_image(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    environment = context.environment
    path: Path = environment.files.annotated(inputs["image"])
    try:
        image = await asyncio.to_thread(imaging.load_rgb, path)
    except UnidentifiedImageError as exc:
        shown = tracebacks.input_path(path, environment.files.folder("input"))
        raise NodeFailure(
            "PIL.UnidentifiedImageError",
            f"cannot identify image file '{shown}'\n",
            tracebacks.load_image_failure(),
        ) from exc
    return NodeResult((image, Image.new("L", image.size, 0)))


def image_exists(inputs: dict[str, Any], environment: Any) -> str | bool:
    name = inputs.get("image")
    if not isinstance(name, str) or not environment.files.exists_annotated(name):
        return f"Invalid image file: {name}"
    return True


def image_digest(inputs: dict[str, Any], environment: Any) -> str:
    path = environment.files.annotated(str(inputs.get("image")))
    return sha256_of(path) if path is not None and path.is_file() else "missing"


async def save_image(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    image: Image.Image = inputs["images"]
    files = context.environment.files
    try:
        target = await asyncio.to_thread(files.save_target, inputs["filename_prefix"])
    except ValueError as exc:
        raise NodeFailure("Exception", f"**** ERROR: {exc}\n") from exc
    name = f"{target.filename.replace('%batch_num%', '0')}_{target.counter:05}_.png"
    await asyncio.to_thread(imaging.save_png, image, target.folder / name, _png_text(context))
    saved = {"filename": name, "subfolder": target.subfolder, "type": "output"}
    return NodeResult((), {"images": [saved]})


def _png_text(context: NodeContext) -> dict[str, str]:
    text = {"prompt": json.dumps(context.prompt)}
    extra = context.extra_data.get("extra_pnginfo")
    if isinstance(extra, dict):
        text.update({str(key): json.dumps(value) for key, value in extra.items()})
    return text


async def invert_image(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    return NodeResult((await asyncio.to_thread(imaging.invert, inputs["image"]),))


async def scale_image(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    arguments = (inputs["upscale_method"], inputs["width"], inputs["height"], inputs["crop"])
    return NodeResult((await asyncio.to_thread(imaging.scale, inputs["image"], *arguments),))


async def scale_image_by(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    arguments = (inputs["upscale_method"], inputs["scale_by"])
    return NodeResult((await asyncio.to_thread(imaging.scale_by, inputs["image"], *arguments),))


async def stitch_images(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    second = inputs.get("image2")
    if second is None:
        return NodeResult((inputs["image1"],))
    arguments = (
        inputs["direction"],
        inputs["match_image_size"],
        inputs["spacing_width"],
        inputs["spacing_color"],
    )
    stitched = await asyncio.to_thread(imaging.stitch, inputs["image1"], second, *arguments)
    return NodeResult((stitched,))


async def kontext_scale(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    return NodeResult((await asyncio.to_thread(imaging.kontext_scale, inputs["image"]),))


LOAD_IMAGE = NodeSpec(
    name="LoadImage",
    display_name="Load Image",
    category="image",
    description="",
    inputs=(InputSpec("image", "COMBO", {"image_upload": True}, choices_from="input_images"),),
    outputs=("IMAGE", "MASK"),
    run=load_image,
    custom_validation=image_exists,
    validated_inputs=("image",),
    change_probe=image_digest,
)

SAVE_IMAGE = NodeSpec(
    name="SaveImage",
    display_name="Save Image",
    category="image",
    description="Saves the input images to your ComfyUI output directory.",
    inputs=(
        InputSpec("images", "IMAGE", {"tooltip": "The images to save."}),
        InputSpec(
            "filename_prefix", "STRING", {"default": "ComfyUI", "tooltip": SAVE_PREFIX_TOOLTIP}
        ),
    ),
    hidden=(("prompt", "PROMPT"), ("extra_pnginfo", "EXTRA_PNGINFO")),
    outputs=(),
    output_node=True,
    run=save_image,
)

IMAGE_INVERT = NodeSpec(
    name="ImageInvert",
    display_name="Invert Image",
    category="image",
    description="",
    inputs=(InputSpec("image", "IMAGE"),),
    outputs=("IMAGE",),
    run=invert_image,
)

_SIZE = {"default": 512, "min": 0, "max": MAX_RESOLUTION, "step": 1}

IMAGE_SCALE = NodeSpec(
    name="ImageScale",
    display_name="Upscale Image",
    category="image/upscaling",
    description="",
    inputs=(
        InputSpec("image", "IMAGE"),
        InputSpec("upscale_method", "COMBO", choices=UPSCALE_METHODS),
        InputSpec("width", "INT", _SIZE),
        InputSpec("height", "INT", _SIZE),
        InputSpec("crop", "COMBO", choices=("disabled", "center")),
    ),
    outputs=("IMAGE",),
    run=scale_image,
)

IMAGE_SCALE_BY = NodeSpec(
    name="ImageScaleBy",
    display_name="Upscale Image By",
    category="image/upscaling",
    description="",
    inputs=(
        InputSpec("image", "IMAGE"),
        InputSpec("upscale_method", "COMBO", choices=UPSCALE_METHODS),
        InputSpec("scale_by", "FLOAT", {"default": 1.0, "min": 0.01, "max": 8.0, "step": 0.01}),
    ),
    outputs=("IMAGE",),
    run=scale_image_by,
)

IMAGE_STITCH = NodeSpec(
    name="ImageStitch",
    display_name="Image Stitch",
    category="image/transform",
    description=(
        "Stitches image2 to image1 in the specified direction.\n"
        "If image2 is not provided, returns image1 unchanged.\n"
        "Optional spacing can be added between images."
    ),
    python_module="comfy_extras.nodes_images",
    inputs=(
        InputSpec("image1", "IMAGE", schema_v3=True),
        InputSpec(
            "direction",
            "COMBO",
            {"default": "right", "multiselect": False},
            choices=("right", "down", "left", "up"),
            schema_v3=True,
        ),
        InputSpec("match_image_size", "BOOLEAN", {"default": True}, schema_v3=True),
        InputSpec(
            "spacing_width",
            "INT",
            {"default": 0, "min": 0, "max": 1024, "step": 2},
            schema_v3=True,
        ),
        InputSpec(
            "spacing_color",
            "COMBO",
            {"default": "white", "multiselect": False},
            choices=tuple(imaging.SPACING_COLOURS),
            schema_v3=True,
        ),
        InputSpec("image2", "IMAGE", section="optional", schema_v3=True),
    ),
    outputs=("IMAGE",),
    run=stitch_images,
)

FLUX_KONTEXT_IMAGE_SCALE = NodeSpec(
    name="FluxKontextImageScale",
    display_name="FluxKontextImageScale",
    category="advanced/conditioning/flux",
    description="This node resizes the image to one that is more optimal for flux kontext.",
    python_module="comfy_extras.nodes_flux",
    inputs=(InputSpec("image", "IMAGE", schema_v3=True),),
    outputs=("IMAGE",),
    run=kontext_scale,
)

IMAGE_NODES = (
    LOAD_IMAGE,
    SAVE_IMAGE,
    IMAGE_INVERT,
    IMAGE_SCALE,
    IMAGE_SCALE_BY,
    IMAGE_STITCH,
    FLUX_KONTEXT_IMAGE_SCALE,
)
