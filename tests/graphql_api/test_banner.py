"""The start-up banner of `kontext serve` (the command itself: tests/cli/test_serve_command.py)."""

from __future__ import annotations

from graphql_api.banner import banner, base_url, shown_database
from graphql_api.settings import Settings


def test_a_wildcard_address_is_shown_as_a_url_a_browser_opens() -> None:
    assert base_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert base_url("::1", 8000) == "http://[::1]:8000"


def test_a_database_password_is_never_shown() -> None:
    shown = shown_database("postgres://kontext:s3cret@db:5432/kontext")
    assert shown == "postgres://kontext:***@db:5432/kontext"


def test_real_backends_and_required_keys() -> None:
    settings = Settings(
        host="0.0.0.0",
        comfyui_urls=("http://gpu-1:8188", "http://gpu-2:8188"),
        storage_url="s3://bucket/prefix",
    )
    text = banner(settings, settings.comfyui_urls)
    assert "http://127.0.0.1:8000/graphql (listening on all addresses, 0.0.0.0)" in text
    assert "ComfyUI at http://gpu-1:8188, http://gpu-2:8188" in text
    assert "s3://bucket/prefix" in text
    assert "API keys required (KONTEXT_AUTH=auto)" in text


def test_an_api_only_replica_says_it_runs_no_backend() -> None:
    assert "KONTEXT_DISPATCH=false" in banner(Settings(dispatch=False), ())
