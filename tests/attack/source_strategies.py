"""Strategies for image sources and whole generateImage inputs: image bytes (good, flipped,
cut, foreign), base64 spellings, URLs that only ever name forbidden hosts or refused schemes,
ImageInput variants, and GenerateImageInput.

URLs only ever name loopback, private or reserved literal addresses (never a host name, so no
lookup either), or schemes refused before any connection; every other part is percent-encoded,
so no generated URL can make the service reach beyond this machine."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from tests.attack.pictures import gif, small_pictures
from tests.attack.strategies import (
    generation_parameters,
    hostile_text,
    ids,
    integers_around,
    json_values,
    loosely,
    mostly,
)

SOURCE_KEYS = ("upload", "base64", "url", "imageId")
FORBIDDEN_HOSTS = (
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f.1",
    "0x7f000001",
    "017700000001",
    "0177.0.0.1",
    "0.0.0.0",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "192.0.2.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "255.255.255.255",
    "[::1]",
    "[::]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::ffff:a9fe:a9fe]",
    "[64:ff9b::a00:1]",
    "[fd00:ec2::254]",
    "[fe80::1]",
    "[fe80::1%25eth0]",
    "[fc00::1]",
    "[2001:db8::1]",
)
SCHEMES = ("http", "https", "HTTP", "hTtPs", "ftp", "file", "gopher", "dict", "ldap", "ws", "jar")


def flipped(data: bytes, position: int, value: int) -> bytes:
    index = position % len(data)
    return data[:index] + bytes([value]) + data[index + 1 :]


def image_bytes() -> st.SearchStrategy[bytes]:
    good = st.sampled_from(small_pictures())
    return st.one_of(
        good,
        good,
        st.builds(flipped, good, st.integers(0, 10_000), st.integers(0, 255)),
        st.builds(lambda data, n: data[: n % len(data)], good, st.integers(0, 10_000)),
        st.just(gif()),
        st.binary(max_size=64),
    )


def encodings() -> st.SearchStrategy[Callable[[bytes], str]]:
    def standard(data: bytes) -> str:
        return base64.b64encode(data).decode()

    def urlsafe_unpadded(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    def wrapped(data: bytes) -> str:
        text = standard(data)
        return "\n".join(text[i : i + 76] for i in range(0, len(text), 76))

    def data_uri(media: str) -> Callable[[bytes], str]:
        return lambda data: f"data:{media};base64,{standard(data)}"

    def unencoded_uri(data: bytes) -> str:
        return f"data:image/png,{standard(data)}"

    def garbled(data: bytes) -> str:
        text = standard(data)
        return text[: len(text) // 2] + "*" + text[len(text) // 2 :]

    media = st.sampled_from(["image/png", "image/gif", "text/html", "", "IMAGE/JPEG;x=y"])
    return st.one_of(
        st.sampled_from([standard, standard, urlsafe_unpadded, wrapped, unencoded_uri, garbled]),
        media.map(data_uri),
    )


def base64_texts() -> st.SearchStrategy[str]:
    encoded = st.builds(lambda encode, data: encode(data), encodings(), image_bytes())
    return mostly(encoded, hostile_text(), odds=6)


def encoded_part(max_size: int = 12) -> st.SearchStrategy[str]:
    return hostile_text(max_size).map(lambda t: quote(t, safe="", errors="surrogatepass"))


def forbidden_urls() -> st.SearchStrategy[str]:
    """URLs naming only forbidden hosts (or refused schemes); every other part percent-encoded."""

    def assemble(
        scheme: str,
        user: str | None,
        host: str,
        port: str,
        path: list[str],
        query: str | None,
        fragment: str | None,
        shape: int,
    ) -> str:
        authority = f"{user + '@' if user is not None else ''}{host}{port}"
        rest = "/" + "/".join(path) + (f"?{query}" if query is not None else "")
        rest += f"#{fragment}" if fragment is not None else ""
        shapes = (
            f"{scheme}://{authority}{rest}",
            f"{scheme}:{authority}{rest}",
            f"{scheme}:\\\\{authority}{rest}",
            f"//{authority}{rest}",
            f"{authority}{rest}",
            f"  {scheme}://{authority}{rest}\t",
        )
        return shapes[shape]

    port = st.one_of(
        st.just(""),
        st.integers(0, 70_000).map(lambda p: f":{p}"),
        st.sampled_from([":", ":abc", ":-1", ":80:80"]),
    )
    return st.builds(
        assemble,
        st.sampled_from(SCHEMES),
        st.none() | encoded_part(),
        st.sampled_from(FORBIDDEN_HOSTS),
        port,
        st.lists(encoded_part(), max_size=3),
        st.none() | encoded_part(),
        st.none() | encoded_part(),
        mostly(st.just(0), st.integers(1, 5), odds=4),
    )


def image_inputs() -> st.SearchStrategy[Any]:
    single = st.one_of(
        st.fixed_dictionaries({"base64": base64_texts()}),
        st.fixed_dictionaries({"base64": base64_texts()}),
        st.fixed_dictionaries({"url": loosely(forbidden_urls())}),
        st.fixed_dictionaries({"imageId": ids()}),
        st.fixed_dictionaries({"upload": json_values()}),
    )
    malformed = st.one_of(
        st.dictionaries(st.sampled_from([*SOURCE_KEYS, "nope"]), json_values(), max_size=4),
        json_values(),
    )
    return mostly(single, malformed, odds=6)


def descriptions() -> st.SearchStrategy[Any]:
    plain = st.one_of(st.just("make the car red"), st.text(min_size=1, max_size=60))
    return loosely(mostly(plain, hostile_text(2100), odds=3))


def generate_inputs() -> st.SearchStrategy[Any]:
    optional = {
        "parameters": generation_parameters(),
        "secondImage": st.one_of(st.none(), image_inputs()),
        "workflow": loosely(mostly(st.just("flux_kontext_dev_basic"), hostile_text(), odds=4)),
        "count": loosely(integers_around(1, 8)),
        "idempotencyKey": st.one_of(st.none(), hostile_text(130)),
        "timeoutSeconds": st.one_of(st.none(), loosely(integers_around(1, 86_400))),
    }
    well_formed = st.fixed_dictionaries(
        {"referenceImage": image_inputs(), "description": descriptions()}, optional=optional
    )
    with_unknown_field = st.builds(
        lambda data, extra: {**data, "unknownField": extra}, well_formed, json_values()
    )
    return mostly(well_formed, st.one_of(with_unknown_field, json_values()), odds=12)
