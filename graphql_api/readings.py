"""What one operation's answer was made from: each read its resolvers noted, with how to make it
again, so that the answer can be given again while every read comes back equal
(graphql_api/reuse.py). A resolver whose answer depends on more than what it noted refuses.

The readings of the operation being executed are found through `noting()`: a context variable,
set by `KontextSchema.execute` for each execution, so operations executed side by side with one
context (a batch of HTTP operations, queries on one websocket) each note into their own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from tasks import TaskSnapshot

# Task fields that read beyond the task's own row and the images read with it: an answer
# showing them is not given again from those reads. (A queue position, a waiting reason and an
# estimate read more too, but only before a task ends, and such answers are never given again.)
READ_BEYOND_THE_ROW = frozenset({"rerunOf", "batch", "webhookDeliveries"})


@dataclass(frozen=True)
class Reading:
    """A value a resolver read, and the read that gives it again."""

    again: Callable[[], Awaitable[object]]
    value: object

    async def unchanged(self) -> bool:
        return await self.again() == self.value


@dataclass
class Readings:
    """The reads one request's answer was made from, as its resolvers noted them."""

    noted: list[Reading] = field(default_factory=list)
    refused: bool = False

    @property
    def repeatable(self) -> bool:
        """Whether the answer is made from its noted reads alone (and from at least one)."""
        return bool(self.noted) and not self.refused

    def note(self, again: Callable[[], Awaitable[object]], value: object) -> None:
        self.noted.append(Reading(again, value))

    def note_tasks(
        self,
        tasks: Iterable[TaskSnapshot],
        selected: Collection[str],
        again: Callable[[], Awaitable[object]],
        value: object,
    ) -> None:
        """Note a read of tasks, unless the answer shows more than their rows: tasks still
        pending or running (progress, queue position and estimates live outside the row), or
        fields that read beyond it."""
        if not READ_BEYOND_THE_ROW.isdisjoint(selected) or not all(
            task.status.is_terminal for task in tasks
        ):
            self.refused = True
        else:
            self.note(again, value)


_NOTING: ContextVar[Readings | None] = ContextVar("readings", default=None)


def noting() -> Readings | None:
    """The readings of the operation being executed here; None when its answer is not kept."""
    return _NOTING.get()


@contextmanager
def noted_into(readings: Readings) -> Iterator[None]:
    """Resolvers run inside note into `readings` (and the tasks they start, which copy the
    context)."""
    token = _NOTING.set(readings)
    try:
        yield
    finally:
        _NOTING.reset(token)
