"""How the service executes an operation: Strawberry's execution context, with three shortcuts.

**Plain leaf fields completed without a resolve info.**
Most fields of an answer are leaves read straight off an object: a task's `status`, `progress`,
`createdAt`, a page's `cursor`. For each, graphql-core builds a `GraphQLResolveInfo` (Strawberry's
subclass, 15 values), looks up middleware, checks the result for awaitables twice and walks
`complete_value`'s type tests, while the resolver Strawberry made for such a field ignores the info
and reads one attribute. A 50-task page has ~850 of them, a `task(id)` ~15.

Here a field whose resolver is Strawberry's plain attribute read, with no arguments and a scalar or
enum type, is read and coerced at once. Anything out of the ordinary on that path (a null in a
non-null field, a value the scalar refuses, an exception) goes graphql-core's whole way, which
reads the attribute again and reports it as it always does; so do all other fields, and every
field while an extension wraps resolvers.

**Resolvers called straight.** For a field with a resolver of its own, Strawberry's wrapper makes
its `Info`, converts the arguments, chains the field's extensions and calls the resolver through
two more layers (~5 µs a field; a 50-task page has ~100 such fields; ~28 µs of a `task(id)`
request in the service, whose resolver is a coroutine). A resolver that is a plain function or a coroutine function,
on a field without extensions, in a schema without exception handlers, whose arguments are all
scalars or enums (which Strawberry passes on as graphql-core coerced them) or lists of them
(which it copies), is called straight with what Strawberry would pass it (`lean_resolvers`): the
same object, the same `Info`, the same arguments under their Python names; what it returns,
awaits or raises goes on as before. Subscription fields keep Strawberry's way.

**Selections collected once per document.** Before it executes an object's fields, graphql-core
collects them from the selection (fragments spread, aliases grouped, `@skip`/`@include` read
against the variables), once per execution: a `task(id)` query collects five selection sets on
every request. In a document with no directive and no fragment variables, what is collected
depends on the document alone, so the collections are kept with the parsed document (the parser
cache hands the same document object to every request with its text) and shared by its
executions, which only read them.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    Undefined,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList, FragmentDetails
from graphql.execution.executor import CollectedErrors
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.relay import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.name_converter import NameConverter
from strawberry.schema.schema import Schema, StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import Info
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    StrawberryType,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.scalar import ScalarDefinition, ScalarWrapper

# Where Strawberry keeps a field's definition in the GraphQL field it builds.
DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF
# The name Strawberry gives the resolver it makes for a field with none of its own (no resolver,
# no extensions, no exception handlers): it reads the attribute and ignores the info.
PLAIN_RESOLVER = "_get_basic_result"


Collections = dict[tuple[GraphQLObjectType, tuple[int, ...]], CollectedFields]
"""An operation's collected selections, by object type and the ids of the field nodes."""


@dataclass(frozen=True, slots=True)
class PlainLeaf:
    read: Callable[[Any, Any], Any]
    type: GraphQLLeafType
    nullable: bool


def plain_leaves(schema: GraphQLSchema) -> dict[Callable[..., Any], PlainLeaf]:
    """The schema's plain leaf fields, by their resolver (each field has its own)."""
    leaves = (plain_leaf(field) for field in object_fields(schema))
    return {leaf.read: leaf for leaf in leaves if leaf is not None}


def object_fields(schema: GraphQLSchema) -> Iterator[GraphQLField]:
    """Every field of the schema's object types."""
    for named in schema.type_map.values():
        if is_object_type(named):
            assert isinstance(named, GraphQLObjectType)
            yield from named.fields.values()


def plain_leaf(field: GraphQLField) -> PlainLeaf | None:
    read = field.resolve
    value_type = get_nullable_type(field.type)
    if (
        read is None
        or getattr(read, "__name__", None) != PLAIN_RESOLVER
        or not getattr(read, "_is_default", False)
        or field.args
        or not is_leaf_type(value_type)
    ):
        return None
    assert isinstance(value_type, GraphQLLeafType)  # the narrowing is_leaf_type does not give
    return PlainLeaf(read, value_type, nullable=not is_non_null_type(field.type))


