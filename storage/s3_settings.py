"""S3Settings: where an S3-compatible blob store keeps its blobs and how to reach it.

Built from a storage URL plus explicit fields (the API layer reads them from the environment):

    S3Settings.from_url(
        "s3://kontext-images/prod", endpoint_url="http://minio:9000",
        access_key_id="...", secret_access_key="...",
    )

The URL names the bucket and an optional key prefix; blob 'inputs/ab/abc.png' then lives at the
object key 'prod/inputs/ab/abc.png'. Values are checked when the settings are built, so a typo
fails at start-up rather than on the first upload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypedDict, Unpack
from urllib.parse import urlsplit

from storage.errors import InvalidBlobKey
from storage.keys import validate_key

DEFAULT_REGION = "us-east-1"
DEFAULT_PRESIGN_SECONDS = 3600
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
"""SigV4 presigned URLs cannot outlive a week."""
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class S3Options(TypedDict, total=False):
    """The fields S3Settings.from_url takes besides the URL."""

    endpoint_url: str | None
    region: str
    access_key_id: str | None
    secret_access_key: str | None
    public_base_url: str | None
    presign_seconds: int
    path_style: bool | None
    connect_timeout: float
    read_timeout: float
    max_attempts: int


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    prefix: str = ""
    """'' or segments ending in '/', e.g. 'prod/'; prepended to every blob key."""
    endpoint_url: str | None = None
    """The server's base URL (MinIO, R2, Ceph, ...); None: AWS S3 itself."""
    region: str = DEFAULT_REGION
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    """With access_key_id; both None: the usual AWS credential chain (environment, profile, role)."""
    public_base_url: str | None = None
    """Where the bucket is served publicly (a CDN or a public bucket): links are
    '<public_base_url>/<prefix><key>' and never expire. None: presigned GET URLs."""
    presign_seconds: int = DEFAULT_PRESIGN_SECONDS
    """How long a presigned URL stays valid when the caller does not say."""
    path_style: bool | None = None
    """Address the bucket as '<endpoint>/<bucket>/...'; None: so exactly when endpoint_url is set."""
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 3
    """Attempts per request, retries included (botocore's standard retry mode)."""

    def __post_init__(self) -> None:
        if not BUCKET_NAME.fullmatch(self.bucket) or ".." in self.bucket:
            raise ValueError(f"{self.bucket!r} is not a valid S3 bucket name")
        object.__setattr__(self, "prefix", normalized_prefix(self.prefix))
        for name in ("endpoint_url", "public_base_url"):
            check_http_url(name, getattr(self, name))
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither")
        check_presign_seconds(self.presign_seconds)
        if self.connect_timeout <= 0 or self.read_timeout <= 0 or self.max_attempts < 1:
            raise ValueError("timeouts must be positive and max_attempts at least 1")

    @classmethod
    def from_url(cls, url: str, **options: Unpack[S3Options]) -> S3Settings:
        """Settings for a storage URL 's3://bucket' or 's3://bucket/prefix' plus `options`."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"expected a storage URL like s3://bucket/prefix, got {url!r}")
        return cls(bucket=parts.netloc, prefix=parts.path, **options)

    @property
    def uses_path_style(self) -> bool:
        return self.endpoint_url is not None if self.path_style is None else self.path_style

    def object_key(self, key: str) -> str:
        """The object key holding the blob under `key` (InvalidBlobKey for a malformed key)."""
        return self.prefix + validate_key(key)


def normalized_prefix(prefix: str) -> str:
    """'', '/a/b', 'a/b/' -> '', 'a/b/', 'a/b/'; segments follow the blob key rules."""
    trimmed = prefix.strip("/")
    if not trimmed:
        return ""
    try:
        return validate_key(trimmed) + "/"
    except InvalidBlobKey as exc:
        raise ValueError(f"invalid S3 key prefix {prefix!r}: {exc.reason}") from exc


def check_http_url(name: str, url: str | None) -> None:
    if url is None:
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError(f"{name} must be an http(s) URL without a query, got {url!r}")


def check_presign_seconds(seconds: int) -> None:
    if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
        raise ValueError(f"a presigned URL lives 1 to {MAX_PRESIGN_SECONDS} seconds, not {seconds}")
