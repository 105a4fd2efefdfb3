"""Plain leaf fields completed without a resolve info: the same answers and errors as
Strawberry's own execution, the info built only for the fields that need one."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo, OperationDefinitionNode, parse
from graphql.execution import collect_fields as collect_fields_module
from graphql.execution import executor as executor_module
from strawberry.extensions import FieldExtension, ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionResult, Info

from graphql_api.executing import KeptCollections, lean_resolvers, plain_leaves, service_executor
from graphql_api.scalars import SCALAR_MAP
from graphql_api.schema import build_schema


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Inner:
    code: str
    size: int | None


def loud(root: Thing) -> str:
    return root.name + "!"


def parent_of(parent: strawberry.Parent[Thing], info: Info) -> str:
    return f"{parent.name} in {info.path.as_list()}"


@strawberry.input
class Size:
    at_least: int


class NotSoLoud(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs).lower()


@strawberry.type
class Thing:
    name: str
    count: int
    share: float | None
    colour: Colour
    made_at: datetime
    note: str | None
    inner: Inner | None
    tags: list[str]

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def told(self, info: Info) -> str:
        return f"{self.name} for {info.field_name} ({info.python_name})"

    loud: str = strawberry.field(resolver=loud)
    whose: str = strawberry.field(resolver=parent_of)

    @strawberry.field(extensions=[NotSoLoud()])  # type: ignore[untyped-decorator]
    def quiet(self) -> str:
        return self.name + "!"

    @strawberry.field
    def times(self, by: int = 2) -> int:
        return self.count * by

    @strawberry.field
    async def waited(self) -> str:
        return self.name

    @strawberry.field
    def painted(
        self, colour: Colour, times_over: int | None = None, also: list[Colour] | None = None
    ) -> str:
        others = [other.value for other in also] if also is not None else None
        return f"{self.name} {colour.value} x{times_over} and {others}"

    @strawberry.field
    async def waited_for(self, info: Info, by: strawberry.ID, note: str = "none") -> str | None:
        if by == "0":
            raise ValueError(f"{self.name} waited for nothing")
        return f"{self.name} by {by} ({note}) at {info.path.as_list()}"

    @strawberry.field
    def marked(self, marks: list[str] = ["seen"]) -> int:  # noqa: B006 - a shared default
        marks.append(self.name)  # graphql-core's default list: changed only in a copy
        return len(marks)

    @strawberry.field
    def sized(self, size: Size) -> bool:
        return self.count >= size.at_least

    @strawberry.field
    def named(self, id: strawberry.relay.GlobalID) -> str:
        return f"{self.name} {id.type_name}"

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError(f"{self.name} is broken")


def thing(**changes: Any) -> Thing:
    values: dict[str, Any] = {
        "name": "car",
        "count": 3,
        "share": 0.5,
        "colour": Colour.RED,
        "made_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "note": None,
        "inner": Inner(code="x", size=None),
        "tags": ["a", "b"],
    }
    return Thing(**{**values, **changes})


@strawberry.type
class Query:
    things: list[Thing]

    @strawberry.field
    async def later(self) -> Thing:
        return self.things[0]


class CountedInfo:
    """Counts the resolve infos an execution context builds."""

    built = 0


def counting(context_class: type[Any]) -> type[Any]:
    class Counting(context_class):  # type: ignore[misc]
        def build_resolve_info(self, *args: Any) -> GraphQLResolveInfo[Any]:
            CountedInfo.built += 1
            info: GraphQLResolveInfo[Any] = super().build_resolve_info(*args)
            return info

    return Counting


def schemas(extensions: list[Any] | None = None) -> tuple[strawberry.Schema, strawberry.Schema]:
    """Strawberry's own execution, and the same schema with plain leaves completed at once."""
    config = StrawberryConfig(scalar_map=dict(SCALAR_MAP))
    stock = strawberry.Schema(query=Query, extensions=extensions or [], config=config)
    plain = strawberry.Schema(query=Query, extensions=extensions or [], config=config)
    stock.execution_context_class = counting(stock.execution_context_class)
    lean_resolvers(plain)
    plain.execution_context_class = counting(service_executor(plain._schema, 16))
    return stock, plain


