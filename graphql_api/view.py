"""The Strawberry ASGI view: builds each request's context from the application's services, and
answers requests it cannot parse with coded GraphQL errors."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from graphql_api import graphiql
from graphql_api.auth import LOCAL_OWNER, authorization_header, owner_for, token_in_params
from graphql_api.context import RequestContext
from graphql_api.encoding import json_bytes
from graphql_api.multipart import MalformedMultipart, operations_with_files
from graphql_api.settings import Settings
from graphql_api.transport_errors import transport_error
from graphql_api.upload_form import UploadRequestAdapter
from graphql_api.ws_handlers import (
    FittingCloseAdapter,
    GuardedLegacyWSHandler,
    GuardedTransportWSHandler,
)

NO_ACK_PAYLOAD: UnsetType = UNSET


class KontextGraphQL(GraphQL[RequestContext, None]):
    request_adapter_class = UploadRequestAdapter
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
        # A file the service would accept is read whole anyway: kept in memory from the start.
        self._in_memory_upload_bytes = settings.max_image_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As Strawberry's, but its transport refusals are GraphQL JSON errors, not plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            response = transport_error(exc.status_code, exc.reason)
        await response(scope, receive, send)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from the service's own files (graphql_api/graphiql.py), never a CDN."""
        return graphiql.render()

    def encode_json(self, data: object) -> bytes:
        """Responses written with orjson (graphql_api/encoding.py): a page of history is written
        ~15 times faster than by the standard library."""
        return json_bytes(data)

    def decode_json(self, data: str | bytes) -> object:
        """Every way of not being JSON (bytes that are not UTF-8, nesting too deep to parse)
        raised as the JSONDecodeError both the HTTP and the websocket paths answer."""
        try:
            return json.loads(data)
        except (UnicodeDecodeError, RecursionError) as exc:
            raise json.JSONDecodeError(f"not JSON ({type(exc).__name__})", "", 0) from exc

    def parse_json(self, data: str | bytes) -> Any:
        """A request body (or a multipart field) must hold a JSON object, or a list (a batch)."""
        parsed = super().parse_json(data)
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "The request must be a JSON object (a GraphQL request).")
        return parsed

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        """The GraphQL multipart request spec, checked (graphql_api/multipart.py)."""
        if not isinstance(request, UploadRequestAdapter):
            raise TypeError("requests are read through UploadRequestAdapter")
        form = await request.form_keeping_files(self._in_memory_upload_bytes)
        operations, files_map = form.get("operations"), form.get("map")
        if not isinstance(operations, str) or not isinstance(files_map, str):
            raise HTTPException(
                400, "A multipart request needs `operations` and `map` fields (not files)."
            )
        files = {name: part for name, part in form.files.items() if isinstance(part, UploadFile)}
        try:
            placed: dict[str, str] = operations_with_files(
                self.parse_json(operations), self.parse_json(files_map), files
            )
        except MalformedMultipart as exc:
            raise HTTPException(400, str(exc)) from exc
        return placed

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
            links=state.storage.links,
            metrics=state.metrics,
            upgrade_authorization=(
                authorization_header(request.scope) if isinstance(request, WebSocket) else None
            ),
        )

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        credential = token_in_params(context.connection_params) or context.upgrade_authorization
        owner = await owner_for(credential, required=self._auth_required)
        if owner is None:
            raise ConnectionRejectionError({"message": "A valid API key is required."})
        context.owner = owner
        return NO_ACK_PAYLOAD

    def base_url(self, request: Request | WebSocket) -> str:
        if self._public_url:
            return self._public_url
        url = str(request.base_url).rstrip("/")
        return url.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
