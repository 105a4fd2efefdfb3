"""A real S3-compatible server for tests: moto in server mode, in a subprocess on a free loopback port.

A subprocess (rather than moto's in-process thread) keeps the server's own memory out of the test
process, so tests can measure what the store holds. The server's request log is kept in a file;
`requests_for(bucket)` reads the lines about one bucket ('PUT /bucket/key?partNumber=1&... 200').
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

ACCESS_KEY_ID = "test-access-key"
SECRET_ACCESS_KEY = "test-secret-key"
REGION = "us-east-1"
READY = re.compile(rb"Running on (http://127\.0\.0\.1:\d+)")
REQUEST = re.compile(r'"([A-Z]+ /[^"]*) HTTP/1\.1')


@dataclass(frozen=True)
class S3Server:
    url: str
    log: Path

    def requests_for(self, bucket: str) -> list[str]:
        """'METHOD /path?query' of every request the server logged about `bucket`."""
        text = self.log.read_text(errors="replace")
        found = (match.group(1) for match in REQUEST.finditer(text))
        return [line for line in found if line.split(" ", 1)[1].startswith(f"/{bucket}")]


@contextlib.contextmanager
def running_s3_server(log: Path, timeout: float = 60.0) -> Iterator[S3Server]:
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        yield S3Server(wait_until_ready(process, log, timeout), log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_until_ready(process: subprocess.Popen[bytes], log: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (match := READY.search(log.read_bytes())) is not None:
            return match.group(1).decode()
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited early: {log.read_text(errors='replace')}")
        time.sleep(0.05)
    raise RuntimeError(f"moto server did not start within {timeout} s")


@contextlib.asynccontextmanager
async def admin_client(url: str, session: AioSession) -> AsyncIterator[S3Client]:
    """A plain S3 client for arranging (buckets, foreign objects) and inspecting the server."""
    config = AioConfig(s3={"addressing_style": "path"}, connect_timeout=5, read_timeout=30)
    async with session.create_client(
        "s3",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=config,
    ) as client:
        yield client


async def pending_uploads(client: S3Client, bucket: str) -> list[str]:
    """Keys of the multipart uploads started in `bucket` and neither completed nor aborted."""
    response = await client.list_multipart_uploads(Bucket=bucket)
    return [upload.get("Key", "") for upload in response.get("Uploads", [])]
