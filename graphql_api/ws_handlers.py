"""Strawberry's websocket handlers with the protocol guards in front: a malformed message
closes the socket with the protocol's code instead of raising inside the handler, and every
close reason fits a close frame."""

from __future__ import annotations

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage

from graphql_api.context import RequestContext
from graphql_api.protocol_guards import close_reason, legacy_ws_problem, transport_ws_problem

# The legacy protocol names no code for a bad message; 1002 is the websocket "protocol error".
LEGACY_PROTOCOL_ERROR = 1002


class FittingCloseAdapter(ASGIWebSocketAdapter):
    """Strawberry builds close reasons from what the client sent (an unknown type, a duplicate
    id); a reason over 123 bytes, or one that is not UTF-8, cannot be sent at all."""

    async def close(self, code: int, reason: str) -> None:
        await super().close(code, close_reason(reason))


class GuardedTransportWSHandler(BaseGraphQLTransportWSHandler[RequestContext, None]):
    async def handle_message(self, message: Message) -> None:
        problem = transport_ws_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)  # closes with 4400
            return
        await super().handle_message(message)

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