QUERY = """{ things { name alias: count share colour madeAt note shout told tags
  inner { code size } } later { name count } }"""


async def both(document: str, root: Query, extensions: list[Any] | None = None) -> tuple[
    tuple[Any, list[tuple[str, Any]], int], tuple[Any, list[tuple[str, Any]], int]
]:  # fmt: skip
    answers = []
    for schema in schemas(extensions):
        CountedInfo.built = 0
        result = await schema.execute(document, root_value=root)
        errors = [(error.message, error.path) for error in result.errors or []]
        answers.append((result.data, errors, CountedInfo.built))
    return answers[0], answers[1]


async def test_the_answer_is_strawberrys_with_infos_only_for_fields_that_need_one() -> None:
    root = Query(things=[thing(), thing(name="bus", colour=Colour.BLUE, note="n", share=None)])
    (stock_data, stock_errors, stock_infos), (data, errors, infos) = await both(QUERY, root)
    assert data == stock_data
    assert errors == stock_errors == []
    assert data["things"][1] == {
        "name": "bus", "alias": 3, "share": None, "colour": "BLUE",
        "madeAt": "2026-01-02T03:04:05+00:00", "note": "n", "shout": "BUS",
        "told": "bus for told (told)", "tags": ["a", "b"], "inner": {"code": "x", "size": None},
    }  # fmt: skip
    # Per thing: shout, told, tags, inner; and things, later: no info for a plain leaf.
    assert infos == 2 * 4 + 2
    assert stock_infos == infos + 2 * 8 + 2  # 6 leaves and inner's 2 per thing; later's 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": None}, "Cannot return null for non-nullable field Thing.name."),
        ({"count": "many"}, "Int cannot represent non-integer value: 'many'"),
        ({"count": 2**40}, "Int cannot represent non 32-bit signed integer value: 1099511627776"),
        ({"colour": "green"}, "Enum 'Colour' cannot represent value: 'green'"),
        ({"share": "half"}, "Float cannot represent non numeric value: 'half'"),
    ],
)
async def test_a_value_refused_is_reported_as_strawberry_reports_it(
    changes: dict[str, Any], message: str
) -> None:
    root = Query(things=[thing(), thing(**changes)])
    (stock_data, stock_errors, _), (data, errors, _) = await both(QUERY, root)
    assert data == stock_data
    assert errors == stock_errors
    assert errors[0][0] == message
    assert errors[0][1][:2] == ["things", 1]


async def test_a_non_null_leaf_left_null_nulls_its_parent_as_before() -> None:
    root = Query(things=[thing(name=None)])
    (stock_data, stock_errors, _), (data, errors, _) = await both(
        "{ later { name count } things { count } }", root
    )
    assert data == stock_data is None  # later and things are both non-null
    assert errors == stock_errors
    assert [path for _, path in errors] == [["later", "name"]]


async def test_an_extension_resolving_fields_sees_every_leaf() -> None:
    seen: list[str] = []

    class Watch(SchemaExtension):
        def resolve(
            self, _next: Any, root: Any, info: GraphQLResolveInfo[Any], *args: Any, **kwargs: Any
        ) -> Any:
            seen.append(info.field_name)
            return _next(root, info, *args, **kwargs)

    root = Query(things=[thing()])
    (stock_data, _, stock_infos), (data, _, infos) = await both(
        "{ things { name count inner { code } } }", root, extensions=[Watch]
    )
    assert data == stock_data
    assert infos == stock_infos
    assert seen == ["things", "name", "count", "inner", "code"] * 2


