"""The running app keeping its images in an S3-compatible bucket: moto in server mode on loopback.

Everything goes over real HTTP: the app (uvicorn) talks to the moto server, the ComfyUI emulator
runs the task, and the tests fetch the URLs the API hands out with httpx.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from aiobotocore.session import AioSession

from comfy.emulator.config import EmulatorConfig
from comfy.emulator.server import RunningEmulator, running_emulator
from graphql_api.app import create_app
from graphql_api.settings import Settings
from storage.s3_bucket import prepared_session
from tests.integration.test_runs_on_comfyui import submit, wait_terminal
from tests.storage.s3_server import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    S3Server,
    admin_client,
    running_s3_server,
)
from tests.support.graphql import GraphQLClient
from tests.support.images import encoded
from tests.support.presigned import Presigned
from tests.support.server import serve_asgi

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

PREFIX = "kontext"
PRESIGN_SECONDS = 900
LINKS = """query($id: ID!) { task(id: $id) { status previewUrl
  referenceImage { url thumbnailUrl sha256 }
  result { imageUrl previewUrl image { url thumbnailUrl sha256 } } } }"""
UPLOAD = """mutation($image: ImageInput!) {
  uploadImage(image: $image) { id url thumbnailUrl sha256 } }"""
IMAGE = """query($id: ID!) { image(id: $id) { url thumbnailUrl } }"""


@pytest.fixture(scope="module")
def session() -> AioSession:
    return prepared_session()


@pytest.fixture
async def admin(s3_server: S3Server, session: AioSession) -> AsyncIterator[S3Client]:
    async with admin_client(s3_server.url, session) as client:
        yield client


@pytest.fixture
async def bucket(admin: S3Client) -> str:
    name = f"kontext-{secrets.token_hex(6)}"
    await admin.create_bucket(Bucket=name)
    return name


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    """The emulator, sending latent previews (so previews reach the bucket too)."""
    config = EmulatorConfig(step_seconds=0.02, preview_method="latent2rgb")
    async with running_emulator(config) as running:
        yield running


def on_s3(settings: Settings, server_url: str, bucket: str, **changes: Any) -> Settings:
    return dataclasses.replace(
        settings,
        storage_url=f"s3://{bucket}/{PREFIX}",
        s3_endpoint_url=server_url,
        s3_region=REGION,
        s3_access_key_id=ACCESS_KEY_ID,
        s3_secret_access_key=SECRET_ACCESS_KEY,
        s3_presign_seconds=PRESIGN_SECONDS,
        **changes,
    )


@contextlib.asynccontextmanager
async def running_api(settings: Settings) -> AsyncIterator[GraphQLClient]:
    async with (
        serve_asgi(create_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield GraphQLClient(http)


async def object_keys(admin: S3Client, bucket: str) -> list[str]:
    listing = await admin.list_objects_v2(Bucket=bucket)
    return sorted(item.get("Key", "") for item in listing.get("Contents", []))


def object_key_of(link: Presigned, bucket: str) -> str:
    """The object key a path-style link points at: /<bucket>/<key>."""
    assert link.path.startswith(f"/{bucket}/"), link.url
    return link.path.removeprefix(f"/{bucket}/")


def assert_presigned(url: str, server: S3Server, bucket: str) -> Presigned:
    link = Presigned.parse(url)
    assert url.startswith(f"{server.url}/{bucket}/{PREFIX}/"), url
    assert link.params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert link.params["X-Amz-Credential"].startswith(f"{ACCESS_KEY_ID}/")
    assert link.expires == PRESIGN_SECONDS
    assert link.is_signed_by(ACCESS_KEY_ID, SECRET_ACCESS_KEY, REGION)
    assert not link.is_signed_by(ACCESS_KEY_ID, "another-secret", REGION)
    return link


async def fetched(url: str) -> bytes:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(url)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return response.content


def is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


async def test_a_task_keeps_its_images_in_the_bucket_and_hands_out_presigned_urls(
    settings: Settings,
    emulator: RunningEmulator,
    s3_server: S3Server,
    admin: S3Client,
    bucket: str,
) -> None:
    live = on_s3(settings, s3_server.url, bucket, dispatch=True, comfyui_urls=(emulator.url,))
    async with running_api(live) as api:
        task_id = await submit(api, steps=6)
        assert (await wait_terminal(api, task_id))["status"] == "COMPLETED"
        task = (await api.execute(LINKS, id=task_id)).ok()["task"]

        reference, result = task["referenceImage"], task["result"]
        links = {
            "input": reference["url"],
            "input thumbnail": reference["thumbnailUrl"],
            "output": result["image"]["url"],
            "output thumbnail": result["image"]["thumbnailUrl"],
            "imageUrl": result["imageUrl"],
            "result previewUrl": result["previewUrl"],
            "live preview": task["previewUrl"],
        }
        keys = {
            name: object_key_of(assert_presigned(url, s3_server, bucket), bucket)
            for name, url in links.items()
        }
        sha = reference["sha256"]
        assert keys["input"] == f"{PREFIX}/inputs/{sha[:2]}/{sha}.png"
        assert keys["input thumbnail"] == f"{PREFIX}/thumbnails/{sha[:2]}/{sha}.webp"
        assert keys["output"].startswith(f"{PREFIX}/outputs/") and keys["output"].endswith(".png")
        assert keys["output thumbnail"] == keys["output"].removesuffix(".png") + ".thumb.webp"
        assert keys["imageUrl"] == keys["output"]
        assert keys["result previewUrl"] == keys["output thumbnail"]
        assert keys["live preview"].startswith(f"{PREFIX}/previews/{task_id}/")
        assert set(keys.values()) <= set(await object_keys(admin, bucket))

        assert hashlib.sha256(await fetched(links["input"])).hexdigest() == sha
        output = await fetched(links["output"])
        assert output.startswith(b"\x89PNG")
        assert hashlib.sha256(output).hexdigest() == result["image"]["sha256"]
        for name in ("input thumbnail", "output thumbnail"):
            assert is_webp(await fetched(links[name])), name
        # ComfyUI's preview JPEG is stored as it was sent.
        assert (await fetched(links["live preview"])).startswith(b"\xff\xd8\xff")

        # The objects are private: without the signature the server refuses them.
        async with httpx.AsyncClient(timeout=30) as http:
            bare = await http.get(links["output"].partition("?")[0])
        assert bare.status_code == 403

        # The API's own /files route reads the same blobs from the bucket.
        served = await api.http.get(f"/files/{keys['output'].removeprefix(PREFIX + '/')}")
        assert served.status_code == 200 and served.content == output

    assert not Path(settings.storage_dir).exists(), "nothing goes to the local folder"


async def upload(api: GraphQLClient, color: tuple[int, int, int]) -> dict[str, Any]:
    image = base64.b64encode(encoded(48, 32, color=color)).decode()
    uploaded: dict[str, Any] = (await api.execute(UPLOAD, image={"base64": image})).ok()
    return dict(uploaded["uploadImage"])


async def next_second() -> None:
    """Sleep into the next whole second: SigV4 timestamps have a resolution of one second."""
    await asyncio.sleep(1.05 - time.time() % 1)


async def test_image_urls_are_signed_anew_on_every_read(
    settings: Settings, s3_server: S3Server, bucket: str
) -> None:
    async with running_api(on_s3(settings, s3_server.url, bucket)) as api:
        image = await upload(api, (10, 120, 200))
        reads = [image["url"]]
        for _ in range(2):
            await next_second()
            reads.append((await api.execute(IMAGE, id=image["id"])).ok()["image"]["url"])

    links = [assert_presigned(url, s3_server, bucket) for url in reads]
    assert len({link.signed_at for link in links}) == 3
    assert len({link.signature for link in links}) == 3
    assert len({link.path for link in links}) == 1
    contents = {await fetched(url) for url in reads}
    assert len(contents) == 1


async def test_a_public_bucket_gets_plain_public_urls(
    settings: Settings, s3_server: S3Server, admin: S3Client, bucket: str
) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    await admin.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    public = f"{s3_server.url}/{bucket}/"
    async with running_api(
        on_s3(settings, s3_server.url, bucket, s3_public_base_url=public)
    ) as api:
        image = await upload(api, (30, 200, 60))
        again = (await api.execute(IMAGE, id=image["id"])).ok()["image"]

    sha = image["sha256"]
    assert image["url"] == f"{public}{PREFIX}/inputs/{sha[:2]}/{sha}.png"
    assert image["thumbnailUrl"] == f"{public}{PREFIX}/thumbnails/{sha[:2]}/{sha}.webp"
    assert again == {"url": image["url"], "thumbnailUrl": image["thumbnailUrl"]}
    assert hashlib.sha256(await fetched(image["url"])).hexdigest() == sha
    assert is_webp(await fetched(image["thumbnailUrl"]))


async def readiness(api: GraphQLClient) -> tuple[int, list[str]]:
    response = await api.http.get("/readyz")
    return response.status_code, list(response.json()["problems"])


async def test_readyz_reports_the_storage_unreachable_when_the_s3_server_is_down(
    settings: Settings, tmp_path: Path, session: AioSession
) -> None:
    with contextlib.ExitStack() as moto:
        server = moto.enter_context(running_s3_server(tmp_path / "moto.log"))
        async with admin_client(server.url, session) as admin:
            await admin.create_bucket(Bucket="kontext-readiness")
        async with running_api(on_s3(settings, server.url, "kontext-readiness")) as api:
            assert await readiness(api) == (200, [])
            moto.close()  # the S3 server stops; the app stays up
            status, problems = await readiness(api)
    assert status == 503
    assert len(problems) == 1 and problems[0].startswith("storage unreachable: "), problems


async def test_readyz_reports_a_missing_bucket(settings: Settings, s3_server: S3Server) -> None:
    async with running_api(on_s3(settings, s3_server.url, "kontext-no-such-bucket")) as api:
        status, problems = await readiness(api)
    assert status == 503
    assert problems == [
        "storage unreachable: S3 check of 'kontext-no-such-bucket' failed: "
        "An error occurred (404) when calling the HeadBucket operation: Not Found"
    ]
