"""Multipart forms are read with every file the service could accept kept in memory (Starlette's
own parser writes a file past 1 MB out to a temporary file, then reads it back); a larger file
still goes to disk, and the parser's refusals stay coded 400s."""

from __future__ import annotations

import os

import httpx
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from graphql_api.upload_form import MAX_FIELD_BYTES, UploadRequestAdapter
from tests.graphql_api.test_transport_errors import PREFLIGHT, coded
from tests.support.graphql import GraphQLClient

MEBIBYTE = 1024 * 1024


def multipart_request(files: dict[str, bytes]) -> Request:
    """A Starlette request whose body is a multipart form with these files, sent in 64 KiB
    chunks as a server hands them over."""
    body = httpx.Request("POST", "http://test/", files=files)
    content = body.read()
    chunks = [content[start : start + 65536] for start in range(0, len(content), 65536)]

    async def receive() -> Message:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    headers = [(name.lower().encode(), value.encode()) for name, value in body.headers.items()]
    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


def on_disk(upload: UploadFile) -> bool:
    """Whether the spooled file was moved to a temporary file (it then has a descriptor)."""
    spooled = upload.file
    return bool(getattr(spooled, "_rolled"))  # noqa: B009 - the spool's one public-ish flag


async def read(files: dict[str, bytes], in_memory_bytes: int) -> dict[str, UploadFile]:
    form = await UploadRequestAdapter(multipart_request(files)).form_keeping_files(in_memory_bytes)
    uploads = {name: part for name, part in form.files.items() if isinstance(part, UploadFile)}
    assert uploads.keys() == files.keys()
    return uploads


async def test_a_file_within_the_limit_stays_in_memory_whole() -> None:
    photo = os.urandom(3 * MEBIBYTE)
    uploads = await read({"0": photo}, in_memory_bytes=20 * MEBIBYTE)
    assert not on_disk(uploads["0"])
    assert await uploads["0"].read() == photo


async def test_a_file_over_the_limit_goes_to_disk_whole() -> None:
    large = os.urandom(3 * MEBIBYTE)
    small = os.urandom(100_000)
    uploads = await read({"large": large, "small": small}, in_memory_bytes=2 * MEBIBYTE)
    assert on_disk(uploads["large"]) and not on_disk(uploads["small"])
    assert await uploads["large"].read() == large
    assert await uploads["small"].read() == small


async def test_a_field_over_starlettes_limit_is_a_coded_400(api: GraphQLClient) -> None:
    fields = {
        "operations": '{"query": "{ workflows { name } }", "variables": {}, "pad": "'
        + "x" * MAX_FIELD_BYTES
        + '"}',
        "map": "{}",
    }
    files = {"0": ("a.png", b"x", "image/png")}
    response = await api.http.post("/graphql", data=fields, files=files, headers=PREFLIGHT)
    assert (response.status_code, coded(response)) == (400, "BAD_REQUEST")
    assert "maximum size" in response.json()["errors"][0]["message"]
