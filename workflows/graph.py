"""ComfyUI API-format graphs: `{node_id: {"class_type": str, "inputs": {name: value | link}}}`.

A link is `[source_node_id, output_index]`; any other input value is a literal.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

Graph = dict[str, Any]


def is_link(value: object) -> bool:
    """True for `[node_id, output_index]`, the way an API-format input refers to another node."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    )


def node_inputs(graph: Mapping[str, Any], node_id: str) -> Mapping[str, Any]:
    """The inputs of a node of a graph that passed `graph_problems`."""
    inputs: Mapping[str, Any] = graph[node_id]["inputs"]
    return inputs


def links(graph: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """Every link as (consumer node id, input name, source node id)."""
    for node_id, node in graph.items():
        for name, value in node["inputs"].items():
            if is_link(value):
                yield node_id, name, value[0]


def class_types(graph: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(str(node["class_type"]) for node in graph.values())


def _node_problems(node_id: object, node: object) -> list[str]:
    if not isinstance(node_id, str) or not node_id:
        return [f"node id {node_id!r} is not a non-empty string"]
    if not isinstance(node, dict):
        return [f"node {node_id} is not an object"]
    problems = []
    if not isinstance(node.get("class_type"), str) or not node["class_type"]:
        problems.append(f"node {node_id} has no class_type")
    if not isinstance(node.get("inputs"), dict):
        problems.append(f"node {node_id} has no inputs object")
    return problems


def graph_problems(graph: object) -> list[str]:
    """Everything that keeps `graph` from being a well-formed API-format graph."""
    if not isinstance(graph, dict) or not graph:
        return ["the graph is not a non-empty object of nodes"]
    problems = [p for node_id, node in graph.items() for p in _node_problems(node_id, node)]
    if problems:
        return problems
    return [
        f"node {consumer} input {name!r} links to missing node {source}"
        for consumer, name, source in links(graph)
        if source not in graph
    ]


def remove_nodes(graph: Graph, node_ids: Collection[str]) -> None:
    """Delete nodes and every input that links to them, in place (callers own `graph`)."""
    for node_id in node_ids:
        graph.pop(node_id, None)
    for consumer, name, source in list(links(graph)):
        if source in node_ids:
            del graph[consumer]["inputs"][name]
