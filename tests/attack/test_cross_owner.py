"""Two owners over every query, mutation and subscription: whatever alice made, bob gets exactly
what he gets for an id that never existed (NOT_FOUND or null; never FORBIDDEN, never data), and
nothing bob does touches it. Alice has a finished batch (idempotency key, results, previews), a
running task, a cancelled one and an uploaded image; each check also runs as alice, so none of
them passes for want of data."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tasks.store.models import StoredImage, Task
from tests.attack.environments import new_owner
from tests.attack.owners import (
    DESCRIPTION,
    GENERATE,
    AliceWorld,
    Owner,
    alice_picture,
    batch_request,
    random_id,
    submit,
    wait_until_finished,
)
from tests.attack.service import ServiceThread
from tests.attack.sockets import SENTINEL
from tests.attack.wire import Reply
from tests.support.graphql_ws import GraphQLWebSocket, graphql_ws

pytestmark = pytest.mark.database

BY_ID = {
    "task": "query($id: ID!) { task(id: $id) { id status description } }",
    "node": "query($id: ID!) { node(id: $id) { id ... on Task { description } ... on Image { url } } }",
    "image": "query($id: ID!) { image(id: $id) { id url sha256 } }",
    "cancelTask": "mutation($id: ID!) { cancelTask(id: $id) { id status } }",
    "deleteTask": "mutation($id: ID!) { deleteTask(id: $id) }",
    "rerunTask": "mutation($id: ID!) { rerunTask(id: $id) { task { id description } } }",
    "deletePreset": "mutation($id: ID!) { deletePreset(id: $id) }",
}
PRESETS = "{ presets { id name builtIn } }"
UPLOADS = "{ uploads(first: 100) { edges { cursor node { id url } } } }"
HISTORY = """query($first: Int, $after: String, $status: [TaskStatus!], $search: String) {
  history(first: $first, after: $after, status: $status, search: $search) {
    totalCount edges { node { id description } } } }"""
UPLOAD = "mutation($image: ImageInput!) { uploadImage(image: $image) { id } }"
PROGRESS = "subscription($id: ID!) { taskProgress(id: $id) { kind task { id description } } }"
UPDATES = "subscription($status: [TaskStatus!]) { taskUpdates(status: $status) { kind status task { id } } }"
STATUSES = ("PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED")


def normalized(reply: Reply, thing: str) -> str:
    return json.dumps(reply.body, sort_keys=True).replace(thing, "<id>")


def assert_missing_for_stranger(
    service: ServiceThread, who: Owner, query: str, thing: str, world: AliceWorld
) -> None:
    """`who` gets for `thing` exactly what it gets for an id that never existed."""
    reply = service.run(who.call(query, id=thing))
    never = random_id()
    baseline = service.run(who.call(query, id=never))
    assert "FORBIDDEN" not in reply.codes, f"{query} with {thing}: {reply.body}"
    assert normalized(reply, thing) == normalized(baseline, never), (
        f"{query}: {who.name} can tell alice's {thing} from a missing id: {reply.body}"
    )
    assert_no_alice_data(reply, world, allowed=thing)


def assert_no_alice_data(reply: Reply, world: AliceWorld, allowed: str = "") -> None:
    text = json.dumps(reply.body)
    leaked = [
        v
        for v in [*world.task_ids, *world.image_ids, *world.urls.values()]
        if v and v != allowed and v in text
    ]
    assert DESCRIPTION not in text and not leaked, f"alice's data leaked: {leaked} in {text[:400]}"


def test_alice_sees_her_own_things(secured: ServiceThread, alice: Owner, world: AliceWorld) -> None:
    for thing in world.task_ids:
        assert secured.run(alice.call(BY_ID["task"], id=thing)).ok()["task"]["id"] == thing
    for thing in world.image_ids:
        assert secured.run(alice.call(BY_ID["image"], id=thing)).ok()["image"]["id"] == thing
        assert secured.run(alice.call(BY_ID["node"], id=thing)).ok()["node"]["id"] == thing


@pytest.mark.parametrize("operation", sorted(BY_ID))
def test_every_operation_by_id_treats_alices_things_as_missing(
    secured: ServiceThread, alice: Owner, world: AliceWorld, bob: Owner, operation: str
) -> None:
    before = {t: secured.run(alice.call(BY_ID["task"], id=t)).ok()["task"] for t in world.task_ids}
    for thing in [*world.task_ids, *world.image_ids, world.batch_id]:
        assert_missing_for_stranger(secured, bob, BY_ID[operation], thing, world)
    for thing, was in before.items():
        now = secured.run(alice.call(BY_ID["task"], id=thing)).ok()["task"]
        assert now is not None, f"bob's {operation} removed alice's task {thing}"
        if was["status"] in ("COMPLETED", "CANCELLED"):
            assert now["status"] == was["status"], f"bob's {operation} changed {thing}: {now}"
        assert now["status"] != "CANCELLED" or was["status"] == "CANCELLED", (
            f"bob cancelled {thing}"
        )


def test_presets_and_uploads_are_their_owners(
    secured: ServiceThread, alice: Owner, world: AliceWorld, bob: Owner
) -> None:
    save = "mutation($input: SavePresetInput!) { savePreset(input: $input) { id } }"
    preset = {"name": DESCRIPTION[:100], "parameters": {"steps": 3}}
    preset_id = secured.run(alice.call(save, input=preset)).ok()["savePreset"]["id"]
    assert_missing_for_stranger(secured, bob, BY_ID["deletePreset"], preset_id, world)
    theirs = secured.run(bob.call(PRESETS))
    assert all(p["builtIn"] for p in theirs.ok()["presets"]), theirs.body
    assert_no_alice_data(theirs, world)
    assert preset_id not in json.dumps(theirs.body)
    uploads = secured.run(bob.call(UPLOADS))
    assert uploads.ok()["uploads"]["edges"] == []
    # The controls: alice still has her preset and sees her upload.
    mine = secured.run(alice.call(PRESETS)).ok()["presets"]
    assert preset_id in [p["id"] for p in mine]
    own_uploads = secured.run(alice.call(UPLOADS)).ok()["uploads"]["edges"]
    assert world.image_id in [edge["node"]["id"] for edge in own_uploads]
    assert secured.run(owned_rows(bob.name)) == (0, 0)


def test_alices_images_cannot_be_reused_by_id(
    secured: ServiceThread, world: AliceWorld, bob: Owner
) -> None:
    own = {"base64": base64.b64encode(alice_picture()).decode()}
    for thing in world.image_ids:
        for field in ("referenceImage", "secondImage"):
            data = {"referenceImage": own, "description": "bob's edit", field: {"imageId": thing}}
            query = GENERATE.replace("$input: GenerateImageInput!", "$id: ID!").replace(
                "input: $input", "input: " + graphql_literal(data).replace(json.dumps(thing), "$id")
            )
            assert_missing_for_stranger(secured, bob, query, thing, world)
        upload = "mutation($id: ID!) { uploadImage(image: {imageId: $id}) { id } }"
        assert_missing_for_stranger(secured, bob, upload, thing, world)
    counts = secured.run(owned_rows(bob.name))
    assert counts == (0, 0), f"refused reuse wrote rows for bob: {counts}"


def graphql_literal(value: Any) -> str:
    """A GraphQL input literal for plain JSON-like data."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {graphql_literal(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


