"""Query resolvers: thin, delegating to the domain. `history` and `task` read what their
selection shows once (the images, their links) and hand it to the fields."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from uuid import UUID

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
)
from strawberry.types import Info

from comfy.urls import shown_url
from graphql_api.context import RequestContext
from graphql_api.inputs import input_field, parse_uuid
from graphql_api.readings import noting
from graphql_api.types import (
    BackendInfo,
    Image,
    ImageConnection,
    ImageEdge,
    Node,
    PageInfo,
    Preset,
    ReadTogether,
    Task,
    TaskConnection,
    TaskEdge,
    Workflow,
    WorkflowParameter,
    WorkflowProblem,
)
from graphql_api.webhooks import WebhookSettings
from tasks import (
    BackendKind,
    Cursor,
    HistoryQuery,
    ImageRecord,
    ImageRelation,
    TaskNotFound,
    TaskStatus,
    history_page,
    owned_image,
    owned_task_with_images,
    uploads_page,
)
from workflows.manifest import ParameterSpec, WorkflowTemplate

Ctx = Info[RequestContext, None]

# The image fields of a task, and the relation each shows.
IMAGE_FIELDS: dict[str, ImageRelation] = {
    "referenceImage": "reference_image",
    "secondImage": "second_image",
    "result": "result_image",
}
LINK_FIELDS = frozenset({"url", "thumbnailUrl", "imageUrl", "previewUrl"})


def field_names(
    selections: Iterable[SelectionNode], fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[str]:
    """Every field name selected below, through fragments (aliases do not matter), read from
    the parsed document itself: Strawberry's `selected_fields` would first copy the whole
    selection with its arguments and directives, on every request."""
    for selection in selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
            below = selection.selection_set
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            below = fragment.selection_set if fragment is not None else None
        else:
            below = selection.selection_set if isinstance(selection, InlineFragmentNode) else None
        if below is not None:
            yield from field_names(below.selections, fragments)


def selected(info: Ctx) -> frozenset[str]:
    """Every field name the resolver's selection shows (see `field_names`)."""
    raw = info._raw_info
    return frozenset(field_names(raw.field_nodes, raw.fragments))


def to_read(names: frozenset[str]) -> tuple[list[ImageRelation], bool]:
    """The image relations a selection shows (to read with the tasks), and whether it asks
    for any link (to sign them in one pass). Reading more than shown costs time, never
    correctness: a field whose data was not read reads it itself."""
    return [relation for name, relation in IMAGE_FIELDS.items() if name in names], bool(
        names & LINK_FIELDS
    )


async def read_with(
    info: Ctx, images: dict[UUID, ImageRecord], preview_keys: Iterable[str | None], links: bool
) -> ReadTogether:
    """The images read with a page, and (when the selection shows links) their links and the
    tasks' previews signed for this read in one pass."""
    signed: dict[str, str] = {}
    if links:
        keys = [key for image in images.values() for key in (image.blob_key, image.thumbnail_key)]
        await info.context.sign(
            (key for key in (*keys, *preview_keys) if key is not None), into=signed
        )
    return ReadTogether(images, signed)


def workflow_of(template: WorkflowTemplate) -> Workflow:
    return Workflow(
        name=template.name,
        title=template.title,
        description=template.description,
        parameters=[parameter_of(spec) for spec in template.parameters],
    )


def parameter_of(spec: ParameterSpec) -> WorkflowParameter:
    return WorkflowParameter(
        name=spec.name,
        type=spec.type,
        description=spec.description,
        required=spec.required,
        default=None if spec.default is None else json.dumps(spec.default),
        minimum=None if spec.minimum is None else float(spec.minimum),
        maximum=None if spec.maximum is None else float(spec.maximum),
        choices=list(spec.choices) if spec.choices else None,
        input_field=input_field(spec.name),
    )


