"""GraphQL multipart requests (the spec Apollo's upload client speaks), built as bytes."""

from __future__ import annotations

import json
from typing import Any

BOUNDARY = "kontextbenchboundary7MA4YWxkTrZu0gW"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}".encode()


def _field(name: str, value: bytes, filename: str = "", content_type: str = "") -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"'
    if filename:
        disposition += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\n{disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + value + b"\r\n"


def upload_body(query: str, variables: dict[str, Any], path: str, png: bytes) -> bytes:
    """operations + map + one file part "0" mapped to the variable at `path`."""
    operations = json.dumps({"query": query, "variables": variables}).encode()
    mapping = json.dumps({"0": [path]}).encode()
    return (
        _field("operations", operations)
        + _field("map", mapping)
        + _field("0", png, filename="reference.png", content_type="image/png")
        + f"--{BOUNDARY}--\r\n".encode()
    )