async def owned_rows(owner: str) -> tuple[int, int]:
    return await Task.filter(owner=owner).count(), await StoredImage.filter(owner=owner).count()


def test_idempotency_keys_belong_to_their_owner(
    secured: ServiceThread, world: AliceWorld, bob: Owner
) -> None:
    same = batch_request({"base64": base64.b64encode(alice_picture()).decode()})
    first = secured.run(bob.call(GENERATE, input=same)).ok()["generateImage"]
    assert first["replayed"] is False, "bob got alice's batch replayed"
    ids = [task["id"] for task in first["tasks"]]
    assert not set(ids) & set(world.task_ids), "bob received alice's tasks"
    again = secured.run(bob.call(GENERATE, input=same)).ok()["generateImage"]
    assert again["replayed"] is True and [t["id"] for t in again["tasks"]] == ids
    carol = new_owner(secured, f"carol-{bob.name}")
    other = {**same, "description": "carol's different edit", "count": 1}
    reply = secured.run(carol.call(GENERATE, input=other))
    assert reply.codes == [], f"alice's key conflicts for another owner: {reply.body}"
    assert reply.data["generateImage"]["replayed"] is False


def history_filters(world: AliceWorld) -> list[dict[str, Any]]:
    return [
        {},
        {"first": 100},
        *({"status": [status]} for status in STATUSES),
        {"status": list(STATUSES)},
        {"search": "zebra"},
        {"search": DESCRIPTION},
        {"search": ""},
        {"after": world.cursor},
        {"after": world.cursor, "search": "zebra", "status": list(STATUSES)},
    ]


