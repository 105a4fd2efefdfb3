"""Settings of one emulated ComfyUI 0.8.0 server."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PREVIEW_METHODS = ("none", "auto", "latent2rgb", "taesd")

DEFAULT_DIFFUSION_MODELS = ("flux1-dev-kontext_fp8_scaled.safetensors",)
DEFAULT_TEXT_ENCODERS = ("clip_l.safetensors", "t5xxl_fp8_e4m3fn_scaled.safetensors")
DEFAULT_VAES = ("ae.safetensors",)
DEFAULT_LORAS = ("kontext_style_lora.safetensors",)


@dataclass(frozen=True)
class ModelFiles:
    """The model files the emulated server pretends to have, per ComfyUI model folder."""

    diffusion_models: tuple[str, ...] = DEFAULT_DIFFUSION_MODELS
    text_encoders: tuple[str, ...] = DEFAULT_TEXT_ENCODERS
    vae: tuple[str, ...] = DEFAULT_VAES
    loras: tuple[str, ...] = DEFAULT_LORAS
    corrupt: frozenset[str] = frozenset()
    """Listed files pass validation but fail to load, like a damaged safetensors file."""


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes an emulator instance; faults can also change at run time."""

    step_seconds: float = 0.05
    """Time one sampler step takes (the KSampler's `steps` input decides how many)."""
    node_seconds: float = 0.0
    """Time every other executed node takes; it cannot be interrupted, like a real node."""
    sleep_steps: bool = False
    """Steps sleep as a GPU host's CPU would: each sampler step takes `step_seconds` in all, its
    latent preview rendered halfway through that time (not after it, nor while the frames of the
    step before are being handled) from the images already shrunk to the preview size once per
    sampler run. The stand-in pixel work then costs the host a small fraction of a core, so a
    benchmark measures the client, not CPU contention."""
    preview_method: str = "none"
    """Server default, as `--preview-method`: none, auto, latent2rgb or taesd."""
    preview_size: int = 512
    root_dir: Path | None = None
    """Holds input/, output/ and temp/; a temporary directory (removed at exit) when None."""
    input_dir: Path | None = None
    output_dir: Path | None = None
    """Override root_dir/input and root_dir/output, like ComfyUI's --input-dir/--output-dir."""
    models: ModelFiles = field(default_factory=ModelFiles)
    history_limit: int = 10000
    max_upload_size: int = 100 * 1024 * 1024
    argv: tuple[str, ...] = ("main.py",)
    """Reported by GET /system_stats."""
    allow_self_kill: bool = False
    """Lets POST /_emulator/sigkill kill the hosting process (only sensible for a subprocess)."""

    def __post_init__(self) -> None:
        if self.preview_method not in PREVIEW_METHODS:
            raise ValueError(f"preview_method must be one of {PREVIEW_METHODS}")
        if self.step_seconds < 0 or self.node_seconds < 0:
            raise ValueError("step_seconds and node_seconds must not be negative")
