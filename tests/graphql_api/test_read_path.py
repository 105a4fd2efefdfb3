"""The read path: a history page and task(id) answer from what they read with the page (images
in one query, links signed in one pass), the same as fields read one by one, and sign their links
anew on every read."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from graphql_api.context import RequestContext
from graphql_api.queries import field_names
from graphql_api.schema import build_schema
from tasks import Services
from tasks.status import TaskStatus
from tasks.store.database import Database
from tasks.store.models import ImageKind, StoredImage, Task
from tests.support.graphql import GraphQLClient
from tests.support.images import encoded

GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { tasks { id } } }"""
TASK_FIELDS = """fragment Shown on Task {
  id status queuePosition estimatedFinishAt previewUrl
  shot: result { imageUrl previewUrl width height format bytes
                 image { id url thumbnailUrl width } }
  referenceImage { id url thumbnailUrl contentType }
  secondImage { id url }
  rerunOf { id }
  batch { id }
}"""
HISTORY = "query { history(first: 10) { edges { node { ...Shown } } } } " + TASK_FIELDS
TASK = "query($id: ID!) { task(id: $id) { ...Shown } } " + TASK_FIELDS
NODE = "query($id: ID!) { node(id: $id) { ...Shown } } " + TASK_FIELDS
SIZES = "query { history(first: 10) { edges { node { id result { width height } } } } }"


async def submit(api: GraphQLClient, description: str) -> str:
    data = {
        "referenceImage": {"base64": base64.b64encode(encoded(8, 8)).decode()},
        "description": description,
    }
    payload = (await api.execute(GENERATE, input=data)).ok()
    return str(payload["generateImage"]["tasks"][0]["id"])


async def complete(task_id: str, owner: str = "local") -> None:
    image = await StoredImage.create(
        id=uuid.uuid4(),
        owner=owner,
        kind=ImageKind.OUTPUT,
        sha256="0" * 64,
        blob_key=f"outputs/{task_id}.png",
        thumbnail_key=f"thumbnails/{task_id}.webp",
        content_type="image/png",
        width=64,
        height=48,
        size=1234,
        created_at=datetime.now(UTC),
    )
    await Task.filter(id=task_id).update(
        status=TaskStatus.COMPLETED, result_image_id=image.id, progress=100.0
    )


async def test_a_page_shows_what_its_tasks_show_one_by_one(
    api: GraphQLClient, database: Database
) -> None:
    done = await submit(api, "make it red")
    await complete(done)
    running = await submit(api, "make it blue")
    await Task.filter(id=running).update(
        status=TaskStatus.PROCESSING, prompt_id=str(uuid.uuid4()), preview_key="previews/p.webp"
    )
    waiting = await submit(api, "make it green")
    page = (await api.execute(HISTORY)).ok()["history"]["edges"]
    by_id = {edge["node"]["id"]: edge["node"] for edge in page}
    assert set(by_id) == {done, running, waiting}
    for task_id, shown in by_id.items():
        assert (await api.execute(TASK, id=task_id)).ok()["task"] == shown
        assert (await api.execute(NODE, id=task_id)).ok()["node"] == shown
    result = by_id[done]["shot"]
    assert result["imageUrl"].endswith(f"/files/outputs/{done}.png")
    assert result["previewUrl"].endswith(f"/files/thumbnails/{done}.webp")
    assert result["image"]["url"] == result["imageUrl"]
    assert (result["width"], result["height"], result["format"]) == (64, 48, "PNG")
    assert by_id[running]["previewUrl"].endswith("/files/previews/p.webp")
    assert by_id[waiting]["queuePosition"] == 0
    assert by_id[waiting]["shot"] is None
    assert by_id[done]["referenceImage"]["url"].startswith("http")


async def test_a_page_without_links_reads_the_images_it_shows(
    api: GraphQLClient, database: Database
) -> None:
    done = await submit(api, "make it red")
    await complete(done)
    page = (await api.execute(SIZES)).ok()["history"]["edges"]
    assert [edge["node"]["result"] for edge in page] == [{"width": 64, "height": 48}]


class CountingLinks:
    """Links that say how many were signed before them, as presigned links differ per read;
    they expire at once, so no answer holding them is given again (graphql_api/reuse.py)."""

    link_life = 0.0

    def __init__(self) -> None:
        self.signed = 0

    async def url_for(self, key: str, base_url: str) -> str:
        self.signed += 1
        return f"https://bucket.example/{key}?signature={self.signed}"

    def url_now(self, key: str, base_url: str) -> None:
        return None


async def test_links_are_signed_anew_on_every_read_and_owners_see_only_their_own(
    api: GraphQLClient, database: Database
) -> None:
    done = await submit(api, "make it red")
    await complete(done)
    schema = build_schema()
    links = CountingLinks()

    async def read(document: str, owner: str = "local", **variables: Any) -> dict[str, Any]:
        context = RequestContext(
            services=cast(Services, None), owner=owner, public_url="", links=links
        )
        result = await schema.execute(document, variable_values=variables, context_value=context)
        assert result.errors is None
        assert result.data is not None
        return result.data

    query = "query { history(first: 5) { edges { node { result { imageUrl } } } } }"
    first = (await read(query))["history"]["edges"][0]["node"]["result"]["imageUrl"]
    second = (await read(query))["history"]["edges"][0]["node"]["result"]["imageUrl"]
    assert first != second
    assert first.startswith(f"https://bucket.example/outputs/{done}.png?signature=")
    assert (await read(query, owner="someone-else"))["history"]["edges"] == []


def test_the_fields_a_selection_shows_are_found_through_fragments_and_behind_aliases() -> None:
    document = parse(
        "query { history { edges { node { ... on Task { shot: result { imageUrl } } ...Refs } } } }"
        " fragment Refs on Task { secondImage { id } ...Deeper } fragment Deeper on Task { step }"
    )
    operation, *definitions = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    fragments = {
        node.name.value: node for node in definitions if isinstance(node, FragmentDefinitionNode)
    }
    names = list(field_names(operation.selection_set.selections, fragments))
    assert names == ["history", "edges", "node", "result", "imageUrl", "secondImage", "id", "step"]
