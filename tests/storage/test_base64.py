from __future__ import annotations

import base64

import pytest

from storage.errors import ImageRejected
from storage.sources import decode_base64
from tests.support.images import encoded

PICTURE = encoded(16, 8)
MB = 1024 * 1024


def rejection(text: str, max_bytes: int = 20 * MB) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        decode_base64(text, max_bytes)
    return caught.value


@pytest.mark.parametrize(
    "text",
    [
        base64.b64encode(PICTURE).decode(),
        "data:image/png;base64," + base64.b64encode(PICTURE).decode(),
        "DATA:image/jpeg;BASE64," + base64.b64encode(PICTURE).decode(),
        base64.urlsafe_b64encode(PICTURE).decode().rstrip("="),
        "\n".join(base64.encodebytes(PICTURE).decode().splitlines()) + "\n",
        "  " + base64.b64encode(PICTURE).decode() + "  ",
    ],
    ids=["raw", "data-uri", "data-uri-upper", "url-safe-unpadded", "mime-lines", "padded-spaces"],
)
def test_accepted_spellings_decode_to_the_same_bytes(text: str) -> None:
    assert decode_base64(text, 20 * MB) == PICTURE


@pytest.mark.parametrize(
    "text",
    [
        "not base64 at all!",
        "QUJD*RA==",
        "QUJDR",
        "Zm9vYmFy\u00e9",
        "",
        "   ",
        "data:image/png;base64,",
        "data:image/png,QUJD",
        "data:image/png;base64",
    ],
)
def test_malformed_text_is_refused_as_bad_base64(text: str) -> None:
    assert rejection(text).code == "BAD_BASE64"


def test_oversize_payload_is_refused_from_its_length_with_the_sizes_named() -> None:
    rejected = rejection("A" * (4 * 1024 * 1024), max_bytes=1 * MB)
    assert rejected.code == "IMAGE_TOO_LARGE"
    assert "1 MB" in rejected.message


def test_payload_just_over_the_cap_is_refused_exactly() -> None:
    cap = 3000
    assert len(decode_base64(base64.b64encode(b"x" * cap).decode(), cap)) == cap
    rejected = rejection(base64.b64encode(b"x" * (cap + 1)).decode(), max_bytes=cap)
    assert rejected.code == "IMAGE_TOO_LARGE"
    assert "3001 bytes" in rejected.message


def test_oversize_data_uri_is_refused_before_checking_its_alphabet() -> None:
    rejected = rejection("data:image/png;base64," + "!" * (2 * MB), max_bytes=MB)
    assert rejected.code == "IMAGE_TOO_LARGE"
