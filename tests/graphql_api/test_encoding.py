"""The JSON the service answers with: compact UTF-8 from orjson, and the json module's text for
what orjson refuses, so every value the json module writes is still answered."""

from __future__ import annotations

import json

from graphql_api.encoding import json_bytes, json_text


def test_answers_are_compact_utf8_json_of_the_same_value() -> None:
    value = {"data": {"task": {"description": "rouge → vert", "progress": 12.5, "error": None}}}
    written = json_bytes(value)
    assert json.loads(written) == value
    assert b" " not in written.replace("rouge → vert".encode(), b"")
    assert "rouge → vert".encode() in written
    assert json_text(value) == written.decode()


def test_what_orjson_refuses_is_written_by_the_json_module() -> None:
    past_64_bits = {"seed": 2**64, "steps": 20}
    assert json_bytes(past_64_bits) == b'{"seed":18446744073709551616,"steps":20}'
    numbered_keys = {1: "one"}
    assert json.loads(json_text(numbered_keys)) == {"1": "one"}