def test_the_services_plain_leaves_are_its_fields_without_resolvers() -> None:
    schema = build_schema()._schema
    task = schema.type_map["Task"]
    leaves = plain_leaves(schema)
    plain = {name for name, field in task.fields.items() if field.resolve in leaves}  # type: ignore[attr-defined]
    assert {"id", "status", "description", "progress", "step", "createdAt"} <= plain
    # Fields with resolvers of their own, and objects, are executed as before.
    assert not plain & {"queuePosition", "previewUrl", "result", "error", "parameters", "batch"}


def test_a_task_updates_own_values_are_plain_leaves() -> None:
    schema = build_schema()._schema
    update = schema.type_map["TaskUpdate"]
    leaves = plain_leaves(schema)
    plain = {name for name, field in update.fields.items() if field.resolve in leaves}  # type: ignore[attr-defined]
    assert {"sequence", "kind", "status", "step", "totalSteps", "progress", "currentNode"} <= plain
    assert "requeueReason" in plain
    assert not plain & {"task", "queuePosition", "previewUrl", "result", "error"}


def test_an_events_executor_shares_the_operation_and_keeps_its_own_root_and_errors() -> None:
    api = build_schema()
    document = parse("subscription($id: ID!) { taskProgress(id: $id) { sequence } }")
    executor_class = service_executor(api._schema, 4)
    base = executor_class.build(api._schema, document, raw_variable_values={"id": "x"})
    assert isinstance(base, executor_class)
    first = base.build_per_event_executor("first event")
    second = base.build_per_event_executor("second event")
    assert type(first) is executor_class
    assert (first.root_value, second.root_value, base.root_value) == (
        "first event",
        "second event",
        None,
    )
    assert first.collected_errors is not second.collected_errors
    assert first.collected_errors is not base.collected_errors
    assert first.variable_values is base.variable_values
    assert first.operation is base.operation
    assert first.kept_collections is base.kept_collections  # type: ignore[attr-defined]


FRAGMENTS = """query($all: Boolean!) { things { ...named inner { ... on Inner { code } } }
  later { ...named } more: things @include(if: $all) { count } }
fragment named on Thing { name colour }"""


async def test_selections_under_directives_follow_each_executions_variables() -> None:
    root = Query(things=[thing(), thing(name="bus")])
    stock, plain = schemas()
    for all_things in (True, False, True):
        variables = {"all": all_things}
        expected = await stock.execute(FRAGMENTS, root_value=root, variable_values=variables)
        answer = await plain.execute(FRAGMENTS, root_value=root, variable_values=variables)
        assert answer.errors is None
        assert answer.data == expected.data
        assert ("more" in answer.data) is all_things  # type: ignore[operator]


