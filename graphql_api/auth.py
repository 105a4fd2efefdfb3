"""Who is calling: an API key in `Authorization: Bearer …` (HTTP and the websocket upgrade
request) or in the websocket's connection_init payload (browsers cannot set headers on a
websocket upgrade). A key that is sent must be valid, even where keys are optional."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.middleware import refuse
from tasks import owner_of

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
            return value
    return None


def authorization_header(scope: Scope) -> str | None:
    """The request's Authorization header (HTTP or websocket upgrade), None when absent."""
    value = dict(scope["headers"]).get(b"authorization")
    return value.decode("latin-1") if value is not None else None


async def owner_for(credential: str | None, *, required: bool) -> str | None:
    """The caller's owner id, or None to refuse: a credential that was sent must be a live key
    (`Bearer <key>` or the bare key), whether keys are required or not; without one, the local
    owner when keys are optional."""
    if credential is None or not credential.strip():
        return None if required else LOCAL_OWNER
    token = bearer(credential) or credential.strip()
    return await owner_of(token)


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
        owner = await owner_for(authorization_header(scope), required=self.required)
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
