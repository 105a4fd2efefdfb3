"""What flows along the links of an emulated graph, and how a node reports failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image


@dataclass(frozen=True)
class ModelHandle:
    """A loaded model (MODEL, CLIP or VAE): only its name matters to the emulator."""

    kind: str
    name: str


@dataclass(frozen=True)
class Latent:
    """A latent, kept in pixel space so the emulator can render previews and outputs."""

    image: Image.Image


@dataclass(frozen=True)
class Conditioning:
    text: str
    guidance: float | None = None
    references: tuple[Latent, ...] = ()
    zeroed: bool = False


@dataclass(frozen=True)
class NodeResult:
    outputs: tuple[Any, ...]
    ui: dict[str, Any] | None = None


@dataclass
class NodeFailure(Exception):
    """A node raised while running: reported as `execution_error` with these fields."""

    exception_type: str
    exception_message: str
    traceback: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.exception_type}: {self.exception_message}"


class Interrupted(Exception):
    """The running prompt was interrupted (POST /interrupt)."""
