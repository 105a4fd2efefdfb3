"""The storage settings: read from the environment and checked at start-up, the secret kept hidden."""

from __future__ import annotations

import pytest

from graphql_api.cli import main
from graphql_api.settings import Settings, SettingsError
from storage.s3_settings import S3Settings

SECRET = "very-secret-value-1234"
S3_ENV = {
    "KONTEXT_STORAGE_URL": "s3://kontext-images/prod",
    "KONTEXT_S3_ENDPOINT_URL": "http://minio:9000",
    "KONTEXT_S3_REGION": "eu-central-1",
    "KONTEXT_S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "KONTEXT_S3_SECRET_ACCESS_KEY": SECRET,
    "KONTEXT_S3_PRESIGN_SECONDS": "600",
}


def test_local_storage_is_the_default() -> None:
    assert Settings.from_env({}).s3_settings() is None


def test_an_s3_storage_url_selects_the_bucket_with_the_s3_settings() -> None:
    settings = Settings.from_env(S3_ENV)
    assert settings.s3_settings() == S3Settings(
        bucket="kontext-images",
        prefix="prod/",
        endpoint_url="http://minio:9000",
        region="eu-central-1",
        access_key_id="AKIDEXAMPLE",
        secret_access_key=SECRET,
        presign_seconds=600,
    )
    public = Settings.from_env({**S3_ENV, "KONTEXT_S3_PUBLIC_BASE_URL": "https://cdn.example/i"})
    s3 = public.s3_settings()
    assert s3 is not None and s3.public_base_url == "https://cdn.example/i"


def test_without_keys_the_aws_credential_chain_is_used() -> None:
    env = {"KONTEXT_STORAGE_URL": "s3://kontext-images"}
    s3 = Settings.from_env(env).s3_settings()
    assert s3 is not None and (s3.access_key_id, s3.secret_access_key) == (None, None)
    assert s3.endpoint_url is None and s3.prefix == ""


def test_the_secret_is_never_shown() -> None:
    settings = Settings.from_env(S3_ENV)
    assert SECRET not in repr(settings)
    s3 = settings.s3_settings()
    assert SECRET not in repr(s3) and SECRET not in str(s3)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"KONTEXT_STORAGE_URL": "https://kontext-images/prod"}, r"KONTEXT_STORAGE_URL=.*s3://"),
        ({"KONTEXT_STORAGE_URL": "/srv/images"}, r"KONTEXT_STORAGE_URL=.*KONTEXT_STORAGE_DIR"),
        ({"KONTEXT_STORAGE_URL": "s3://Kontext_Images"}, r"KONTEXT_STORAGE_URL=.*bucket name"),
        ({"KONTEXT_STORAGE_URL": "s3://kontext-images/../x"}, r"KONTEXT_STORAGE_URL=.*prefix"),
        ({"KONTEXT_S3_ENDPOINT_URL": "minio:9000"}, r"KONTEXT_S3_ENDPOINT_URL=.*http\(s\) URL"),
        ({"KONTEXT_S3_PUBLIC_BASE_URL": "cdn.example"}, r"KONTEXT_S3_PUBLIC_BASE_URL=.*http"),
        ({"KONTEXT_S3_PRESIGN_SECONDS": "0"}, r"KONTEXT_S3_PRESIGN_SECONDS=.*1 to 604800"),
        ({"KONTEXT_S3_PRESIGN_SECONDS": "700000"}, r"KONTEXT_S3_PRESIGN_SECONDS=.*1 to 604800"),
        ({"KONTEXT_S3_PRESIGN_SECONDS": "an hour"}, r"KONTEXT_S3_PRESIGN_SECONDS="),
        ({"KONTEXT_S3_ACCESS_KEY_ID": ""}, r"both KONTEXT_S3_ACCESS_KEY_ID and .*SECRET"),
        ({"KONTEXT_S3_SECRET_ACCESS_KEY": ""}, r"both KONTEXT_S3_ACCESS_KEY_ID and .*SECRET"),
    ],
)
def test_bad_storage_settings_are_refused_with_a_clear_message(
    changes: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message) as raised:
        Settings.from_env({**S3_ENV, **changes})
    assert SECRET not in str(raised.value)


def test_kontext_refuses_to_start_on_bad_storage_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {**S3_ENV, "KONTEXT_STORAGE_URL": "s3://no"}.items():
        monkeypatch.setenv(name, value)
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("configuration error: KONTEXT_STORAGE_URL='s3://no': ")
    assert "'no' is not a valid S3 bucket name" in error
    assert SECRET not in error
