from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

from tests.support.graphql import GraphQLClient, client_with_key
from tests.support.images import encoded

TASK_FIELDS = """id status description workflow seed: parameters { seed }
  parameters { steps cfg guidance sampler scheduler denoise }
  referenceImage { id } secondImage { id } rerunOf { id } createdAt deadlineAt"""
GENERATE = f"""mutation($input: GenerateImageInput!) {{
  generateImage(input: $input) {{ task {{ {TASK_FIELDS} }} }} }}"""
RERUN = f"""mutation($id: ID!, $seed: Seed) {{
  rerunTask(id: $id, seed: $seed) {{ message replayed task {{ {TASK_FIELDS} }} tasks {{ id }} }} }}"""
CANCEL = "mutation($id: ID!) { cancelTask(id: $id) { status } }"
UPLOAD = "mutation($image: ImageInput!) { uploadImage(image: $image) { id } }"
UPLOADS = """query($first: Int!, $after: String) { uploads(first: $first, after: $after) {
  edges { cursor node { id width height } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


def picture(width: int, height: int = 8) -> str:
    return base64.b64encode(encoded(width, height)).decode()


async def finished_task(api: GraphQLClient, **extra: object) -> dict[str, Any]:
    data = {
        "referenceImage": {"base64": picture(8)},
        "secondImage": {"base64": picture(9)},
        "description": "make the sky green",
        "parameters": {"steps": 7, "cfg": 1.5, "sampler": "heun", "seed": "12345"},
        "timeoutSeconds": 600,
        **extra,
    }
    task: dict[str, Any] = (await api.execute(GENERATE, input=data)).ok()["generateImage"]["task"]
    assert (await api.execute(CANCEL, id=task["id"])).ok()["cancelTask"]["status"] == "CANCELLED"
    return task


def seconds_allowed(task: dict[str, Any]) -> float:
    allowed = datetime.fromisoformat(task["deadlineAt"]) - datetime.fromisoformat(task["createdAt"])
    return allowed.total_seconds()


def request_of(task: dict[str, Any]) -> dict[str, Any]:
    """What a re-run keeps: everything but the task's own id, state, seed, times and link."""
    drop = {"id", "status", "seed", "rerunOf", "createdAt", "deadlineAt"}
    return {key: value for key, value in task.items() if key not in drop}


async def test_rerun_makes_a_linked_task_with_the_same_request_and_seed(
    api: GraphQLClient,
) -> None:
    original = await finished_task(api)
    payload = (await api.execute(RERUN, id=original["id"])).ok()["rerunTask"]
    rerun = payload["task"]
    assert payload["tasks"] == [{"id": rerun["id"]}] and not payload["replayed"]
    assert rerun["id"] != original["id"] and rerun["status"] == "PENDING"
    assert rerun["rerunOf"] == {"id": original["id"]}
    assert original["rerunOf"] is None
    assert request_of(rerun) == request_of(original)
    assert rerun["seed"] == {"seed": "12345"}
    kept = await api.execute(
        f"query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}", id=rerun["id"]
    )
    task = kept.ok()["task"]
    assert task["rerunOf"]["id"] == original["id"]
    # The timeout the original was accepted with carries over.
    assert seconds_allowed(task) == seconds_allowed(original) == 600


async def test_rerun_with_a_seed_uses_it_and_deleting_the_original_unlinks(
    api: GraphQLClient,
) -> None:
    original = await finished_task(api)
    rerun = (await api.execute(RERUN, id=original["id"], seed="42")).ok()["rerunTask"]["task"]
    assert rerun["seed"] == {"seed": "42"}
    assert request_of(rerun) == request_of(original)
    await api.execute("mutation($id: ID!) { deleteTask(id: $id) }", id=original["id"])
    query = "query($id: ID!) { task(id: $id) { rerunOf { id } } }"
    assert (await api.execute(query, id=rerun["id"])).ok()["task"] == {"rerunOf": None}


async def test_history_shows_each_rerun_with_its_original(api: GraphQLClient) -> None:
    first, second = await finished_task(api), await finished_task(api, description="other")
    again = [
        (await api.execute(RERUN, id=task["id"])).ok()["rerunTask"]["task"]["id"]
        for task in (first, second, first)
    ]
    history = "{ history(first: 10) { edges { node { id rerunOf { id description } } } } }"
    nodes = [e["node"] for e in (await api.execute(history)).ok()["history"]["edges"]]
    links = {node["id"]: node["rerunOf"] for node in nodes}
    assert (
        links[again[0]]
        == links[again[2]]
        == {"id": first["id"], "description": "make the sky green"}
    )
    assert links[again[1]] == {"id": second["id"], "description": "other"}
    assert links[first["id"]] is None and links[second["id"]] is None


async def test_only_finished_tasks_can_be_rerun(api: GraphQLClient) -> None:
    data = {"referenceImage": {"base64": picture(8)}, "description": "make it red"}
    pending = (await api.execute(GENERATE, input=data)).ok()["generateImage"]["task"]
    assert (await api.execute(RERUN, id=pending["id"])).codes == ["INVALID_STATE"]
    assert (await api.execute(RERUN, id=str(uuid.uuid4()))).codes == ["NOT_FOUND"]
    assert (await api.execute(RERUN, id="nope")).codes == ["BAD_USER_INPUT"]
    finished = await finished_task(api)
    assert (await api.execute(RERUN, id=finished["id"], seed="-1")).codes == ["BAD_USER_INPUT"]


async def test_uploads_lists_the_callers_reference_images_newest_first(
    api: GraphQLClient,
) -> None:
    first = (await api.execute(UPLOAD, image={"base64": picture(10)})).ok()["uploadImage"]
    second = (await api.execute(UPLOAD, image={"base64": picture(11)})).ok()["uploadImage"]
    data = {"referenceImage": {"base64": picture(12)}, "description": "make it red"}
    task = (await api.execute(GENERATE, input=data)).ok()["generateImage"]["task"]
    # Uploading the same picture again adds nothing.
    assert (await api.execute(UPLOAD, image={"base64": picture(10)})).ok()["uploadImage"] == first
    page = (await api.execute(UPLOADS, first=2)).ok()["uploads"]
    assert [e["node"]["id"] for e in page["edges"]] == [task["referenceImage"]["id"], second["id"]]
    assert page["edges"][0]["node"]["width"] == 12
    assert page["pageInfo"]["hasNextPage"] and not page["pageInfo"]["hasPreviousPage"]
    assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
    rest = (await api.execute(UPLOADS, first=2, after=page["pageInfo"]["endCursor"])).ok()
    assert [e["node"]["id"] for e in rest["uploads"]["edges"]] == [first["id"]]
    assert rest["uploads"]["pageInfo"]["hasPreviousPage"]
    assert not rest["uploads"]["pageInfo"]["hasNextPage"]
    assert (await api.execute(UPLOADS, first=0)).codes == ["BAD_USER_INPUT"]
    assert (await api.execute(UPLOADS, first=5, after="nope")).codes == ["BAD_USER_INPUT"]


async def test_uploads_and_reruns_stay_with_their_owner(secured_url: str) -> None:
    alice = await client_with_key(secured_url, "alice")
    bob = await client_with_key(secured_url, "bob")
    async with alice.http, bob.http:
        task = await finished_task(alice)
        assert (await bob.execute(RERUN, id=task["id"])).codes == ["NOT_FOUND"]
        assert (await bob.execute(UPLOADS, first=10)).ok()["uploads"]["edges"] == []
        mine = (await alice.execute(UPLOADS, first=10)).ok()["uploads"]["edges"]
        assert len(mine) == 2
