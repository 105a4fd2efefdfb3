"""File URLs (/files/…): unguessable keys, no way out of the storage folder, inert serving, and
the sharing semantics as they are (a file URL is a capability: whoever holds it may read it)."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

import httpx
import pytest

from tests.attack.owners import AliceWorld, Owner, alice_picture
from tests.attack.service import ServiceThread

pytestmark = pytest.mark.database

TOKEN = r"[0-9a-f]{32}"
GROUP = r"[a-z0-9_-][a-z0-9_.-]*"
SHAPES = {
    "result": rf"/files/outputs/{GROUP}/{TOKEN}\.png",
    "preview": rf"/files/outputs/{GROUP}/{TOKEN}\.thumb\.webp",
    "live preview": rf"/files/previews/{GROUP}/{TOKEN}\.(webp|jpg)",
}
ESCAPES = (
    "/files/../README.md",
    "/files/%2e%2e/README.md",
    "/files/inputs/%2e%2e/%2e%2e/README.md",
    "/files/..%2fREADME.md",
    "/files/%2F..%2F..%2Fetc%2Fpasswd",
    "/files//etc/passwd",
    "/files/inputs/..\\..\\README.md",
    "/files/.hidden",
    "/files/inputs/ab/.%2e/%2e%2e/README.md",
    "/files/inputs/AB/UPPER.PNG",
    "/files/inputs/ab/x.png%00.txt",
    "/files/" + "a/" * 300 + "x.png",
)
UPLOAD = "mutation($image: ImageInput!) { uploadImage(image: $image) { url sha256 } }"


def path_of(url: str) -> str:
    return urlsplit(url).path


def get(service: ServiceThread, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """GET on the service's own client, with exactly the given headers (none: no key)."""
    return service.run(service.wire.get(path, headers))


def test_generated_files_have_random_128_bit_keys(world: AliceWorld) -> None:
    """The shape storage.keys gives generated files (output_key, preview_key): a 128-bit token."""
    tokens = []
    for name, url in world.urls.items():
        kind = re.sub(r" \d+", "", name)
        if kind not in SHAPES:
            continue
        assert re.fullmatch(SHAPES[kind], path_of(url)), f"{name}: {url}"
        tokens.append(re.findall(TOKEN, path_of(url))[-1])
    assert len(tokens) >= 6 and len(set(tokens)) == len(tokens), tokens


def test_uploaded_files_are_keyed_by_their_content_hash(
    secured: ServiceThread, world: AliceWorld
) -> None:
    served = get(secured, path_of(world.urls["input"]))
    digest = hashlib.sha256(served.content).hexdigest()
    assert path_of(world.urls["input"]) == f"/files/inputs/{digest[:2]}/{digest}.png"
    assert path_of(world.urls["input thumbnail"]) == f"/files/thumbnails/{digest[:2]}/{digest}.webp"


def test_near_misses_and_escapes_are_not_found(secured: ServiceThread, world: AliceWorld) -> None:
    result = path_of(world.urls["result 0"])
    token = result.rsplit("/", 1)[1].split(".")[0]
    near = token[:-1] + ("0" if token[-1] != "0" else "1")
    for path in (result.replace(token, near), result.upper(), result + "x", *ESCAPES):
        response = get(secured, path)
        assert response.status_code in (400, 404), f"{path}: HTTP {response.status_code}"
        assert b"Kontext" not in response.content and b"root:" not in response.content, path


def test_files_are_served_as_inert_typed_content(secured: ServiceThread, world: AliceWorld) -> None:
    for name, url in world.urls.items():
        response = get(secured, path_of(url))
        assert response.status_code == 200, f"{name}: HTTP {response.status_code}"
        assert response.headers["content-type"] in ("image/png", "image/webp", "image/jpeg"), name
        assert response.headers.get("x-content-type-options") == "nosniff", (
            f"{name} is served without X-Content-Type-Options: nosniff"
        )


def test_file_urls_are_capabilities_anyone_holding_one_can_read(
    secured: ServiceThread, world: AliceWorld, bob: Owner
) -> None:
    """Observed sharing semantics: /files/ needs no key, so a URL alice shares (or leaks) is
    readable by bob and by clients without any key; bob cannot find the URL through the API."""
    for name, url in world.urls.items():
        with_bob = get(secured, path_of(url), bob.auth)
        without_key = get(secured, path_of(url))
        assert with_bob.status_code == without_key.status_code == 200, name


def test_the_same_upload_by_another_owner_shares_the_content_addressed_file(
    secured: ServiceThread, world: AliceWorld, bob: Owner
) -> None:
    """Observed: input files are content-addressed, so bob uploading alice's exact bytes gets a
    row of his own pointing at the same file (and so learns that the file existed)."""
    source = {"base64": base64.b64encode(alice_picture()).decode()}
    reply = secured.run(bob.call(UPLOAD, image=source)).ok()["uploadImage"]
    assert path_of(reply["url"]) == path_of(world.urls["input"])
