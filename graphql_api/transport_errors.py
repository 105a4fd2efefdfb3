"""Refusals made before GraphQL runs (a body that is not JSON, a broken multipart request, an
unknown route, a method a route does not take), answered like every other error: a GraphQL JSON
body whose error carries `extensions.code`, with the HTTP status that says what went wrong."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from types import MappingProxyType

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

CODES_BY_STATUS: Mapping[int, str] = MappingProxyType(
    {
        HTTPStatus.BAD_REQUEST.value: "BAD_REQUEST",
        HTTPStatus.NOT_FOUND.value: "NOT_FOUND",
        HTTPStatus.METHOD_NOT_ALLOWED.value: "METHOD_NOT_ALLOWED",
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE.value: "PAYLOAD_TOO_LARGE",
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE.value: "UNSUPPORTED_MEDIA_TYPE",
    }
)


def code_for(status: int) -> str:
    """The error code for an HTTP status: a named one, else BAD_REQUEST for the caller's
    mistakes and INTERNAL_SERVER_ERROR for the server's."""
    fallback = "BAD_REQUEST" if status < 500 else "INTERNAL_SERVER_ERROR"
    return CODES_BY_STATUS.get(status, fallback)


def error_body(message: str, code: str) -> bytes:
    """A GraphQL response body carrying one error with its code."""
    return json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()


def transport_error(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        error_body(message, code_for(status)),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


async def http_exception_as_json(request: Request, exc: Exception) -> Response:
    """Starlette exception handler: its HTTPException (no route, wrong method, a multipart body
    its parser refused) as a GraphQL JSON error; the Allow header of a 405 is kept."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return transport_error(exc.status_code, exc.detail, exc.headers)
