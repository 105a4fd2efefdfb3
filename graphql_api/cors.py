"""Cross-origin access: off unless KONTEXT_CORS_ORIGINS names the origins. A browser preflight
from any other origin is refused with 403 and a body that says how to allow it (instead of a
bare 405 or 400)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from graphql_api.middleware import refuse


def is_preflight(scope: Scope) -> bool:
    headers = dict(scope["headers"])
    return (
        scope["method"] == "OPTIONS"
        and b"origin" in headers
        and b"access-control-request-method" in headers
    )


class PreflightRefusal:
    """Answers a preflight from an origin not in `allowed` with 403 CORS_ORIGIN_REFUSED."""

    def __init__(self, app: ASGIApp, *, allowed: Sequence[str]) -> None:
        self.app = app
        self.allowed = frozenset(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_preflight(scope):
            origin = dict(scope["headers"])[b"origin"].decode("latin-1")
            if "*" not in self.allowed and origin not in self.allowed:
                await refuse(send, 403, "CORS_ORIGIN_REFUSED", self.reason(origin))
                return
        await self.app(scope, receive, send)

    def reason(self, origin: str) -> str:
        if not self.allowed:
            return (
                f"Cross-origin requests are off: to allow {origin[:100]}, start the service "
                "with KONTEXT_CORS_ORIGINS naming it."
            )
        return f"The origin {origin[:100]} is not in KONTEXT_CORS_ORIGINS."
