from __future__ import annotations

import pytest

from comfy.urls import shown_url


@pytest.mark.parametrize(
    ("configured", "shown"),
    [
        ("http://127.0.0.1:8188", "http://127.0.0.1:8188"),
        ("https://render:hunter2@gpu-1:8188/comfy", "https://gpu-1:8188/comfy"),
        ("http://token@gpu-2:8188", "http://gpu-2:8188"),
        ("http://a%40b:p%40ss@[::1]:8188", "http://[::1]:8188"),
    ],
)
def test_an_address_is_shown_without_its_credentials(configured: str, shown: str) -> None:
    assert shown_url(configured) == shown
