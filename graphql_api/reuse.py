"""Answers given again while what they were made from is unchanged.

A query made only of `history` and `task` fields is answered from what their resolvers read: a
page's rows and images, its count, one task's row (graphql_api/readings.py). Read again, equal
reads make the same answer. So such an answer is kept with its reads, by document, operation,
variables, caller and base URL; the next identical request makes the same reads again (the same
statements, no execution) and, when every one comes back equal, is given the kept answer.
Anything else is executed as always, and a changed read replaces the kept answer.

Never kept: answers with errors, answers showing a task that has not ended (its progress, queue
position and estimate live outside the row) or fields that read beyond the rows (see
`READ_BEYOND_THE_ROW`), and answers that read nothing (`{ __typename }`). When links expire
(presigned URLs), an answer is given again only during the first tenth of its links' life, so
a link handed out keeps at least nine tenths of it.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from graphql_api.context import RequestContext
from graphql_api.parsing import variables_key
from graphql_api.readings import Readings

log = logging.getLogger(__name__)

# Root fields whose answers are made from what they note (and the constant `__typename`).
ANSWERED_FROM_READS = frozenset({"history", "task", "__typename"})
# Answers kept at most (a 50-task page is ~0.2 MB with its reads).
KEPT_ANSWERS = 64
# The part of a link's life during which an answer holding it is given again.
LINK_LIFE_SHARE = 0.1

AnswerKey = tuple[int, str | None, str, str, str]


@dataclass(frozen=True)
class KeptAnswer:
    document: DocumentNode
    """Held so that the document's id in the key is not reused while the answer is kept."""
    data: dict[str, object]
    readings: Readings
    given_until: float


def answered_from_reads(operation: OperationDefinitionNode) -> bool:
    return operation.operation is OperationType.QUERY and all(
        isinstance(selection, FieldNode) and selection.name.value in ANSWERED_FROM_READS
        for selection in operation.selection_set.selections
    )


class KeptAnswers:
    """The last answers given from reads, least recently used dropped first; owned by one
    schema. `clock` is monotonic seconds."""

    def __init__(self, size: int = KEPT_ANSWERS, clock: Callable[[], float] = time.monotonic):
        self._size = size
        self._clock = clock
        self._answers: OrderedDict[AnswerKey, KeptAnswer] = OrderedDict()

    async def still_true(self, key: AnswerKey, document: DocumentNode) -> dict[str, object] | None:
        """The answer kept under `key`, if its reads come back equal and its links are fresh."""
        kept = self._answers.get(key)
        if kept is None or kept.document is not document:
            return None
        if self._clock() >= kept.given_until:
            del self._answers[key]
            return None
        try:
            for reading in kept.readings.noted:
                if not await reading.unchanged():
                    self._forget(key, kept)
                    return None
        except Exception:  # the execution reads again, and reports the failure as it does
            log.debug("an answer's read failed; answering anew", exc_info=True)
            self._forget(key, kept)
            return None
        if self._answers.get(key) is kept:
            self._answers.move_to_end(key)
        return kept.data

    def _forget(self, key: AnswerKey, kept: KeptAnswer) -> None:
        if self._answers.get(key) is kept:
            del self._answers[key]

    def keep(
        self,
        key: AnswerKey,
        document: DocumentNode,
        data: dict[str, object],
        readings: Readings,
        link_life: float | None,
    ) -> None:
        share = math.inf if link_life is None else link_life * LINK_LIFE_SHARE
        self._answers[key] = KeptAnswer(document, data, readings, self._clock() + share)
        self._answers.move_to_end(key)
        while len(self._answers) > self._size:
            self._answers.popitem(last=False)


class AnswersGivenAgain(SchemaExtension):
    """Gives a kept answer when its reads come back equal, and keeps new ones (see the
    module's note)."""

    def __init__(self, answers: KeptAnswers) -> None:
        super().__init__()
        self._answers = answers

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        document = execution.graphql_document
        if not isinstance(context, RequestContext) or document is None:
            yield
            return
        operation = get_operation_ast(document, execution.operation_name)
        if operation is None or not answered_from_reads(operation):
            yield
            return
        key: AnswerKey = (
            id(document),
            execution.operation_name,
            variables_key(execution.variables),
            context.owner,
            context.public_url,
        )
        data = await self._answers.still_true(key, document)
        if data is not None:
            execution.result = ExecutionResult(data=data)
            if context.metrics is not None:
                context.metrics.answers_given_again.inc()
            yield
            return
        readings = context.readings = Readings()
        yield
        result = execution.result
        if (
            isinstance(result, ExecutionResult)
            and not result.errors
            and result.data is not None
            and readings.repeatable
        ):
            self._answers.keep(key, document, result.data, readings, context.links.link_life)
