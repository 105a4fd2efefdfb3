"""Small ASGI middlewares: bind the database per request, and refuse multipart requests without a preflight."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from tasks.database import Database

PREFLIGHT_HEADERS = (b"apollo-require-preflight", b"x-apollo-operation-name")


class DatabaseBinding:
    """Requests run in tasks that do not descend from the lifespan; bind the app's database to each."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        database = (scope.get("state") or {}).get("database")
        if not isinstance(database, Database):
            await self.app(scope, receive, send)
            return
        with database.bound():
            await self.app(scope, receive, send)


class MultipartPreflightGuard:
    """CSRF guard as in Apollo Server: a multipart POST must carry a header only scripts can set.

    A form on another origin can post multipart/form-data without a CORS preflight; requiring
    `Apollo-Require-Preflight` (or `X-Apollo-Operation-Name`) forces one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_unguarded_multipart(scope):
            await refuse_without_preflight(send)
            return
        await self.app(scope, receive, send)


def is_unguarded_multipart(scope: Scope) -> bool:
    headers = dict(scope["headers"])
    content_type = headers.get(b"content-type", b"").lower()
    if not content_type.startswith(b"multipart/"):
        return False
    return not any(headers.get(name, b"").strip() for name in PREFLIGHT_HEADERS)


async def refuse_without_preflight(send: Send) -> None:
    body = json.dumps(
        {
            "errors": [
                {
                    "message": (
                        "Multipart requests need a non-empty Apollo-Require-Preflight header "
                        "(CSRF protection)."
                    ),
                    "extensions": {"code": "CSRF_PREFLIGHT_REQUIRED"},
                }
            ]
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