def test_history_never_shows_alices_tasks(
    secured: ServiceThread, alice: Owner, world: AliceWorld, bob: Owner
) -> None:
    mine = secured.run(alice.call(HISTORY, search="zebra")).ok()["history"]
    assert mine["totalCount"] >= len(world.task_ids), "alice's history is the control"
    for variables in history_filters(world):
        reply = secured.run(bob.call(HISTORY, **variables))
        assert reply.codes == [], f"{variables}: {reply.body}"
        assert reply.data["history"] == {"totalCount": 0, "edges": []}, f"{variables}: {reply.body}"
        assert_no_alice_data(reply, world)


async def progress_replies(owner: Owner, url: str, ids: list[str]) -> list[list[dict[str, Any]]]:
    async with graphql_ws(url, owner.auth) as socket:
        return [[event async for event in socket.subscribe(PROGRESS, id=i)] for i in ids]


def test_task_progress_of_alices_tasks_is_not_found(
    secured: ServiceThread, alice: Owner, world: AliceWorld, bob: Owner
) -> None:
    never = random_id()
    ids = [*world.task_ids, never]
    replies = secured.run(progress_replies(bob, secured.url, ids))
    baseline = json.dumps(replies[-1]).replace(never, "<id>")
    for thing, events in zip(ids, replies, strict=True):
        assert json.dumps(events).replace(thing, "<id>") == baseline, f"{thing}: {events}"
        assert events[0]["errors"][0]["extensions"]["code"] == "NOT_FOUND", events
    control = secured.run(progress_replies(alice, secured.url, world.batch[:1]))
    assert control[0][0]["data"]["taskProgress"]["kind"] == "SNAPSHOT"


async def updates_until_sentinel(
    service: ServiceThread, watcher: Owner, alice: Owner, world: AliceWorld
) -> dict[str, list[dict[str, Any]]]:
    """Bob listens (all statuses, and finished ones only) while alice works; then bob makes a
    task of his own: every event before it reaches bob's socket is bob's or none at all."""
    received: dict[str, list[dict[str, Any]]] = {"all": [], "finished": []}
    async with graphql_ws(service.url, watcher.auth) as socket:
        await socket.send({"id": "all", "type": "subscribe", "payload": {"query": UPDATES}})
        finished = {"query": UPDATES, "variables": {"status": ["COMPLETED", "CANCELLED"]}}
        await socket.send({"id": "finished", "type": "subscribe", "payload": finished})
        await socket.send(
            {
                "id": "ready",
                "type": "subscribe",
                "payload": {"query": SENTINEL, "variables": {"id": world.cancelled}},
            }
        )
        while (await record(socket, received)).get("id") != "ready":
            pass  # subscriptions are in place once the sentinel's snapshot is back
        await alice_works(alice)
        own = (
            await watcher.call(
                GENERATE,
                input={
                    **batch_request({"base64": base64.b64encode(alice_picture()).decode()}),
                    "count": 1,
                    "idempotencyKey": None,
                },
            )
        ).ok()
        own_id = own["generateImage"]["tasks"][0]["id"]
        await watcher.call("mutation($id: ID!) { cancelTask(id: $id) { id } }", id=own_id)
        done: set[str] = set()
        while done != {"all", "finished"}:
            message = await record(socket, received)
            updates = received.get(str(message.get("id")), [])
            if (
                updates
                and updates[-1]["task"]["id"] == own_id
                and updates[-1]["status"] == "CANCELLED"
            ):
                done.add(str(message["id"]))
    return received


async def record(
    socket: GraphQLWebSocket, received: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """Receive one message; keep it if it is an update of one of the watched subscriptions."""
    message = await socket.receive()
    if message.get("type") == "next" and message.get("id") in received:
        received[message["id"]].append(message["payload"]["data"]["taskUpdates"])
    return message


async def alice_works(alice: Owner) -> None:
    quick = await submit(alice, steps=2)
    await wait_until_finished(alice, quick)
    doomed = await submit(alice, steps=150)
    await alice.call("mutation($id: ID!) { cancelTask(id: $id) { id } }", id=doomed)
    await alice.call("mutation($id: ID!) { deleteTask(id: $id) }", id=quick)


def test_task_updates_carry_only_the_subscribers_tasks(
    secured: ServiceThread, alice: Owner, world: AliceWorld, bob: Owner
) -> None:
    received = secured.run(updates_until_sentinel(secured, bob, alice, world), timeout=60)
    for name, updates in received.items():
        owners_seen = {update["task"]["id"] for update in updates}
        assert len(owners_seen) == 1, (
            f"bob's {name} subscription received alice's events: {updates}"
        )
