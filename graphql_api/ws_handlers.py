"""Strawberry's websocket handlers with the protocol guards in front: a malformed message
closes the socket with the protocol's code instead of raising inside the handler, and every
close reason fits a close frame. Subscriptions the schema's relay runs (graphql_api/fanout.py)
go through it, for both protocols; everything else goes Strawberry's way."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Mapping
from contextlib import suppress
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from starlette.types import Message as ASGIMessage
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncBaseHTTPView
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema import BaseSchema
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage

from graphql_api.context import RequestContext
from graphql_api.encoding import json_text
from graphql_api.fanout import Plan, SubscriptionRelay, sent_at_once
from graphql_api.middleware import SERVER_SEND
from graphql_api.protocol_guards import close_reason, legacy_ws_problem, transport_ws_problem

ServerSendFunction = Callable[[ASGIMessage], Coroutine[Any, Any, None]]
"""The server's own `send` of a websocket (a coroutine function, as uvicorn's is)."""

# The legacy protocol names no code for a bad message; 1002 is the websocket "protocol error".
LEGACY_PROTOCOL_ERROR = 1002


class FittingCloseAdapter(ASGIWebSocketAdapter):
    """Strawberry builds close reasons from what the client sent (an unknown type, a duplicate
    id); a reason over 123 bytes, or one that is not UTF-8, cannot be sent at all."""

    def __init__(
        self,
        view: AsyncBaseHTTPView[Any, Any, Any, Any, Any, Any, Any],
        request: WebSocket,
        response: WebSocket,
    ) -> None:
        super().__init__(view, request, response)
        # The server's own send, when the app kept it (ServerSend): looked up once per socket.
        self._server_send: ServerSendFunction | None = response.scope.get(SERVER_SEND)

    async def close(self, code: int, reason: str) -> None:
        await super().close(code, close_reason(reason))

    async def send_json(self, message: Mapping[str, object]) -> None:
        """Every message in a text frame: Strawberry's adapter sends the view's encoding as
        binary when it is bytes (as the view's orjson encoding is, for HTTP), and browsers'
        clients hand a binary frame to JSON.parse as a Blob."""
        await self.send_text(json_text(message))

    async def send_text(self, text: str) -> None:
        """A message already serialized (the relay's shared payloads)."""
        try:
            await self.ws.send_text(text)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc

    def send_text_at_once(self, text: str) -> bool:
        """Writes a message already serialized if the socket takes it without waiting (False:
        nothing was written), with the server's own send when the app kept it (ServerSend)."""
        send = self._server_send
        if send is None:
            return sent_at_once(self.ws.send_text(text))
        return sent_at_once(send({"type": "websocket.send", "text": text}))


def relay_of(schema: BaseSchema) -> SubscriptionRelay | None:
    relay = getattr(schema, "relay", None)
    return relay if isinstance(relay, SubscriptionRelay) else None


def operation_prefix(message_type: str, operation_id: str) -> str:
    """The start of a payload message, up to its payload: the same for every message of one
    operation, so each shared payload is written behind it unchanged."""
    return f'{{"id":{json.dumps(operation_id)},"type":"{message_type}","payload":'


class TransportSink:
    """One graphql-transport-ws operation's messages from the relay."""

    __slots__ = ("operation", "prefix", "socket")

    def __init__(self, operation: Operation[RequestContext, None], socket: FittingCloseAdapter):
        self.operation = operation
        self.socket = socket
        self.prefix = operation_prefix("next", operation.id)

    async def refuse(self, errors: list[GraphQLError]) -> None:
        await self.operation.send_initial_errors(errors)

    async def send(self, payload: str) -> None:
        if not self.operation.completed:
            await self.socket.send_text(f"{self.prefix}{payload}}}")

    def send_at_once(self, payload: str) -> bool:
        if self.operation.completed:
            return True
        return self.socket.send_text_at_once(f"{self.prefix}{payload}}}")


class LegacySink:
    """One graphql-ws (legacy) operation's messages from the relay."""

    __slots__ = ("operation_id", "prefix", "socket")

    def __init__(self, operation_id: str, socket: FittingCloseAdapter) -> None:
        self.operation_id = operation_id
        self.socket = socket
        self.prefix = operation_prefix("data", operation_id)

    async def refuse(self, errors: list[GraphQLError]) -> None:
        # The legacy protocol's error message carries one error.
        message = {"type": "error", "id": self.operation_id, "payload": errors[0].formatted}
        await self.socket.send_json(message)

    async def send(self, payload: str) -> None:
        await self.socket.send_text(f"{self.prefix}{payload}}}")

    def send_at_once(self, payload: str) -> bool:
        return self.socket.send_text_at_once(f"{self.prefix}{payload}}}")


def relayed(
    schema: BaseSchema,
    socket: object,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> tuple[SubscriptionRelay, Plan, FittingCloseAdapter] | None:
    """The relay and its plan for an operation it runs, or None (Strawberry runs it)."""
    relay = relay_of(schema)
    if relay is None or not isinstance(socket, FittingCloseAdapter):
        return None
    plan = relay.plan(query, variables, operation_name)
    return None if plan is None else (relay, plan, socket)


class GuardedTransportWSHandler(BaseGraphQLTransportWSHandler[RequestContext, None]):
    async def handle_message(self, message: Message) -> None:
        problem = transport_ws_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)  # closes with 4400
            return
        await super().handle_message(message)

    async def run_operation(self, operation: Operation[RequestContext, None]) -> None:
        route = relayed(
            self.schema,
            self.websocket,
            operation.query,
            operation.variables,
            operation.operation_name,
        )
        if route is None:
            await super().run_operation(operation)
            return
        relay, plan, socket = route
        operation.query = plan.query  # one copy of the text for all who sent it, not one each
        try:
            await relay.run(plan, self.context, TransportSink(operation, socket))
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except Exception as error:
            # As Strawberry's own operations end on an unexpected error.
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        """A document that does not parse is the operation's failure, not the connection's: it
        gets an `error` message with the coded errors, as an invalid one does."""
        if isinstance(error, GraphQLSyntaxError):
            return None
        return BaseGraphQLTransportWSHandler._get_pre_execution_close_reason(error)


class GuardedLegacyWSHandler(BaseGraphQLWSHandler[RequestContext, None]):
    async def handle_message(self, message: OperationMessage) -> None:
        problem = legacy_ws_problem(message)
        if problem is not None:
            await self.websocket.close(code=LEGACY_PROTOCOL_ERROR, reason=problem)
            return
        await super().handle_message(message)

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        route = relayed(self.schema, self.websocket, query, variables, operation_name)
        if route is None:
            await super().handle_async_results(operation_id, query, operation_name, variables)
            return
        relay, plan, socket = route
        del query  # the plan holds the text, once for all who sent it
        try:
            if await relay.run(plan, self.context, LegacySink(operation_id, socket)):
                await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:
            # A stopped operation ends with `complete`, as Strawberry's own do.
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)
