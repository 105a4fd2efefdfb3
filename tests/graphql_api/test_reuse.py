"""Answers given again: a `history` or `task(id)` answer over ended tasks, asked for more than
once, is given again, not executed, while the reads it was made from come back equal; and
answered anew as soon as one does not, or when it shows what its rows do not hold."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, cast

import httpx

from graphql_api.context import RequestContext
from graphql_api.metrics import TaskMetrics
from graphql_api.readings import Readings, noted_into, noting
from graphql_api.reuse import KEPT_ANSWERS, KeptAnswers
from graphql_api.schema import KontextSchema, build_schema
from tasks import Services
from tasks.store.database import Database
from tasks.store.models import Task
from tests.graphql_api.test_read_path import complete, submit
from tests.support.graphql import GraphQLClient

PAGE = """query($first: Int!, $after: String) {
  history(first: $first, after: $after) {
    totalCount
    edges { cursor node { id description status result { imageUrl image { thumbnailUrl } } } }
  }
}"""
TASK = "query($id: ID!) { task(id: $id) { id description queuePosition } }"
RERUN = "query($id: ID!) { task(id: $id) { id rerunOf { id description } } }"


class PresignedLinks:
    """Links that expire after `link_life` seconds and say how many were signed before them."""

    def __init__(self, link_life: float | None) -> None:
        self.link_life = link_life
        self.signed = 0

    async def url_for(self, key: str, base_url: str) -> str:
        self.signed += 1
        return f"https://bucket.example/{key}?signature={self.signed}"

    def url_now(self, key: str, base_url: str) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Reader:
    """One schema (and its kept answers) read as a client would, counting answers given again."""

    def __init__(self, link_life: float | None = None, size: int = KEPT_ANSWERS) -> None:
        self.clock = Clock()
        self.links = PresignedLinks(link_life)
        self.metrics = TaskMetrics()
        self.schema: KontextSchema = build_schema(answers=KeptAnswers(size, clock=self.clock))

    @property
    def given_again(self) -> float:
        found = self.metrics.registry.get_sample_value("kontext_answers_given_again_total")
        return found or 0.0

    async def execute(self, document: str, owner: str = "local", **variables: Any) -> Any:
        context = RequestContext(
            services=cast(Services, None),
            owner=owner,
            public_url="http://kontext.test",
            links=self.links,
            metrics=self.metrics,
        )
        return await self.schema.execute(document, variable_values=variables, context_value=context)

    async def read(self, document: str, owner: str = "local", **variables: Any) -> Any:
        result = await self.execute(document, owner, **variables)
        assert result.errors is None, result.errors
        return result.data

    async def kept(self, document: str, **variables: Any) -> Any:
        """Read twice: an answer is kept from the second time it is asked for."""
        await self.read(document, **variables)
        return await self.read(document, **variables)


def ids(answer: Any) -> list[str]:
    return [edge["node"]["id"] for edge in answer["history"]["edges"]]


async def ended_tasks(api: GraphQLClient, count: int) -> list[str]:
    ids = [await submit(api, f"edit {n}") for n in range(count)]
    for task_id in ids:
        await complete(task_id)
    return ids


async def test_an_unchanged_page_of_ended_tasks_is_given_again_not_executed(
    api: GraphQLClient, database: Database
) -> None:
    await ended_tasks(api, 3)
    reader = Reader()
    first = await reader.kept(PAGE, first=2)
    assert reader.given_again == 0
    signed = reader.links.signed
    assert await reader.read(PAGE, first=2) == first
    assert reader.given_again == 1
    assert reader.links.signed == signed  # nothing executed: no link signed again
    assert len(first["history"]["edges"]) == 2
    assert first["history"]["totalCount"] == 3


async def test_a_changed_row_is_answered_anew_and_its_new_answer_kept(
    api: GraphQLClient, database: Database
) -> None:
    newest = (await ended_tasks(api, 2))[-1]
    reader = Reader()
    await reader.kept(PAGE, first=2)
    await Task.filter(id=newest).update(description="now blue")
    page = await reader.read(PAGE, first=2)
    assert page["history"]["edges"][0]["node"]["description"] == "now blue"
    assert reader.given_again == 0
    assert await reader.read(PAGE, first=2) == page
    assert reader.given_again == 1


async def test_a_new_task_is_counted_on_a_page_whose_rows_did_not_change(
    api: GraphQLClient, database: Database
) -> None:
    await ended_tasks(api, 2)
    reader = Reader()
    cursor = (await reader.read(PAGE, first=1))["history"]["edges"][0]["cursor"]
    before = await reader.kept(PAGE, first=1, after=cursor)
    await submit(api, "one more")
    after = await reader.read(PAGE, first=1, after=cursor)
    assert ids(after) == ids(before)
    assert (before["history"]["totalCount"], after["history"]["totalCount"]) == (2, 3)
    assert reader.given_again == 0


async def test_a_task_that_has_not_ended_is_answered_anew_though_its_row_is_unchanged(
    api: GraphQLClient, database: Database
) -> None:
    ahead = await submit(api, "first in line")
    waiting = await submit(api, "second in line")
    reader = Reader()
    assert (await reader.kept(TASK, id=waiting))["task"]["queuePosition"] == 1
    await complete(ahead)  # the waiting task's row is untouched; its queue position is not
    assert (await reader.read(TASK, id=waiting))["task"]["queuePosition"] == 0
    assert reader.given_again == 0


async def test_fields_that_read_beyond_the_row_are_answered_anew(
    api: GraphQLClient, database: Database
) -> None:
    original, rerun = await ended_tasks(api, 2)
    await Task.filter(id=rerun).update(rerun_of_id=original)
    reader = Reader()
    await reader.kept(RERUN, id=rerun)
    await Task.filter(id=original).update(description="renamed")
    answer = await reader.read(RERUN, id=rerun)
    assert answer["task"]["rerunOf"] == {"id": original, "description": "renamed"}
    assert reader.given_again == 0


async def test_answers_are_kept_per_caller_and_per_variables(
    api: GraphQLClient, database: Database
) -> None:
    await ended_tasks(api, 2)
    reader = Reader()
    mine = await reader.kept(PAGE, first=1)
    assert len((await reader.kept(PAGE, first=2))["history"]["edges"]) == 2
    assert (await reader.kept(PAGE, owner="someone-else", first=1))["history"]["edges"] == []
    assert reader.given_again == 0
    assert await reader.read(PAGE, first=1) == mine
    assert reader.given_again == 1


async def test_expiring_links_are_given_again_only_during_a_tenth_of_their_life(
    api: GraphQLClient, database: Database
) -> None:
    await ended_tasks(api, 1)
    reader = Reader(link_life=100.0)

    def link(page: Any) -> str:
        return str(page["history"]["edges"][0]["node"]["result"]["imageUrl"])

    first = link(await reader.kept(PAGE, first=1))
    reader.clock.now += 9.9
    assert link(await reader.read(PAGE, first=1)) == first
    reader.clock.now += 0.2
    fresh = link(await reader.read(PAGE, first=1))
    assert fresh != first
    assert fresh.startswith("https://bucket.example/outputs/")
    assert reader.given_again == 1


async def test_errors_and_answers_that_read_nothing_are_not_kept(
    api: GraphQLClient, database: Database
) -> None:
    reader = Reader()
    missing = {"id": str(uuid.uuid4())}
    for _ in range(3):
        assert await reader.read("{ __typename }") == {"__typename": "Query"}
        result = await reader.execute(TASK, **missing)
        assert result.errors is not None
        assert result.errors[0].extensions == {"code": "NOT_FOUND"}
    assert reader.given_again == 0


async def test_the_least_recently_used_answer_is_dropped_beyond_the_size(
    api: GraphQLClient, database: Database
) -> None:
    await ended_tasks(api, 2)
    reader = Reader(size=1)
    await reader.kept(PAGE, first=1)
    await reader.kept(PAGE, first=2)  # kept in its place
    await reader.read(PAGE, first=1)
    assert reader.given_again == 0
    await reader.read(PAGE, first=2)
    assert reader.given_again == 1


async def test_an_answer_asked_for_once_does_not_push_out_one_asked_for_again(
    api: GraphQLClient, database: Database
) -> None:
    await ended_tasks(api, 2)
    reader = Reader(size=1)
    await reader.kept(PAGE, first=1)
    await reader.read(PAGE, first=2)
    await reader.read(PAGE, first=1)
    assert reader.given_again == 1


async def test_the_service_gives_answers_again_and_counts_them(
    api: GraphQLClient, app_url: str, database: Database
) -> None:
    done = (await ended_tasks(api, 1))[0]
    answers = [(await api.execute(TASK, id=done)).ok() for _ in range(3)]
    assert answers[2] == answers[0]
    await Task.filter(id=done).update(description="changed")
    assert (await api.execute(TASK, id=done)).ok()["task"]["description"] == "changed"
    async with httpx.AsyncClient(base_url=app_url) as http:
        metrics = (await http.get("/metrics")).text
    assert "kontext_answers_given_again_total 1.0" in metrics


async def test_operations_executed_side_by_side_note_into_their_own_readings() -> None:
    """A batch of HTTP operations, or queries on one websocket, share one context: each
    execution's reads are noted into its own readings, and into no other."""

    async def value() -> object:
        return "read"

    async def resolver(name: str) -> None:
        await asyncio.sleep(0)  # let the other operation go on
        noted = noting()
        assert noted is not None
        noted.note(value, name)

    async def operation(name: str, readings: Readings) -> None:
        with noted_into(readings):
            await resolver(name)
            await asyncio.gather(resolver(name))  # in a task of its own, as graphql-core gathers

    first, second = Readings(), Readings()
    await asyncio.gather(operation("first", first), operation("second", second))
    assert [reading.value for reading in first.noted] == ["first", "first"]
    assert [reading.value for reading in second.noted] == ["second", "second"]
    assert noting() is None
