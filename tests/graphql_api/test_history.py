from __future__ import annotations

import base64
import dataclasses

import httpx

from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tasks.store.models import Task
from tests.support.graphql import GraphQLClient
from tests.support.images import encoded
from tests.support.server import serve_asgi

GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { tasks { id } } }"""
HISTORY = """query($first: Int, $after: String, $status: [TaskStatus!], $search: String) {
  history(first: $first, after: $after, status: $status, search: $search) {
    totalCount
    edges { cursor node { id status description } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }"""
IMAGE = base64.b64encode(encoded(8, 8)).decode()


async def submit(api: GraphQLClient, description: str, count: int = 1) -> list[str]:
    data = {"referenceImage": {"base64": IMAGE}, "description": description, "count": count}
    payload = (await api.execute(GENERATE, input=data)).ok()
    return [task["id"] for task in payload["generateImage"]["tasks"]]


async def test_history_pages_through_200_tasks_without_duplicates_or_gaps(
    api: GraphQLClient,
) -> None:
    created: list[str] = []
    for batch in range(25):
        created += await submit(api, f"edit {batch}", count=8)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await api.execute(HISTORY, first=50, after=after)).ok()["history"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        pages += 1
        # Tasks created while paging are newer than every cursor and must not shift later pages.
        await submit(api, f"concurrent {pages}")
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 4
    assert len(seen) == len(set(seen)) == 200
    assert set(seen) == set(created)


async def test_history_is_newest_first_and_filters_by_status_and_text(api: GraphQLClient) -> None:
    red = await submit(api, "make the car red")
    blue = await submit(api, "make the sky blue")
    await api.execute("mutation($id: ID!) { cancelTask(id: $id) { id } }", id=red[0])
    everything = (await api.execute(HISTORY, first=10)).ok()["history"]
    assert [e["node"]["id"] for e in everything["edges"]] == blue + red
    cancelled = (await api.execute(HISTORY, status=["CANCELLED"])).ok()["history"]
    assert [e["node"]["id"] for e in cancelled["edges"]] == red
    assert cancelled["totalCount"] == 1
    sky = (await api.execute(HISTORY, search="SKY")).ok()["history"]
    assert [e["node"]["id"] for e in sky["edges"]] == blue


async def test_bad_cursor_and_page_size_are_typed_errors(api: GraphQLClient) -> None:
    assert (await api.execute(HISTORY, after="not-a-cursor")).codes == ["BAD_USER_INPUT"]
    assert (await api.execute(HISTORY, first=0)).codes == ["BAD_USER_INPUT"]
    too_many = await api.execute(HISTORY, first=1000)
    assert too_many.codes == ["BAD_USER_INPUT"]
    assert too_many.errors[0]["message"] == "first: must be between 1 and 100."
    long_search = await api.execute(HISTORY, search="x" * 1000)
    assert long_search.errors[0]["message"].startswith("search: is limited to ")


async def test_cancel_pending_task_then_cancel_again_is_an_invalid_state(
    api: GraphQLClient,
) -> None:
    [task_id] = await submit(api, "make it night")
    cancel = "mutation($id: ID!) { cancelTask(id: $id) { id status error { code } } }"
    first = (await api.execute(cancel, id=task_id)).ok()["cancelTask"]
    assert first["status"] == "CANCELLED"
    assert first["error"]["code"] == "CANCELLED"
    again = await api.execute(cancel, id=task_id)
    assert again.codes == ["INVALID_STATE"]


async def test_delete_removes_a_finished_task_and_refuses_an_active_one(api: GraphQLClient) -> None:
    [task_id] = await submit(api, "add a hat")
    delete = "mutation($id: ID!) { deleteTask(id: $id) }"
    assert (await api.execute(delete, id=task_id)).codes == ["INVALID_STATE"]
    await api.execute("mutation($id: ID!) { cancelTask(id: $id) { id } }", id=task_id)
    assert (await api.execute(delete, id=task_id)).ok() == {"deleteTask": task_id}
    assert await Task.filter(id=task_id).count() == 0


async def test_unknown_and_malformed_task_ids_are_typed_errors(api: GraphQLClient) -> None:
    query = "query($id: ID!) { task(id: $id) { id } }"
    missing = await api.execute(query, id="00000000-0000-4000-8000-000000000000")
    assert missing.codes == ["NOT_FOUND"]
    assert (await api.execute(query, id="nope")).codes == ["BAD_USER_INPUT"]


async def test_query_depth_and_alias_limits_are_enforced(
    settings: Settings, database: Database
) -> None:
    limited = dataclasses.replace(settings, max_query_depth=3, max_query_aliases=3)
    async with serve_asgi(create_app(limited)) as url, httpx.AsyncClient(base_url=url) as http:
        api = GraphQLClient(http)
        shallow = "{ history { edges { cursor } } }"
        assert (await api.execute(shallow)).errors == []
        deep = "{ history { edges { node { referenceImage { id } } } } }"
        assert (await api.execute(deep)).codes == ["GRAPHQL_VALIDATION_FAILED"]
        aliases = "{ a: workflows { name } b: workflows { name } c: workflows { name } d: workflows { name } }"
        assert (await api.execute(aliases)).codes == ["GRAPHQL_VALIDATION_FAILED"]
