"""Who is calling: an API key in `Authorization: Bearer …` (HTTP) or in the websocket's
connection_init payload (browsers cannot set headers on a websocket upgrade)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.middleware import refuse
from tasks.api_keys import owner_of

LOCAL_OWNER = "local"
PARAM_NAMES = ("authorization", "Authorization", "apiKey", "api_key")


def bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_in_params(params: Mapping[str, object] | None) -> str | None:
    for name in PARAM_NAMES:
        value = (params or {}).get(name)
        if isinstance(value, str) and value:
            return bearer(value) or value
    return None


async def owner_for(token: str | None, *, required: bool) -> str | None:
    """The caller's owner id; None when a key is required and this one is not valid."""
    if not required:
        return LOCAL_OWNER
    return await owner_of(token) if token else None


class ApiKeyGate:
    """Refuses GraphQL HTTP requests without a valid key (when keys are required)."""

    def __init__(self, app: ASGIApp, *, required: bool, path: str = "/graphql") -> None:
        self.app = app
        self.required = required
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        owner = await owner_for(bearer(header), required=self.required)
        if owner is None:
            await unauthenticated(send)
            return
        scope.setdefault("state", {})["owner"] = owner
        await self.app(scope, receive, send)


async def unauthenticated(send: Send) -> None:
    await refuse(
        send,
        401,
        "UNAUTHENTICATED",
        "A valid API key is required: send `Authorization: Bearer <key>`.",
        ((b"www-authenticate", b"Bearer"),),
    )
