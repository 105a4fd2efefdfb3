"""Mutation resolvers."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.context import RequestContext
from graphql_api.inputs import (
    GenerateImageInput,
    ImageInput,
    SavePresetInput,
    generation_request,
    given_parameters,
    image_source,
    parse_uuid,
)
from graphql_api.scalars import Seed
from graphql_api.types import GenerateImagePayload, Image, Preset, Task
from graphql_api.webhooks import WebhookInput, WebhookSettings, webhook_target
from tasks import SubmitResult

Ctx = Info[RequestContext, None]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Queue a Kontext edit; returns the task(s) at once.")
    async def generate_image(self, info: Ctx, input: GenerateImageInput) -> GenerateImagePayload:
        context = info.context
        result = await context.services.tasks.submit(generation_request(input, context.owner))
        return accepted(result, context.services.backends.not_ready_note())

    @strawberry.mutation(
        description="Run a finished task again as a new task: the same reference image(s), "
        "description, workflow, parameters and timeout, with `seed` (null: the original's "
        "seed). The new task's `rerunOf` is the original."
    )
    async def rerun_task(
        self, info: Ctx, id: strawberry.ID, seed: Seed | None = None
    ) -> GenerateImagePayload:
        context = info.context
        result = await context.services.tasks.rerun(
            parse_uuid(id, "id"), owner=context.owner, seed=seed
        )
        return accepted(result, context.services.backends.not_ready_note())

    @strawberry.mutation(
        description="Save a preset under a name (the same name replaces it); its parameters are "
        "checked like generateImage's."
    )
    async def save_preset(self, info: Ctx, input: SavePresetInput) -> Preset:
        context = info.context
        entry = await context.services.presets.save(
            context.owner, input.name, given_parameters(input.parameters)
        )
        return Preset.from_entry(entry)

    @strawberry.mutation(description="Delete one of the caller's presets; returns its id.")
    async def delete_preset(self, info: Ctx, id: strawberry.ID) -> strawberry.ID:
        context = info.context
        return strawberry.ID(await context.services.presets.delete(context.owner, str(id)))

    @strawberry.mutation(description="Store an image to reuse by id in later requests.")
    async def upload_image(self, info: Ctx, image: ImageInput) -> Image:
        context = info.context
        row = await context.services.tasks.store_image(
            image_source(image, "image"), owner=context.owner
        )
        return Image.from_row(row)

    @strawberry.mutation(description="Cancel a pending or running task.")
    async def cancel_task(self, info: Ctx, id: strawberry.ID) -> Task:
        context = info.context
        row = await context.services.tasks.cancel(parse_uuid(id, "id"), owner=context.owner)
        return Task.from_row(row)

    @strawberry.mutation(description="Delete a finished task from history; returns its id.")
    async def delete_task(self, info: Ctx, id: strawberry.ID) -> strawberry.ID:
        context = info.context
        deleted = await context.services.tasks.delete(parse_uuid(id, "id"), owner=context.owner)
        return strawberry.ID(str(deleted))

    @strawberry.mutation(
        description=(
            "Set the caller's default webhook (null: remove it); the first call makes the "
            "caller's signing secret, `rotateSecret` makes a new one."
        )
    )
    async def set_webhook(
        self, info: Ctx, webhook: WebhookInput | None, rotate_secret: bool = False
    ) -> WebhookSettings:
        context = info.context
        settings = await context.services.webhooks.set_default(
            context.owner,
            webhook_target(webhook) if webhook else None,
            rotate_secret=rotate_secret,
        )
        return WebhookSettings.of(settings)


def accepted(result: SubmitResult, not_ready: str | None) -> GenerateImagePayload:
    """The payload of accepted tasks; `not_ready` says why no backend can start them yet."""
    tasks = [Task.from_row(row) for row in result.tasks]
    noun = "task" if len(tasks) == 1 else f"{len(tasks)} tasks"
    verb = "already queued" if result.replayed else "queued"
    message = f"{noun} {verb}"
    if not_ready is not None:
        message += f"; {not_ready}: it starts when one is"
    return GenerateImagePayload(
        task=tasks[0], tasks=tasks, message=message, replayed=result.replayed
    )
