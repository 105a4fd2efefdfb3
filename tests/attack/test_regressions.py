"""The defects the attack suite found, each pinned by a small deterministic test. They state the
contract (a coded refusal, never an internal error, nothing written), so they pass whichever
way the fix is made."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.attack.attacks import attack, picture_base64
from tests.attack.environments import fresh_settings
from tests.attack.hostile_images import png_of
from tests.attack.service import ServiceThread
from tests.attack.sockets import LEGACY_CLOSE_CODES, legacy_exchange, raw_exchange
from tests.attack.strategies import PENDING_TASK
from tests.attack.verdicts import assert_answered, assert_coded_errors, assert_nothing_written
from tests.support.graphql_ws import graphql_ws

GENERATE = "mutation($input: GenerateImageInput!) { generateImage(input: $input) { task { id } } }"
UPLOAD = "mutation($image: ImageInput!) { uploadImage(image: $image) { id } }"
HISTORY = "query($first: Int, $after: String, $search: String) { history(first: $first, after: $after, search: $search) { totalCount } }"
UPDATES = "subscription($status: [TaskStatus!]) { taskUpdates(status: $status) { kind } }"
PROGRESS = "subscription($id: ID!) { taskProgress(id: $id) { kind } }"

pytestmark = pytest.mark.database


def edit(**extra: Any) -> dict[str, Any]:
    return {"input": {"referenceImage": {"base64": picture_base64()}, "description": "x", **extra}}


@pytest.mark.parametrize("value", ["abc", 5, True, {"filename": "a.png"}, [1]])
def test_an_upload_in_a_json_request_is_a_coded_refusal(
    service: ServiceThread, known: dict[str, str], value: object
) -> None:
    reply = attack(
        service,
        GENERATE,
        {"input": {"referenceImage": {"upload": value}, "description": "x"}},
        known,
    )
    assert reply.codes == ["BAD_USER_INPUT"], reply.body
    reply = attack(service, UPLOAD, {"image": {"upload": value}}, known)
    assert reply.codes == ["BAD_USER_INPUT"], reply.body


@pytest.mark.parametrize(
    "text", ["a\x00b", "\ud800", "x\udfffy"], ids=["nul", "high-surrogate", "low-surrogate"]
)
@pytest.mark.parametrize("field", ["description", "idempotencyKey", "search"])
def test_text_a_database_cannot_store_is_a_coded_refusal(
    service: ServiceThread, known: dict[str, str], field: str, text: str
) -> None:
    if field == "search":
        attack(service, HISTORY, {"search": text}, known)
    else:
        variables = edit(**{field: text})
        if field == "description":
            variables["input"]["description"] = text
        attack(service, GENERATE, variables, known)


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "moment",
    ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59.999999-00:01"],
)
def test_cursors_whose_time_cannot_be_converted_are_coded_refusals(
    service: ServiceThread, known: dict[str, str], moment: str
) -> None:
    reply = attack(
        service, HISTORY, {"after": cursor(f"{moment}|00000000-0000-4000-8000-000000000000")}, known
    )
    assert reply.codes in ([], ["BAD_USER_INPUT"]), reply.body


def test_null_for_an_argument_with_a_default_is_bad_user_input(
    service: ServiceThread, known: dict[str, str]
) -> None:
    reply = attack(service, HISTORY, {"first": None}, known)
    assert reply.codes == ["BAD_USER_INPUT"], reply.body


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (UPDATES, {"status": ["RUNNING"]}),
        (PROGRESS, {}),
        (PROGRESS, {"id": {"a": 1}}),
        ("subscription { nope }", {}),
    ],
)
def test_subscription_refusals_carry_a_code(
    service: ServiceThread, query: str, variables: dict[str, Any]
) -> None:
    async def first_message() -> dict[str, Any]:
        async with graphql_ws(service.url) as socket:
            await socket.send(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables},
                }
            )
            return await socket.receive()

    message = service.run(first_message())
    errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
    assert errors, message
    assert_coded_errors(list(errors), (query, variables))


@pytest.mark.parametrize(
    "payload",
    [
        "nope",
        {"query": 5},
        {"query": PROGRESS, "variables": [1]},
        {"query": PROGRESS, "variables": "x"},
    ],
)
def test_malformed_subscribe_messages_close_the_socket_as_the_protocol_says(
    service: ServiceThread, known: dict[str, str], payload: object
) -> None:
    message = json.dumps({"id": "1", "type": "subscribe", "payload": payload})
    exchange = service.run(raw_exchange(service.url, message, known[PENDING_TASK]))
    assert exchange.close_code == 4400, exchange


@pytest.mark.parametrize(
    "message",
    [{"type": "\ud800"}, {"type": "a" * 200}, {"type": "é" * 70}, 5, [], "x"],
    ids=["surrogate-type", "long-type", "long-utf8-type", "number", "list", "string"],
)
def test_odd_messages_close_the_socket_with_a_protocol_code(
    service: ServiceThread, known: dict[str, str], message: object
) -> None:
    exchange = service.run(raw_exchange(service.url, json.dumps(message), known[PENDING_TASK]))
    assert exchange.close_code == 4400, exchange


def test_a_long_duplicate_operation_id_closes_the_socket_with_4409(
    service: ServiceThread, known: dict[str, str]
) -> None:
    subscribe = {
        "id": "é" * 100,
        "type": "subscribe",
        "payload": {"query": PROGRESS, "variables": {"id": known[PENDING_TASK]}},
    }
    frames = json.dumps(subscribe)
    exchange = service.run(raw_exchange(service.url, frames, known[PENDING_TASK], repeat=2))
    assert exchange.close_code == 4409, exchange


LEGACY_MESSAGES = [
    {"type": "start", "id": "1", "payload": "nope"},
    {"type": "start", "id": "1", "payload": {"query": 5}},
    {"type": "start", "id": "1", "payload": {"query": PROGRESS, "variables": [1]}},
    {"type": "start", "id": "1", "payload": {"query": UPDATES, "variables": {"status": ["X"]}}},
    {"type": "stop", "id": [1]},
    5,
]


@pytest.mark.parametrize(
    "message", LEGACY_MESSAGES, ids=[str(i) for i in range(len(LEGACY_MESSAGES))]
)
def test_the_legacy_protocol_answers_odd_messages_with_codes_or_a_close(
    service: ServiceThread, known: dict[str, str], message: object
) -> None:
    exchange = service.run(legacy_exchange(service.url, json.dumps(message), known[PENDING_TASK]))
    assert exchange.close_code is None or exchange.close_code in LEGACY_CLOSE_CODES, exchange
    for received in exchange.messages:
        payload: Any = received.get("payload") or {}
        if received.get("type") == "error":
            assert_coded_errors([payload], message)
        elif received.get("type") == "data":
            assert_coded_errors(list(payload.get("errors") or []), message)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{", "application/json"),
        (b"null", "application/json"),
        (b"5", "application/json"),
        (b"\x80\x81", "application/json"),
        (b"{}", "application/json"),
        (b'{"query": "{ workflows { name } }", "variables": []}', "application/json"),
        (b'[{"query": "{ workflows { name } }"}]', "application/json"),
        (b"{ workflows { name } }", "text/plain"),
        (b"x", "multipart/form-data"),
    ],
)
def test_transport_refusals_are_graphql_errors_with_a_code(
    service: ServiceThread, content: bytes, content_type: str
) -> None:
    before = service.footprint()
    reply = service.run(
        service.wire.post_raw(content, content_type, {"Apollo-Require-Preflight": "1"})
    )
    assert_answered(reply, content)
    assert 400 <= reply.status < 500, reply
    assert_nothing_written(before, service.footprint(), content)


@pytest.mark.parametrize(
    "fields",
    [
        {
            "operations": json.dumps({"query": GENERATE, "variables": edit()}),
            "map": json.dumps({"0": ["variables.input.referenceImage.upload.x"]}),
        },
        {"operations": "[]", "map": "[]"},
        {"operations": json.dumps({"query": GENERATE}), "map": json.dumps({"0": "variables"})},
        {
            "operations": json.dumps({"query": GENERATE}),
            "map": json.dumps({"0": ["variables.0.x"]}),
        },
        {"map": "{}"},
    ],
)
def test_malformed_multipart_requests_are_coded_refusals(
    service: ServiceThread, fields: dict[str, str]
) -> None:
    before = service.footprint()
    parts = {"0": ("a.png", base64.b64decode(picture_base64()), "image/png")}
    if "operations" not in fields:
        parts["operations"] = ("operations.json", b"{}", "application/json")
    reply = service.run(service.wire.post_multipart(fields, parts))
    assert_answered(reply, fields)
    assert_nothing_written(before, service.footprint(), fields)


@pytest.fixture(scope="module")
def generous_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceThread]:
    """KONTEXT_MAX_IMAGE_PIXELS above the 50-megapixel default."""
    settings = fresh_settings(tmp_path_factory.mktemp("generous"), max_image_pixels=60_000_000)
    with ServiceThread(settings) as service:
        yield service


def test_an_image_within_a_raised_pixel_limit_is_stored_with_its_thumbnail(
    generous_service: ServiceThread,
) -> None:
    data = base64.b64encode(png_of(7072, 7072)).decode()
    before = generous_service.footprint()
    reply = generous_service.graphql(UPLOAD, {"image": {"base64": data}})
    assert_answered(reply, "a 50.01-megapixel PNG")
    if reply.refused:
        assert_nothing_written(before, generous_service.footprint(), "a 50.01-megapixel PNG")


def test_a_polyglot_upload_is_stored_without_its_payload_and_served_inert(
    service: ServiceThread,
) -> None:
    payload = b"<html><body><script>fetch('/graphql')</script></body></html>"
    data = base64.b64encode(png_of(8, 8) + payload).decode()
    query = "mutation($image: ImageInput!) { uploadImage(image: $image) { url thumbnailUrl } }"
    image = service.graphql(query, {"image": {"base64": data}}).ok()["uploadImage"]
    for url in (image["url"], image["thumbnailUrl"]):
        response = service.run(service.wire.get(url))
        assert response.status_code == 200, url
        assert payload not in response.content, url
        assert response.headers.get("x-content-type-options") == "nosniff", url
        assert response.headers.get("content-security-policy") == "default-src 'none'; sandbox"


@pytest.mark.parametrize("field", ["description", "idempotencyKey", "search"])
def test_text_with_a_nul_is_refused_as_bad_text_on_every_database(
    service: ServiceThread, known: dict[str, str], field: str
) -> None:
    if field == "search":
        reply = attack(service, HISTORY, {"search": "a\x00b"}, known)
    else:
        reply = attack(service, GENERATE, edit(**{field: "a\x00b"}), known)
    assert reply.codes == ["BAD_USER_INPUT"], reply.body
    assert reply.errors[0]["extensions"]["reason"] == "BAD_TEXT", reply.body
