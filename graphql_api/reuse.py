"""Answers given again while what they were made from is unchanged.

A query made only of `history` and `task` fields is answered from what their resolvers read: a
page's rows and images, its count, one task's row (graphql_api/readings.py). Read again, equal
reads make the same answer. So such an answer is kept with its reads, by the operation's text
and name, its variables, the caller and the base URL of links. The next identical request makes
the same reads again (the same statements; no parse, validation or execution) and, when every
one comes back equal, is given the kept answer. Anything else is executed as always, and a
changed read replaces the kept answer. An answer is kept from the second time it is asked for.
Only texts once answered from reads are looked up, so other requests (a mutation with an image
in its variables) pay one dictionary lookup.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import FieldNode, GraphQLError, OperationType, get_operation_ast, parse

from graphql_api.context import RequestContext
from graphql_api.parsing import variables_key
from graphql_api.readings import Readings

log = logging.getLogger(__name__)

# Root fields whose answers are made from what they note (and the constant `__typename`).
ANSWERED_FROM_READS = frozenset({"history", "task", "__typename"})
# Answers kept at most (a 50-task page is ~0.2 MB with its reads); requests remembered as asked
# once (an answer is kept when it is asked for a second time, so that reads made once, such as
# a client fetching many tasks one by one, do not push out the answers asked for again and
# again); operation texts whose kind is remembered.
KEPT_ANSWERS = 64
ASKED_ONCE = 4 * KEPT_ANSWERS
KNOWN_TEXTS = 256
# The part of a link's life during which an answer holding it is given again.
LINK_LIFE_SHARE = 0.1

Operation = tuple[str, str | None]
"""An operation's text and name."""
AnswerKey = tuple[str, str | None, str, str, str]
"""An operation's text and name, its variables, the caller and the base URL of links."""


@dataclass(frozen=True)
class KeptAnswer:
    data: dict[str, Any]
    readings: Readings
    given_until: float


def answered_from_reads(query: str, operation_name: str | None) -> bool:
    """Whether the operation is a query of `history` and `task` fields only (asked of texts
    that were answered, so parsed within the schema's limits already)."""
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, operation_name)
    return (
        operation is not None
        and operation.operation is OperationType.QUERY
        and all(
            isinstance(selection, FieldNode) and selection.name.value in ANSWERED_FROM_READS
            for selection in operation.selection_set.selections
        )
    )


class KeptAnswers:
    """The last answers given from reads, least recently used dropped first; owned by one
    schema. `clock` is monotonic seconds."""

    def __init__(
        self, size: int = KEPT_ANSWERS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._size = size
        self._clock = clock
        self._answers: OrderedDict[AnswerKey, KeptAnswer] = OrderedDict()
        self._asked_once: OrderedDict[AnswerKey, None] = OrderedDict()
        self._from_reads: OrderedDict[Operation, bool] = OrderedDict()

    def key_of(
        self,
        operation: Operation,
        variables: Mapping[str, Any] | None,
        context: RequestContext,
    ) -> AnswerKey | None:
        """Where an answer to this request is kept, for operations once answered from reads;
        None for any other (nothing of the request is looked at)."""
        if not self._from_reads.get(operation, False):
            return None
        return (*operation, variables_key(variables), context.owner, context.public_url)

    async def still_true(self, key: AnswerKey) -> dict[str, Any] | None:
        """The answer kept under `key`, if its reads come back equal and its links are fresh."""
        kept = self._answers.get(key)
        if kept is None:
            return None
        if self._clock() >= kept.given_until:
            self._forget(key, kept)
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

    def keep(
        self,
        operation: Operation,
        variables: Mapping[str, Any] | None,
        context: RequestContext,
        data: dict[str, Any],
        readings: Readings,
        *,
        key: AnswerKey | None,
    ) -> None:
        """Keep an answer made from `readings` alone, if its operation is answered from reads
        and it was asked for before; `key` is the one `key_of` gave before execution (None
        then for an operation not yet known as answered from reads)."""
        if not self._learn(operation):
            return
        if key is None:
            key = self.key_of(operation, variables, context)
            assert key is not None
        if key not in self._asked_once:  # the first time: remembered, not kept
            self._asked_once[key] = None
            while len(self._asked_once) > ASKED_ONCE:
                self._asked_once.popitem(last=False)
            return
        del self._asked_once[key]
        link_life = context.links.link_life
        share = math.inf if link_life is None else link_life * LINK_LIFE_SHARE
        self._answers[key] = KeptAnswer(data, readings, self._clock() + share)
        self._answers.move_to_end(key)
        while len(self._answers) > self._size:
            self._answers.popitem(last=False)

    def _learn(self, operation: Operation) -> bool:
        known = self._from_reads.get(operation)
        if known is None:
            known = self._from_reads[operation] = answered_from_reads(*operation)
            while len(self._from_reads) > KNOWN_TEXTS:
                self._from_reads.popitem(last=False)
        return known

    def _forget(self, key: AnswerKey, kept: KeptAnswer) -> None:
        """Drop an answer no longer true; asked for again, its new answer is kept at once."""
        if self._answers.get(key) is kept:
            del self._answers[key]
            self._asked_once[key] = None
