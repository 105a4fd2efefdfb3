from __future__ import annotations

import base64
import dataclasses

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.api_keys import create_key, revoke_key
from tasks.store.database import Database
from tests.support.graphql import GraphQLClient, client_with_key
from tests.support.graphql_ws import graphql_ws
from tests.support.images import encoded
from tests.support.server import serve_asgi

GENERATE = "mutation($input: GenerateImageInput!) { generateImage(input: $input) { task { id } } }"
IMAGE = base64.b64encode(encoded(8, 8)).decode()


def edit(**extra: object) -> dict[str, object]:
    return {"referenceImage": {"base64": IMAGE}, "description": "make it red", **extra}


async def test_requests_without_a_valid_key_are_unauthenticated(secured_url: str) -> None:
    async with httpx.AsyncClient(base_url=secured_url) as http:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
            response = await http.post(
                "/graphql", json={"query": "{ workflows { name } }"}, headers=headers
            )
            assert response.status_code == 401
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_revoked_key_stops_working(secured_url: str) -> None:
    key = await create_key("alice")
    headers = {"Authorization": f"Bearer {key.token}"}
    async with httpx.AsyncClient(base_url=secured_url, headers=headers) as http:
        query = {"query": "{ workflows { name } }"}
        assert (await http.post("/graphql", json=query)).status_code == 200
        assert await revoke_key(key.id)
        assert (await http.post("/graphql", json=query)).status_code == 401


async def test_websocket_needs_the_key_in_connection_params(secured_url: str) -> None:
    with pytest.raises((ConnectionClosed, AssertionError)):
        async with graphql_ws(secured_url) as ws:
            await ws.receive()
    key = await create_key("alice")
    async with graphql_ws(secured_url, {"Authorization": f"Bearer {key.token}"}) as ws:
        events = [
            e
            async for e in ws.subscribe(
                'subscription { taskProgress(id: "00000000-0000-4000-8000-000000000000") { status } }'
            )
        ]
    assert events[0]["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_nothing_of_another_owner_is_visible_or_touchable(secured_url: str) -> None:
    alice = await client_with_key(secured_url, "alice")
    bob = await client_with_key(secured_url, "bob")
    task_id = (await alice.execute(GENERATE, input=edit())).ok()["generateImage"]["task"]["id"]
    image_id = (
        await alice.execute(
            "mutation($i: ImageInput!) { uploadImage(image: $i) { id } }", i={"base64": IMAGE}
        )
    ).ok()["uploadImage"]["id"]

    checks = {
        "task": ("query($id: ID!) { task(id: $id) { id } }", {"id": task_id}),
        "node": ("query($id: ID!) { node(id: $id) { id } }", {"id": task_id}),
        "cancel": ("mutation($id: ID!) { cancelTask(id: $id) { id } }", {"id": task_id}),
        "delete": ("mutation($id: ID!) { deleteTask(id: $id) }", {"id": task_id}),
        "imageId": (GENERATE, {"input": edit(referenceImage={"imageId": image_id})}),
    }
    for name, (query, variables) in checks.items():
        response = await bob.execute(query, **variables)
        assert response.codes == ["NOT_FOUND"], (name, response.body)
    assert (await bob.execute("query($id: ID!) { image(id: $id) { id } }", id=image_id)).ok() == {
        "image": None
    }
    history = (await bob.execute("{ history { totalCount edges { node { id } } } }")).ok()[
        "history"
    ]
    assert history == {"totalCount": 0, "edges": []}
    async with graphql_ws(secured_url, {"Authorization": bob.http.headers["Authorization"]}) as ws:
        events = [
            e
            async for e in ws.subscribe(
                "subscription($id: ID!) { taskProgress(id: $id) { status } }", id=task_id
            )
        ]
    assert events[0]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await alice.execute("query($id: ID!) { task(id: $id) { id } }", id=task_id)).ok()
    for client in (alice, bob):
        await client.http.aclose()


async def test_idempotency_keys_belong_to_their_owner(secured_url: str) -> None:
    alice = await client_with_key(secured_url, "alice")
    bob = await client_with_key(secured_url, "bob")
    a = (await alice.execute(GENERATE, input=edit(idempotencyKey="k"))).ok()["generateImage"][
        "task"
    ]["id"]
    b = (await bob.execute(GENERATE, input=edit(idempotencyKey="k", description="other"))).ok()[
        "generateImage"
    ]["task"]["id"]
    assert a != b
    for client in (alice, bob):
        await client.http.aclose()


async def test_rate_limit_and_unfinished_cap_answer_with_retry_after(
    settings: Settings, database: Database
) -> None:
    limited = dataclasses.replace(
        settings, submit_rate_per_minute=1, submit_burst=2, max_unfinished_per_owner=100
    )
    async with serve_asgi(create_app(limited)) as url, httpx.AsyncClient(base_url=url) as http:
        api = GraphQLClient(http)
        assert (await api.execute(GENERATE, input=edit(count=2))).errors == []
        refused = await api.execute(GENERATE, input=edit())
    assert refused.codes == ["RATE_LIMITED"]
    assert refused.errors[0]["extensions"]["retryAfter"] >= 1

    capped = dataclasses.replace(settings, max_unfinished_per_owner=2)
    async with serve_asgi(create_app(capped)) as url, httpx.AsyncClient(base_url=url) as http:
        api = GraphQLClient(http)
        response = await api.execute(GENERATE, input=edit())
    assert response.codes == ["TOO_MANY_TASKS"]

    full = dataclasses.replace(settings, max_queue_depth=2)
    async with serve_asgi(create_app(full)) as url, httpx.AsyncClient(base_url=url) as http:
        response = await GraphQLClient(http).execute(GENERATE, input=edit())
    assert response.codes == ["QUEUE_FULL"]


async def test_body_cap_and_introspection_switch(settings: Settings, database: Database) -> None:
    strict = dataclasses.replace(settings, max_request_bytes=10_000, introspection=False)
    async with serve_asgi(create_app(strict)) as url, httpx.AsyncClient(base_url=url) as http:
        big = await http.post(
            "/graphql", json={"query": "{ workflows { name } }", "variables": {"x": "a" * 20_000}}
        )
        assert big.status_code == 413
        assert big.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        response = await GraphQLClient(http).execute("{ __schema { types { name } } }")
    assert set(response.codes) == {"GRAPHQL_VALIDATION_FAILED"}


def test_auth_is_on_by_default_beyond_loopback() -> None:
    assert Settings(host="0.0.0.0").auth_required
    assert not Settings(host="127.0.0.1").auth_required
    assert Settings(host="127.0.0.1", auth="on").auth_required
    assert not Settings(host="0.0.0.0", auth="off").auth_required
