from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from graphql_api.settings import Settings
from tasks.store.models import StoredImage, Task
from tests.support.graphql import GraphQLClient
from tests.support.images import encoded, png_declaring

GENERATE = """
mutation Generate($input: GenerateImageInput!) {
  generateImage(input: $input) {
    message replayed
    task { id status progress step totalSteps description parameters { steps cfg guidance seed sampler scheduler denoise } referenceImage { width height contentType url } }
    tasks { id parameters { seed } batchIndex }
  }
}
"""
UPLOAD_PATH = "variables.input.referenceImage.upload"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def request(image: Mapping[str, object], **extra: object) -> dict[str, object]:
    return {"referenceImage": image, "description": "change the car to red", **extra}


async def test_multipart_upload_of_a_large_jpeg_returns_a_pending_task_with_its_seed(
    api: GraphQLClient,
) -> None:
    photo = encoded(3000, 2000, "JPEG")
    response = await api.upload(
        GENERATE,
        {"input": request({"upload": None})},
        {UPLOAD_PATH: ("car.jpg", photo, "image/jpeg")},
    )
    payload = response.ok()["generateImage"]
    task = payload["task"]
    assert task["status"] == "PENDING"
    assert task["description"] == "change the car to red"
    assert task["referenceImage"] == {
        "width": 3000,
        "height": 2000,
        "contentType": "image/jpeg",
        "url": task["referenceImage"]["url"],
    }
    seed = task["parameters"]["seed"]
    assert isinstance(seed, str) and 0 <= int(seed) < 2**64
    assert task["parameters"]["steps"] == 20
    assert task["parameters"]["cfg"] == 1.0
    assert task["parameters"]["guidance"] == 2.5
    found = await api.execute("query($id: ID!) { task(id: $id) { id status } }", id=task["id"])
    assert found.ok()["task"] == {"id": task["id"], "status": "PENDING"}


async def test_image_url_of_the_reference_downloads_the_stored_file(api: GraphQLClient) -> None:
    photo = encoded(64, 48)
    payload = (await api.execute(GENERATE, input=request({"base64": b64(photo)}))).ok()
    url = payload["generateImage"]["task"]["referenceImage"]["url"]
    response = await api.http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == photo
    etag = response.headers["etag"]
    cached = await api.http.get(url, headers={"If-None-Match": etag})
    assert cached.status_code == 304


async def test_multipart_without_preflight_header_is_refused_as_csrf(api: GraphQLClient) -> None:
    response = await api.upload(
        GENERATE,
        {"input": request({"upload": None})},
        {UPLOAD_PATH: ("car.png", encoded(8, 8), "image/png")},
        preflight=False,
    )
    assert response.status == 400
    assert response.codes == ["CSRF_PREFLIGHT_REQUIRED"]
    assert await Task.all().count() == 0


async def test_explicit_seed_round_trips_all_64_bits(api: GraphQLClient) -> None:
    top = str(2**64 - 1)
    payload = (
        await api.execute(
            GENERATE,
            input=request({"base64": b64(encoded(8, 8))}, parameters={"seed": top}, count=3),
        )
    ).ok()["generateImage"]
    assert [t["parameters"]["seed"] for t in payload["tasks"]] == [top, "0", "1"]
    assert [t["batchIndex"] for t in payload["tasks"]] == [0, 1, 2]


async def test_same_idempotency_key_returns_the_same_task(api: GraphQLClient) -> None:
    data = request({"base64": b64(encoded(8, 8))}, idempotencyKey="retry-1")
    first = (await api.execute(GENERATE, input=data)).ok()["generateImage"]
    again = (await api.execute(GENERATE, input=data)).ok()["generateImage"]
    assert again["task"]["id"] == first["task"]["id"]
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert await Task.all().count() == 1


async def test_same_idempotency_key_with_another_request_is_a_conflict(api: GraphQLClient) -> None:
    data = request({"base64": b64(encoded(8, 8))}, idempotencyKey="retry-2")
    (await api.execute(GENERATE, input=data)).ok()
    changed = {**data, "description": "make it blue"}
    response = await api.execute(GENERATE, input=changed)
    assert response.codes == ["IDEMPOTENCY_CONFLICT"]
    assert await Task.all().count() == 1


async def test_upload_image_then_generate_by_image_id(api: GraphQLClient) -> None:
    uploaded = (
        await api.execute(
            "mutation($i: ImageInput!) { uploadImage(image: $i) { id width } }",
            i={"base64": b64(encoded(10, 20))},
        )
    ).ok()["uploadImage"]
    payload = (await api.execute(GENERATE, input=request({"imageId": uploaded["id"]}))).ok()
    assert payload["generateImage"]["task"]["referenceImage"]["height"] == 20
    assert await StoredImage.all().count() == 1


BAD_IMAGES = {
    "not an image": b"hello, this is text",
    "truncated png": encoded(64, 64)[:60],
    "empty file": b"",
    "200 megapixels declared": png_declaring(20_000, 10_000),
}


