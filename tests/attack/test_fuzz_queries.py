"""Fuzzing the variables of every query: never a server error, always a code, never a write."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.attack.attacks import attack
from tests.attack.budget import fuzz_settings
from tests.attack.service import ServiceThread
from tests.attack.strategies import (
    CURSOR,
    FINISHED_TASK,
    IMAGE,
    PENDING_TASK,
    history_variables,
    ids,
    loosely,
    variables_of,
)

TASK = """query($id: ID!) { task(id: $id) {
  id status description workflow progress step totalSteps currentNode attempts batchId
  batchIndex createdAt updatedAt deadlineAt startedAt finishedAt queuePosition previewUrl
  parameters { steps cfg guidance seed sampler scheduler denoise }
  error { code message } referenceImage { id url thumbnailUrl } secondImage { id }
  result { imageUrl width height } } }"""
NODE = """query($id: ID!) { node(id: $id) {
  id ... on Task { status description } ... on Image { url width height sha256 } } }"""
IMAGE_QUERY = """query($id: ID!) { image(id: $id) {
  id url thumbnailUrl width height contentType size sha256 } }"""
UPLOADS = """query($first: Int, $after: String) { uploads(first: $first, after: $after) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id url width height } } } }"""
PRESETS = "{ presets { id name builtIn parameters { steps seed sampler } } }"
HISTORY = """query($first: Int, $after: String, $status: [TaskStatus!], $search: String) {
  history(first: $first, after: $after, status: $status, search: $search) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id status description } } } }"""

pytestmark = pytest.mark.database


def id_variables() -> st.SearchStrategy[Any]:
    return variables_of(st.fixed_dictionaries({"id": loosely(ids())}))


@fuzz_settings(0.5)
@given(variables=id_variables())
@example(variables={"id": PENDING_TASK})
@example(variables={"id": "urn:uuid:00000000-0000-4000-8000-000000000000"})
def test_task_by_id(service: ServiceThread, known: dict[str, str], variables: Any) -> None:
    attack(service, TASK, variables, known)


@fuzz_settings(0.5)
@given(variables=id_variables())
@example(variables={"id": IMAGE})
@example(variables={"id": FINISHED_TASK})
def test_node_by_id(service: ServiceThread, known: dict[str, str], variables: Any) -> None:
    attack(service, NODE, variables, known)


@fuzz_settings(0.5)
@given(variables=id_variables())
@example(variables={"id": IMAGE})
def test_image_by_id(service: ServiceThread, known: dict[str, str], variables: Any) -> None:
    attack(service, IMAGE_QUERY, variables, known)


@fuzz_settings()
@given(variables=variables_of(history_variables()))
@example(variables={"first": 1, "after": CURSOR, "status": ["PENDING"], "search": "edit"})
@example(variables={"first": 100, "search": "%"})
def test_history(service: ServiceThread, known: dict[str, str], variables: Any) -> None:
    attack(service, HISTORY, variables, known)


def page_variables() -> st.SearchStrategy[Any]:
    """history's paging variables (first, after) without its filters."""
    return history_variables().map(
        lambda found: {k: v for k, v in found.items() if k in ("first", "after")}
    )


@fuzz_settings(0.5)
@given(variables=variables_of(page_variables()))
@example(variables={"first": 1, "after": CURSOR})
def test_uploads(service: ServiceThread, known: dict[str, str], variables: Any) -> None:
    attack(service, UPLOADS, variables, known)


def test_presets(service: ServiceThread, known: dict[str, str]) -> None:
    reply = attack(service, PRESETS, {}, known)
    assert [p["builtIn"] for p in reply.data["presets"]][:3] == [True, True, True]