@strawberry.type
class Query:
    @strawberry.field(description="One task of the caller's, by id.")
    async def task(self, info: Ctx, id: strawberry.ID) -> Task | None:
        task_id = parse_uuid(id, "id")
        names = selected(info)
        joined, links = to_read(names)
        owner = info.context.owner
        found = await owned_task_with_images(task_id, owner, joined)
        if found is None:
            raise TaskNotFound(task_id)
        row, images = found
        readings = noting()
        if readings is not None:
            again = partial(owned_task_with_images, task_id, owner, joined)
            readings.note_tasks([row], names, again, found)
        return Task.from_row(row, await read_with(info, images, [row.preview_key], links))

    @strawberry.field(description="The caller's tasks, newest first, as a Relay connection.")
    async def history(
        self,
        info: Ctx,
        first: int = 20,
        after: str | None = None,
        status: list[TaskStatus] | None = None,
        search: str | None = None,
    ) -> TaskConnection:
        query = HistoryQuery(
            owner=info.context.owner,
            first=first,
            after=after,
            statuses=frozenset(status or ()),
            search=search or None,
        )
        names = selected(info)
        joined, links = to_read(names)
        page = await history_page(query, joined)
        readings = noting()
        if readings is not None:
            readings.note_tasks(page.tasks, names, partial(history_page, query, joined), page)
        together = await read_with(info, page.images, (t.preview_key for t in page.tasks), links)
        return TaskConnection(
            edges=[
                TaskEdge(cursor=Cursor.of(row).encode(), node=Task.from_row(row, together))
                for row in page.tasks
            ],
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=after is not None,
                start_cursor=page.start_cursor,
                end_cursor=page.end_cursor,
            ),
            query=query,
        )

    @strawberry.field(
        description="The reference images the caller gave (uploadImage, or with a task), newest "
        "first, as a Relay connection: pass one's id as `imageId` to use it again."
    )
    async def uploads(
        self, info: Ctx, first: int = 20, after: str | None = None
    ) -> ImageConnection:
        images, has_next_page = await uploads_page(info.context.owner, first, after)
        edges = [
            ImageEdge(cursor=Cursor.of(row).encode(), node=Image.from_row(row)) for row in images
        ]
        return ImageConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=has_next_page,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(
        description="The built-in presets (fast draft, balanced, strong edit), then the "
        "caller's own by name."
    )
    async def presets(self, info: Ctx) -> list[Preset]:
        context = info.context
        return [
            Preset.from_entry(entry)
            for entry in await context.services.presets.of_owner(context.owner)
        ]

    @strawberry.field(description="An image the caller uploaded or generated.")
    async def image(self, info: Ctx, id: strawberry.ID) -> Image | None:
        row = await owned_image(parse_uuid(id, "id"), info.context.owner)
        return Image.from_row(row) if row else None

    @strawberry.field(description="Any task or image by id.")
    async def node(self, info: Ctx, id: strawberry.ID) -> Node | None:
        context = info.context
        key = parse_uuid(id, "id")
        row = await owned_image(key, context.owner)
        if row is not None:
            return Image.from_row(row)
        return Task.from_row(await context.services.tasks.get(key, owner=context.owner))

    @strawberry.field(description="The ComfyUI backends, their health and their queues.")
    def backends(self, info: Ctx) -> list[BackendInfo]:
        return [
            BackendInfo(
                url=shown_url(backend.url),
                emulated=backend.kind is not BackendKind.COMFYUI,
                kind=backend.kind,
                connected=backend.connected,
                ready=backend.ready,
                not_ready_reason=backend.not_ready_reason,
                comfyui_version=backend.version,
                running_prompt_ids=list(backend.running),
                queued_prompt_ids=list(backend.queued),
                reconnects=backend.reconnects,
                client_id=backend.client.client_id,
                stalled_since=backend.socket.stalled_since,
                stalls=backend.socket.stalls,
                workflows=backend.runnable,
                unrunnable_workflows=[
                    WorkflowProblem(workflow=name, reason=reason)
                    for name, reason in sorted(backend.cannot_run.items())
                ],
                loaded_models=sorted(backend.loaded_models),
            )
            for backend in info.context.services.backends.all
        ]

    @strawberry.field(description="The workflow templates, with their parameters and ranges.")
    def workflows(self, info: Ctx) -> list[Workflow]:
        templates = info.context.services.templates
        return [workflow_of(templates.get(name)) for name in templates.names()]

    @strawberry.field(description="The caller's default webhook and signing secret (setWebhook).")
    async def webhook_settings(self, info: Ctx) -> WebhookSettings:
        context = info.context
        return WebhookSettings.of(await context.services.webhooks.settings(context.owner))