@pytest.mark.parametrize("directive", ["", " @include(if: $all)"])
async def test_a_documents_selections_are_collected_once_unless_variables_choose_them(
    directive: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    collected: list[str] = []
    collect = collect_fields_module.collect_subfields  # what the executor calls, by this name

    def counted(*args: Any) -> Any:
        collected.append(args[4].name)  # the object type whose selection is collected
        return collect(*args)

    monkeypatch.setattr(executor_module, "collect_subfields", counted)
    _, plain = schemas([lambda: ParserCache(maxsize=16)])  # one document object per text
    document = FRAGMENTS.replace(" @include(if: $all)", directive)
    variables = {"all": True} if directive else None
    if not directive:
        document = document.replace("($all: Boolean!)", "")
    counts, answers = [], []
    for name in ("car", "bus", "van"):
        root = Query(things=[thing(name=name), thing(name=name, colour=Colour.BLUE)])
        result = await plain.execute(document, root_value=root, variable_values=variables)
        assert result.errors is None
        answers.append(result.data)
        counts.append(len(collected))
        collected.clear()
    # things, inner, later, more: each collected once per execution (and per list, not item).
    assert counts == ([4, 4, 4] if directive else [4, 0, 0])
    assert answers[2] == {
        "things": [
            {"name": "van", "colour": "RED", "inner": {"code": "x"}},
            {"name": "van", "colour": "BLUE", "inner": {"code": "x"}},
        ],
        "later": {"name": "van", "colour": "RED"},
        "more": [{"count": 3}, {"count": 3}],
    }


def test_collections_are_kept_for_the_last_documents_only() -> None:
    kept = KeptCollections(2)
    documents = [parse("{ things { name } }") for _ in range(3)]
    operations = [cast(OperationDefinitionNode, d.definitions[0]) for d in documents]
    first = kept.of(operations[0], {})
    assert first is not None and kept.of(operations[0], {}) is first
    kept.of(operations[1], {})
    kept.of(operations[2], {})
    assert kept.of(operations[0], {}) is not first  # dropped, collected anew
    with_skip = parse("query($x: Boolean!) { things { name @skip(if: $x) } }")
    assert kept.of(cast(OperationDefinitionNode, with_skip.definitions[0]), {}) is None


RESOLVED = """{ things { shout told loud whose quiet times(by: 3) waited broken
  painted(colour: BLUE, timesOver: 2, also: [RED, BLUE]) plain: painted(colour: RED)
  waitedFor(by: 7, note: "n") notAtAll: waitedFor(by: "0")
  sized(size: { atLeast: 3 }) named(id: "VGhpbmc6MQ==") marked }
  later { loud whose times } }"""


async def test_resolvers_called_straight_answer_and_fail_as_through_strawberry() -> None:
    root = Query(things=[thing(), thing(name="bus")])
    (stock_data, stock_errors, _), (data, errors, _) = await both(RESOLVED, root)
    assert data == stock_data
    assert errors == stock_errors
    assert data["things"][1] == {
        "shout": "BUS", "told": "bus for told (told)", "loud": "bus!",
        "whose": "bus in ['things', 1, 'whose']", "quiet": "bus!".lower(), "times": 9,
        "waited": "bus", "broken": None, "painted": "bus blue x2 and ['red', 'blue']",
        "plain": "bus red xNone and None", "waitedFor": "bus by 7 (n) at ['things', 1, 'waitedFor']",
        "notAtAll": None, "sized": True, "named": "bus Thing", "marked": 2,
    }  # fmt: skip
    assert data["later"] == {"loud": "car!", "whose": "car in ['later', 'whose']", "times": 6}
    assert sorted(message for message, _ in errors) == [
        "bus is broken", "bus waited for nothing", "car is broken", "car waited for nothing"
    ]  # fmt: skip


async def count_to(up_to: int) -> AsyncIterator[int]:
    for count in range(up_to):
        yield count


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self, up_to: int) -> AsyncIterator[int]:
        for tick in range(up_to):
            yield tick

    @strawberry.subscription
    async def counted(self, up_to: int) -> AsyncIterator[int]:
        return count_to(up_to)  # a coroutine handing back its stream, not a generator


async def test_resolvers_with_arguments_strawberry_converts_and_subscriptions_keep_its_way() -> (
    None
):
    schema = strawberry.Schema(query=Query, subscription=Subscription)
    before = {
        name: field.resolve
        for name, field in cast(GraphQLObjectType, schema._schema.type_map["Thing"]).fields.items()
    }
    ticks = cast(GraphQLObjectType, schema._schema.type_map["Subscription"]).fields["ticks"]
    ticks_before = (ticks.resolve, ticks.subscribe)
    assert lean_resolvers(schema) == 11  # and Query.later
    after = cast(GraphQLObjectType, schema._schema.type_map["Thing"]).fields
    swapped = {name for name, resolve in before.items() if after[name].resolve is not resolve}
    assert swapped == {
        "shout", "told", "loud", "whose", "broken", "times", "waited", "painted", "waitedFor", "marked"
    }  # fmt: skip
    assert (ticks.resolve, ticks.subscribe) == ticks_before
    for name in ("ticks", "counted"):
        stream = await schema.subscribe(f"subscription {{ {name}(upTo: 3) }}")
        assert not isinstance(stream, ExecutionResult)
        assert [result.data async for result in stream] == [{name: n} for n in range(3)]
