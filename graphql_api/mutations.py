"""Mutation resolvers."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.context import RequestContext
from graphql_api.inputs import (
    GenerateImageInput,
    ImageInput,
    generation_request,
    image_source,
    parse_uuid,
)
from graphql_api.types import GenerateImagePayload, Image, Task

Ctx = Info[RequestContext, None]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Queue a Kontext edit; returns the task(s) at once.")
    async def generate_image(self, info: Ctx, input: GenerateImageInput) -> GenerateImagePayload:
        context = info.context
        result = await context.services.tasks.submit(generation_request(input, context.owner))
        tasks = [Task.from_row(row) for row in result.tasks]
        noun = "task" if len(tasks) == 1 else f"{len(tasks)} tasks"
        verb = "already queued" if result.replayed else "queued"
        message = f"{noun} {verb}"
        not_ready = context.services.backends.not_ready_note()
        if not_ready is not None:
            message += f"; {not_ready}: it starts when one is"
        return GenerateImagePayload(
            task=tasks[0], tasks=tasks, message=message, replayed=result.replayed
        )

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
