"""Small ASGI middlewares: bind the database per request, refuse multipart requests without a
preflight, and keep a websocket's server `send` for the relay."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_api.transport_errors import error_body
from tasks import Database

PREFLIGHT_HEADERS = (b"apollo-require-preflight", b"x-apollo-operation-name")
SERVER_SEND = "kontext.server_send"


class ServerSend:
    """Outermost: keeps the server's own `send` of each websocket in its scope (`SERVER_SEND`).
    The layers between it and the handlers only watch accept, close and HTTP messages, so the
    relay writes each `next` frame with it (graphql_api/ws_handlers.py): one call instead of
    one per layer, for every subscriber of every event."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SERVER_SEND] = send
        await self.app(scope, receive, send)


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
    await refuse(
        send,
        400,
        "CSRF_PREFLIGHT_REQUIRED",
        "Multipart requests need a non-empty Apollo-Require-Preflight header (CSRF protection).",
    )


async def refuse(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    """Answer with a GraphQL-shaped error body, before the request reaches the app."""
    body = error_body(message, code)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """Refuses request bodies over `max_bytes` with 413, whether declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await refuse(send, 413, "PAYLOAD_TOO_LARGE", self.too_large)
            return
        await self.app(scope, *self._guarded(receive, send))

    @property
    def too_large(self) -> str:
        return f"The request body is larger than the {self.max_bytes // (1024 * 1024)} MB limit."

    def _guarded(self, receive: Receive, send: Send) -> tuple[Receive, Send]:
        received = 0
        started = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes and not refused:
                refused = True
                if not started:
                    await refuse(send, 413, "PAYLOAD_TOO_LARGE", self.too_large)
                return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        return limited_receive, tracked_send