def lean_resolvers(schema: Schema) -> int:
    """Swap Strawberry's wrapper for a straight call on every field of `schema` that allows it
    (see the module's note); how many were swapped. Done once, as the schema is built."""
    conventions = SchemaConventions(
        schema.config.info_class,
        schema.config.name_converter,
        schema.schema_converter.scalar_registry,
    )
    swapped = 0
    for field in object_fields(schema._schema):
        definition = (field.extensions or {}).get(DEFINITION)
        if isinstance(definition, StrawberryField):
            straight = straight_call(definition, conventions)
            if straight is not None:
                field.resolve = straight
                swapped += 1
    return swapped


@dataclass(frozen=True)
class SchemaConventions:
    """What a straight call takes from the schema: the class of its `Info`, how it names
    arguments in GraphQL, and which types are its scalars."""

    info_class: type[Info[Any, Any]]
    names: NameConverter
    scalars: Mapping[object, ScalarWrapper | ScalarDefinition]


def straight_call(
    field: StrawberryField, conventions: SchemaConventions
) -> Callable[..., Any] | None:
    """A straight call of the field's resolver, passing what Strawberry's `get_arguments` would,
    or None where that call would not be the same."""
    resolver = field.base_resolver
    if (
        resolver is None
        or field.is_subscription
        or field.extensions
        or not inspect.isfunction(resolver.wrapped_func)
    ):
        return None
    passed = arguments_passed(field.arguments, conventions)
    if passed is None:
        return None
    function = resolver.wrapped_func
    with_self = resolver.self_parameter is not None
    as_source = tuple(
        parameter.name
        for parameter in (resolver.parent_parameter, resolver.root_parameter)
        if parameter is not None
    )
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    info_class = conventions.info_class

    def call(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        given: dict[str, Any] = dict.fromkeys(as_source, source)
        for graphql_name, python_name, copied in passed:
            if graphql_name in arguments:
                value = arguments[graphql_name]
                given[python_name] = list(value) if copied and value is not None else value
        if info_name is not None:
            given[info_name] = info_class(_raw_info=info, _field=field)
        return function(source, **given) if with_self else function(**given)

    return call


PassedArgument = tuple[str, str, bool]
"""An argument's GraphQL name, its Python name, and whether its value is a list to copy."""


def arguments_passed(
    arguments: Iterable[StrawberryArgument], conventions: SchemaConventions
) -> list[PassedArgument] | None:
    """How Strawberry passes the arguments when each is a scalar or enum (as coerced), or a list
    of them (a copy: graphql-core hands the same default list to every request that omits it);
    None when any needs converting (input objects, `GlobalID`, `Maybe`, lists of lists)."""
    passed: list[PassedArgument] = []
    for argument in arguments:
        value_type: object = argument.type
        if isinstance(value_type, StrawberryMaybe) or argument.python_name is None:
            return None
        if isinstance(value_type, StrawberryOptional):
            value_type = value_type.of_type
        copied = isinstance(value_type, StrawberryList)
        if isinstance(value_type, StrawberryList):
            value_type = value_type.of_type
            if isinstance(value_type, StrawberryOptional):
                value_type = value_type.of_type
        if not passed_as_coerced(value_type, conventions.scalars):
            return None
        graphql_name = conventions.names.from_argument(argument)
        passed.append((graphql_name, argument.python_name, copied))
    return passed


def passed_as_coerced(
    value_type: object, scalars: Mapping[object, ScalarWrapper | ScalarDefinition]
) -> bool:
    """Whether Strawberry hands a value of this type to a resolver as graphql-core coerced it."""
    if value_type is GlobalID or isinstance(value_type, StrawberryType | LazyType):
        return isinstance(value_type, StrawberryEnumDefinition)
    return has_enum_definition(value_type) or is_scalar(value_type, scalars)


def without_directives(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDetails]
) -> bool:
    """Whether nothing the operation selects depends on its variables' values: no directive
    anywhere in it or its document's fragments, and no fragment with variables of its own."""
    if operation.directives or not selections_plain(operation.selection_set.selections):
        return False
    return all(
        not details.definition.directives
        and not details.definition.variable_definitions
        and selections_plain(details.definition.selection_set.selections)
        for details in fragments.values()
    )


