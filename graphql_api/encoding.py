"""JSON of what the service answers: GraphQL responses over HTTP and the messages of
subscriptions. Written with orjson, compact and UTF-8; what orjson refuses (an integer past 64
bits, a key that is not text) is written by the standard library instead, so any value the
standard library writes is answered."""

from __future__ import annotations

import json

import orjson

__all__ = ["json_bytes", "json_text"]


def json_bytes(value: object) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, separators=(",", ":")).encode()


def json_text(value: object) -> str:
    return json_bytes(value).decode()
