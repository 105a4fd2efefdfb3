"""What nodes and validation may consult: folders, model files and settings."""

from __future__ import annotations

from dataclasses import dataclass

from comfy.emulator.config import EmulatorConfig
from comfy.emulator.files import FileStore

VAE_EXTRAS = ("pixel_space",)


@dataclass(frozen=True)
class Environment:
    config: EmulatorConfig
    files: FileStore

    def choices(self, source: str) -> list[str]:
        models = self.config.models
        if source == "diffusion_models":
            return list(models.diffusion_models)
        if source == "text_encoders":
            return list(models.text_encoders)
        if source == "vae":
            return [*models.vae, *VAE_EXTRAS]
        if source == "loras":
            return list(models.loras)
        if source == "input_images":
            return self.files.input_images()
        raise KeyError(source)

    def is_corrupt(self, model_name: str) -> bool:
        return model_name in self.config.models.corrupt