def selections_plain(selections: Iterable[SelectionNode]) -> bool:
    for selection in selections:
        if selection.directives:
            return False
        if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
            if not selections_plain(selection.selection_set.selections):
                return False
        elif not isinstance(selection, FieldNode | FragmentSpreadNode | InlineFragmentNode):
            return False
    return True


class KeptCollections:
    """The collected selections of the last `size` operations executed, None for those whose
    collections depend on their variables; owned by one schema. An entry holds its operation,
    so an id is never reused while its collections are kept."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[int, tuple[OperationDefinitionNode, Collections | None]] = (
            OrderedDict()
        )

    def of(
        self, operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDetails]
    ) -> Collections | None:
        key = id(operation)
        kept = self._kept.get(key)
        if kept is not None and kept[0] is operation:
            self._kept.move_to_end(key)
            return kept[1]
        collections: Collections | None = {} if without_directives(operation, fragments) else None
        self._kept[key] = (operation, collections)
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return collections


def service_executor(
    schema: GraphQLSchema, kept_documents: int
) -> type[StrawberryGraphQLCoreExecutionContext]:
    """Strawberry's execution context for `schema`, its plain leaves completed at once and the
    collections of the last `kept_documents` operations kept."""
    leaves: Mapping[Callable[..., Any], PlainLeaf] = plain_leaves(schema)
    kept = KeptCollections(kept_documents)

    class ServiceExecutor(StrawberryGraphQLCoreExecutionContext):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.kept_collections = kept.of(self.operation, self.fragments)
            # While an extension resolves fields, every field goes its way.
            manager = self.middleware_manager
            self.plain_leaves = leaves if manager is None or not manager.middlewares else {}

        def build_per_event_executor(self, payload: Any) -> ServiceExecutor:
            """As graphql-core's: a shallow copy with the event as its root value and errors of
            its own; made without the copy module's generic path, which takes twice as long
            with cold caches (78 against 39 µs of an event's execution, in process)."""
            executor = object.__new__(type(self))
            executor.__dict__.update(self.__dict__)
            executor.root_value = payload
            executor.collected_errors = CollectedErrors()
            return executor

        def collect_subfields(
            self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
        ) -> CollectedFields:
            collections = self.kept_collections
            if collections is None:
                return super().collect_subfields(return_type, field_details_list)
            key = (return_type, tuple(id(details.node) for details in field_details_list))
            collected = collections.get(key)
            if collected is None:
                collected = collections[key] = super().collect_subfields(
                    return_type, field_details_list
                )
            return collected

        def execute_field(
            self,
            parent_type: GraphQLObjectType,
            source: Any,
            field_details_list: FieldDetailsList,
            path: Path,
            position_context: Any,
        ) -> AwaitableOrValue[Any]:
            field = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
            leaf = self.plain_leaves.get(field.resolve) if field is not None else None  # type: ignore[arg-type]
            if leaf is not None:
                value = completed_at_once(leaf, source)
                if value is not Undefined:
                    return value
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )

    return ServiceExecutor


def completed_at_once(leaf: PlainLeaf, source: Any) -> Any:
    """The leaf's completed value, or Undefined where graphql-core's way must be taken."""
    try:
        value = leaf.read(source, None)
        if value is None:
            return None if leaf.nullable else Undefined
        if isinstance(value, Exception):
            return Undefined
        coerced = leaf.type.coerce_output_value(value)
    except Exception:  # noqa: BLE001 - graphql-core reads it again and reports it its way
        return Undefined
    return Undefined if coerced is None else coerced
