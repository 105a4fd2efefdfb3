"""A GraphQL-over-HTTP client that sends exactly what a test gives it and keeps whatever comes
back, even when the answer is not JSON (the verdicts decide what is acceptable)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

PATH = "/graphql"


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    text: str
    body: Any
    """The parsed JSON body, or None when the body is not JSON."""

    @classmethod
    def of(cls, response: httpx.Response) -> Reply:
        try:
            body = response.json()
        except ValueError:
            body = None
        return cls(
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            text=response.text[:2000],
            body=body,
        )

    @property
    def errors(self) -> list[Any]:
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        return list(errors) if isinstance(errors, list) else []

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None

    @property
    def codes(self) -> list[object]:
        return [code_of(error) for error in self.errors]

    @property
    def refused(self) -> bool:
        return self.status >= 400 or bool(self.errors) or not isinstance(self.body, dict)

    def ok(self) -> Any:
        assert self.status == 200 and not self.errors, f"unexpected refusal: {self.text}"
        return self.data


def code_of(error: Any) -> object:
    extensions = error.get("extensions") if isinstance(error, dict) else None
    return extensions.get("code") if isinstance(extensions, dict) else None


def as_json(payload: Any) -> bytes:
    """JSON with non-ASCII escaped, so lone surrogates and NaN reach the server as sent."""
    return json.dumps(payload, ensure_ascii=True, allow_nan=True).encode("ascii")


class WireClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post_json(self, payload: Any, headers: Mapping[str, str] | None = None) -> Reply:
        return await self.post_raw(as_json(payload), "application/json", headers)

    async def post_raw(
        self, content: bytes, content_type: str | None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        sent = dict(headers or {})
        if content_type is not None:
            sent["content-type"] = content_type
        return Reply.of(await self.http.post(PATH, content=content, headers=sent))

    async def post_multipart(
        self,
        fields: Mapping[str, str],
        files: Mapping[str, tuple[str, bytes, str]],
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        sent = {"Apollo-Require-Preflight": "true", **(headers or {})}
        response = await self.http.post(PATH, data=dict(fields), files=dict(files), headers=sent)
        return Reply.of(response)

    async def get(self, url: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        return await self.http.get(url, headers=dict(headers or {}))
