"""S3Settings: built from a storage URL plus explicit fields, checked when built."""

from __future__ import annotations

import pytest

from storage.errors import InvalidBlobKey
from storage.s3_settings import MAX_PRESIGN_SECONDS, S3Settings


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://images", "images", ""),
        ("s3://images/", "images", ""),
        ("s3://images/prod", "images", "prod/"),
        ("s3://my.images-2/prod/eu/", "my.images-2", "prod/eu/"),
    ],
)
def test_a_storage_url_names_the_bucket_and_the_key_prefix(
    url: str, bucket: str, prefix: str
) -> None:
    settings = S3Settings.from_url(url)
    assert (settings.bucket, settings.prefix) == (bucket, prefix)


@pytest.mark.parametrize(
    "url",
    [
        "https://images/prod",
        "s3:///prod",
        "s3://Images/prod",
        "s3://im",
        "s3://images/../etc",
        "s3://images/Prod",
        "s3://images/prod?x=1",
    ],
)
def test_a_malformed_storage_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"s3|bucket|prefix"):
        S3Settings.from_url(url)


def test_explicit_fields_come_with_the_url() -> None:
    settings = S3Settings.from_url(
        "s3://images/prod",
        endpoint_url="http://minio:9000",
        region="eu-central-1",
        access_key_id="id",
        secret_access_key="secret",
        public_base_url="https://cdn.example",
        presign_seconds=600,
    )
    assert settings.endpoint_url == "http://minio:9000"
    assert (settings.region, settings.presign_seconds) == ("eu-central-1", 600)
    assert settings.public_base_url == "https://cdn.example"
    assert "secret" not in repr(settings)


def test_credentials_come_in_pairs() -> None:
    with pytest.raises(ValueError, match="both"):
        S3Settings.from_url("s3://images", access_key_id="id")
    assert S3Settings.from_url("s3://images").access_key_id is None


@pytest.mark.parametrize("seconds", [0, -5, MAX_PRESIGN_SECONDS + 1])
def test_a_presign_lifetime_outside_one_second_to_a_week_is_refused(seconds: int) -> None:
    with pytest.raises(ValueError, match="presigned"):
        S3Settings.from_url("s3://images", presign_seconds=seconds)


def test_urls_must_be_http_or_https() -> None:
    with pytest.raises(ValueError, match="endpoint_url"):
        S3Settings.from_url("s3://images", endpoint_url="ftp://host/x")
    with pytest.raises(ValueError, match="public_base_url"):
        S3Settings.from_url("s3://images", public_base_url="cdn.example/x")


def test_path_style_addressing_follows_the_endpoint_unless_set() -> None:
    assert S3Settings.from_url("s3://images", endpoint_url="http://minio:9000").uses_path_style
    assert not S3Settings.from_url("s3://images").uses_path_style
    assert S3Settings.from_url("s3://images", path_style=True).uses_path_style
    custom = S3Settings.from_url("s3://images", endpoint_url="https://r2.example", path_style=False)
    assert not custom.uses_path_style


def test_object_keys_are_the_prefix_and_a_validated_blob_key() -> None:
    settings = S3Settings.from_url("s3://images/prod")
    assert settings.object_key("inputs/ab/x.png") == "prod/inputs/ab/x.png"
    with pytest.raises(InvalidBlobKey):
        settings.object_key("../x.png")
