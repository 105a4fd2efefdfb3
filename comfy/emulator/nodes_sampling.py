"""The sampler and the VAE nodes: where steps, progress and previews happen."""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

from comfy.emulator import imaging
from comfy.emulator.catalogue import InputSpec, NodeContext, NodeSpec
from comfy.emulator.values import Conditioning, Latent, NodeResult

SAMPLERS = (
    "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2",
    "exp_heun_2_x0", "exp_heun_2_x0_sde", "dpm_2", "dpm_2_ancestral", "lms", "dpm_fast",
    "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_2s_ancestral_cfg_pp", "dpmpp_sde",
    "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde", "dpmpp_2m_sde_gpu",
    "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm",
    "lcm", "ipndm", "ipndm_v", "deis", "res_multistep", "res_multistep_cfg_pp",
    "res_multistep_ancestral", "res_multistep_ancestral_cfg_pp", "gradient_estimation",
    "gradient_estimation_cfg_pp", "er_sde", "seeds_2", "seeds_3", "sa_solver", "sa_solver_pece",
    "ddim", "uni_pc", "uni_pc_bh2",
)  # fmt: skip
SCHEDULERS = (
    "simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal",
    "linear_quadratic", "kl_optimal",
)  # fmt: skip


async def ksample(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    start: Latent = inputs["latent_image"]
    fingerprint, denoise = _fingerprint(inputs), float(inputs["denoise"])
    finished = await asyncio.to_thread(imaging.sample, start.image, fingerprint, denoise)
    steps: int = inputs["steps"]
    size: int = context.environment.config.preview_size
    first, last = start.image, finished
    if context.environment.config.sleep_steps:  # made small once, not shrunk at every step
        first, last = await asyncio.to_thread(
            imaging.preview_pair, first, size, fingerprint, denoise
        )
    for step in range(1, steps + 1):
        render = functools.partial(imaging.preview_jpeg, first, last, step / steps, size)
        await context.sampler_step(step, steps, render)
    return NodeResult((Latent(finished),))


def _fingerprint(inputs: dict[str, Any]) -> str:
    positive: Conditioning = inputs["positive"]
    settings = [
        inputs["seed"],
        inputs["steps"],
        inputs["cfg"],
        inputs["sampler_name"],
        inputs["scheduler"],
        inputs["denoise"],
        positive.text,
        positive.guidance,
        len(positive.references),
    ]
    return json.dumps(settings)


async def vae_encode(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    return NodeResult((Latent(await asyncio.to_thread(imaging.vae_crop, inputs["pixels"])),))


async def vae_decode(inputs: dict[str, Any], context: NodeContext) -> NodeResult:
    latent: Latent = inputs["samples"]
    return NodeResult((latent.image.copy(),))


def _tip(text: str, **limits: Any) -> dict[str, Any]:
    return {**limits, "tooltip": text}


KSAMPLER = NodeSpec(
    name="KSampler",
    display_name="KSampler",
    category="sampling",
    description=(
        "Uses the provided model, positive and negative conditioning to denoise the latent image."
    ),
    inputs=(
        InputSpec("model", "MODEL", _tip("The model used for denoising the input latent.")),
        InputSpec(
            "seed",
            "INT",
            _tip(
                "The random seed used for creating the noise.",
                default=0,
                min=0,
                max=18446744073709551615,
                control_after_generate=True,
            ),
        ),
        InputSpec(
            "steps",
            "INT",
            _tip(
                "The number of steps used in the denoising process.", default=20, min=1, max=10000
            ),
        ),
        InputSpec(
            "cfg",
            "FLOAT",
            _tip(
                "The Classifier-Free Guidance scale balances creativity and adherence to the "
                "prompt. Higher values result in images more closely matching the prompt however "
                "too high values will negatively impact quality.",
                default=8.0,
                min=0.0,
                max=100.0,
                step=0.1,
                round=0.01,
            ),
        ),
        InputSpec(
            "sampler_name",
            "COMBO",
            _tip(
                "The algorithm used when sampling, this can affect the quality, speed, and style "
                "of the generated output."
            ),
            choices=SAMPLERS,
        ),
        InputSpec(
            "scheduler",
            "COMBO",
            _tip("The scheduler controls how noise is gradually removed to form the image."),
            choices=SCHEDULERS,
        ),
        InputSpec(
            "positive",
            "CONDITIONING",
            _tip("The conditioning describing the attributes you want to include in the image."),
        ),
        InputSpec(
            "negative",
            "CONDITIONING",
            _tip("The conditioning describing the attributes you want to exclude from the image."),
        ),
        InputSpec("latent_image", "LATENT", _tip("The latent image to denoise.")),
        InputSpec(
            "denoise",
            "FLOAT",
            _tip(
                "The amount of denoising applied, lower values will maintain the structure of the "
                "initial image allowing for image to image sampling.",
                default=1.0,
                min=0.0,
                max=1.0,
                step=0.01,
            ),
        ),
    ),
    outputs=("LATENT",),
    output_tooltips=("The denoised latent.",),
    run=ksample,
)

VAE_ENCODE = NodeSpec(
    name="VAEEncode",
    display_name="VAE Encode",
    category="latent",
    description="",
    inputs=(InputSpec("pixels", "IMAGE"), InputSpec("vae", "VAE")),
    outputs=("LATENT",),
    run=vae_encode,
)

VAE_DECODE = NodeSpec(
    name="VAEDecode",
    display_name="VAE Decode",
    category="latent",
    description="Decodes latent images back into pixel space images.",
    inputs=(
        InputSpec("samples", "LATENT", {"tooltip": "The latent to be decoded."}),
        InputSpec("vae", "VAE", {"tooltip": "The VAE model used for decoding the latent."}),
    ),
    outputs=("IMAGE",),
    output_tooltips=("The decoded image.",),
    run=vae_decode,
)

SAMPLING_NODES = (KSAMPLER, VAE_ENCODE, VAE_DECODE)