@pytest.mark.parametrize("name", list(BAD_IMAGES))
async def test_bad_uploaded_image_is_refused_and_nothing_is_written(
    api: GraphQLClient, settings: Settings, name: str
) -> None:
    response = await api.upload(
        GENERATE,
        {"input": request({"upload": None})},
        {UPLOAD_PATH: ("x.png", BAD_IMAGES[name], "image/png")},
    )
    assert response.codes == ["BAD_USER_INPUT"], response.body
    await assert_nothing_written(settings.storage_dir)


async def test_thirty_megabyte_upload_is_refused(api: GraphQLClient, settings: Settings) -> None:
    response = await api.upload(
        GENERATE,
        {"input": request({"upload": None})},
        {UPLOAD_PATH: ("big.png", b"\x89PNG" + b"\x00" * (30 * 1024 * 1024), "image/png")},
    )
    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["extensions"]["reason"] == "IMAGE_TOO_LARGE"
    await assert_nothing_written(settings.storage_dir)


FORBIDDEN_URLS = [
    "http://127.0.0.1/a.png",
    "http://localhost/a.png",
    "http://[::1]/a.png",
    "http://10.0.0.1/a.png",
    "http://169.254.169.254/latest/meta-data",
    "file:///etc/passwd",
    "ftp://example.com/a.png",
]


@pytest.mark.parametrize("url", FORBIDDEN_URLS)
async def test_forbidden_image_url_is_refused_without_a_task(
    api: GraphQLClient, settings: Settings, url: str
) -> None:
    response = await api.execute(GENERATE, input=request({"url": url}))
    assert response.codes == ["BAD_USER_INPUT"], response.body
    await assert_nothing_written(settings.storage_dir)


BAD_PARAMETERS = [
    ({"parameters": {"steps": 0}}, "input.parameters.steps"),
    ({"parameters": {"steps": 10000}}, "input.parameters.steps"),
    ({"description": ""}, "input.description"),
    ({"description": "   "}, "input.description"),
    ({"description": "x" * 100_000}, "input.description"),
    ({"count": 9}, "input.count"),
    ({"timeoutSeconds": 0}, "input.timeoutSeconds"),
    ({"idempotencyKey": "k" * 129}, "input.idempotencyKey"),
    ({"parameters": {"sampler": "no_such_sampler"}}, "input.parameters.sampler"),
]


@pytest.mark.parametrize(("change", "field"), BAD_PARAMETERS)
async def test_bad_parameters_are_refused_with_the_field_named(
    api: GraphQLClient, settings: Settings, change: dict[str, object], field: str
) -> None:
    data = {**request({"base64": b64(encoded(8, 8))}), **change}
    response = await api.execute(GENERATE, input=data)
    assert response.codes == ["BAD_USER_INPUT"], response.body
    assert response.errors[0]["extensions"]["field"] == field
    # The message names the field once, before what is wrong with it.
    said = response.errors[0]["message"].removeprefix(f"{field}: ")
    assert said != response.errors[0]["message"] and not said.startswith(field.split(".")[-1])
    await assert_nothing_written(settings.storage_dir)


@pytest.mark.parametrize("seed", [-1, str(2**64), "12abc", 1.5])
async def test_seed_outside_unsigned_64_bits_is_refused(
    api: GraphQLClient, settings: Settings, seed: object
) -> None:
    data = request({"base64": b64(encoded(8, 8))}, parameters={"seed": seed})
    response = await api.execute(GENERATE, input=data)
    assert response.codes == ["BAD_USER_INPUT"], response.body
    await assert_nothing_written(settings.storage_dir)


async def test_two_image_sources_in_one_image_input_are_refused(
    api: GraphQLClient, settings: Settings
) -> None:
    image = {"base64": b64(encoded(8, 8)), "url": "https://example.com/a.png"}
    response = await api.execute(GENERATE, input=request(image))
    assert response.codes == ["BAD_USER_INPUT"], response.body
    await assert_nothing_written(settings.storage_dir)


async def test_two_image_sources_written_inline_are_refused(api: GraphQLClient) -> None:
    query = """mutation { generateImage(input: {description: "x",
      referenceImage: {base64: "AAAA", url: "https://example.com/a.png"}}) { task { id } } }"""
    response = await api.execute(query)
    assert response.codes == ["BAD_USER_INPUT"], response.body
    assert await Task.all().count() == 0


async def assert_nothing_written(storage_dir: Path) -> None:
    assert await Task.all().count() == 0
    assert await StoredImage.all().count() == 0
    files = [p for p in storage_dir.rglob("*") if p.is_file()] if storage_dir.exists() else []
    assert files == []


async def raw_get(base_url: str, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as written (no client-side normalization); the status and body."""
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {url.host}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def test_files_route_refuses_traversal_and_unknown_keys(api: GraphQLClient) -> None:
    for path in [
        "/files/../../etc/passwd",
        "/files/%2e%2e/%2e%2e/etc/passwd",
        "/files/inputs/nope.png",
    ]:
        # Sent as written: httpx would resolve the dots and ask for another route.
        status, body = await raw_get(str(api.http.base_url), path)
        assert status == 404 and b"root:" not in body, path
