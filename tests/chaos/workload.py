"""The requests of a chaos run, drawn from its seeded RNG: a few reference images made with Pillow,
a mix of seeds and step counts, and some requests identical to earlier ones (ComfyUI's cache)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import random
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

DESCRIPTIONS = (
    "make the car red, keep the background",
    "turn the scene into night",
    "add snow on the ground",
    "make it look like a watercolor painting",
    "remove the people in the background",
)
STEP_CHOICES = (2, 3, 4, 6, 8, 12)
IMAGE_SIZES = ((64, 48), (320, 240), (96, 96), (768, 576))
IDENTICAL_SHARE = 0.15
RANDOM_SEED_SHARE = 0.1
CANCEL_SHARE = 0.05
CANCEL_DELAY_RANGE = (0.0, 2.0)


@dataclass(frozen=True)
class TaskSpec:
    index: int
    idempotency_key: str
    image: int
    description: str
    seed: int | None
    steps: int
    copy_of: int | None = None
    cancel_after: float | None = None  # seconds after acceptance the client cancels it

    def variables(self, images: list[str]) -> dict[str, Any]:
        parameters: dict[str, Any] = {"steps": self.steps}
        if self.seed is not None:
            parameters["seed"] = str(self.seed)
        return {
            "input": {
                "referenceImage": {"base64": images[self.image]},
                "description": self.description,
                "parameters": parameters,
                "idempotencyKey": self.idempotency_key,
            }
        }


def draw_image(number: int, size: tuple[int, int]) -> bytes:
    """A small picture that differs per `number` (so its SHA-256 and ComfyUI upload differ)."""
    color = ((number * 67) % 256, (number * 131) % 256, (number * 29 + 90) % 256)
    picture = Image.new("RGB", size, color)
    gradient = Image.linear_gradient("L").resize(size)
    picture.paste(Image.merge("RGB", (gradient, gradient, gradient)), mask=gradient)
    pen = ImageDraw.Draw(picture)
    pen.rectangle((number % 10, 4, size[0] // 2, size[1] // 2), fill=(255 - color[0], 40, 200))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG" if number % 2 == 0 else "JPEG")
    return buffer.getvalue()


async def reference_images(count: int) -> list[str]:
    """`count` distinct images as base64 text, drawn in a worker thread."""

    def draw_all() -> list[str]:
        pictures = [draw_image(n, IMAGE_SIZES[n % len(IMAGE_SIZES)]) for n in range(count)]
        return [base64.b64encode(data).decode() for data in pictures]

    return await asyncio.to_thread(draw_all)


def plan_tasks(rng: random.Random, count: int, images: int, run_seed: int) -> list[TaskSpec]:
    specs: list[TaskSpec] = []
    for index in range(count):
        specs.append(plan_task(rng, index, images, run_seed, specs))
    return specs


def plan_task(
    rng: random.Random, index: int, images: int, run_seed: int, earlier: list[TaskSpec]
) -> TaskSpec:
    """The next request: a copy of an earlier one or a fresh one; now and then cancelled."""
    key = f"chaos-{run_seed}-{index}"
    if earlier and rng.random() < IDENTICAL_SHARE:
        original = rng.choice([spec for spec in earlier if spec.seed is not None] or earlier)
        spec = dataclasses.replace(
            original, index=index, idempotency_key=key, copy_of=original.index, cancel_after=None
        )
    else:
        spec = TaskSpec(
            index=index,
            idempotency_key=key,
            image=rng.randrange(images),
            description=rng.choice(DESCRIPTIONS),
            seed=None if rng.random() < RANDOM_SEED_SHARE else rng.randrange(2**64),
            steps=rng.choice(STEP_CHOICES),
        )
    if rng.random() < CANCEL_SHARE:
        spec = dataclasses.replace(spec, cancel_after=rng.uniform(*CANCEL_DELAY_RANGE))
    return spec
