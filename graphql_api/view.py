"""The Strawberry ASGI view: builds each request's context from the application's services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from graphql_api.auth import LOCAL_OWNER, owner_for, token_in_params
from graphql_api.context import RequestContext
from graphql_api.settings import Settings
from graphql_api.ws_handlers import (
    FittingCloseAdapter,
    GuardedLegacyWSHandler,
    GuardedTransportWSHandler,
)

NO_ACK_PAYLOAD: UnsetType = UNSET


class KontextGraphQL(GraphQL[RequestContext, None]):
    websocket_adapter_class = FittingCloseAdapter
    graphql_transport_ws_handler_class = GuardedTransportWSHandler
    graphql_ws_handler_class = GuardedLegacyWSHandler

    def __init__(self, schema: strawberry.Schema, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=False,
            keep_alive=settings.ws_keepalive_seconds > 0,
            keep_alive_interval=settings.ws_keepalive_seconds,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
            connection_init_wait_timeout=timedelta(seconds=10),
            multipart_uploads_enabled=True,
        )
        self._public_url = settings.public_url.rstrip("/")
        self._auth_required = settings.auth_required

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        state: Any = request.state
        # HTTP requests were authenticated by ApiKeyGate; websockets authenticate in on_ws_connect.
        owner = getattr(state, "owner", "" if self._auth_required else LOCAL_OWNER)
        return RequestContext(
            services=state.services,
            owner=owner,
            public_url=self.base_url(request),
            metrics=state.metrics,
        )

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        owner = await owner_for(
            token_in_params(context.connection_params), required=self._auth_required
        )
        if owner is None:
            raise ConnectionRejectionError({"message": "A valid API key is required."})
        context.owner = owner
        return NO_ACK_PAYLOAD

    def base_url(self, request: Request | WebSocket) -> str:
        if self._public_url:
            return self._public_url
        url = str(request.base_url).rstrip("/")
        return url.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
