"""Fuzzing the variables of every mutation: never a server error, always a code, and nothing
written (no task row, no image row, no file) when a request is refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tasks.presets import BUILT_IN_PRESETS
from tests.attack.attacks import attack, picture_base64
from tests.attack.budget import fuzz_settings
from tests.attack.service import ServiceThread
from tests.attack.source_strategies import (
    generate_inputs,
    image_inputs,
)
from tests.attack.strategies import (
    FINISHED_TASK,
    IMAGE,
    PENDING_TASK,
    generation_parameters,
    hostile_text,
    ids,
    loosely,
    seeds,
    variables_of,
)

GENERATE = """mutation($input: GenerateImageInput!) { generateImage(input: $input) {
  message replayed
  task { id status description workflow deadlineAt queuePosition batchId batchIndex
         parameters { steps cfg guidance seed sampler scheduler denoise }
         referenceImage { id url thumbnailUrl width height contentType size sha256 }
         secondImage { id url } }
  tasks { id batchIndex parameters { seed } } } }"""
UPLOAD = """mutation($image: ImageInput!) { uploadImage(image: $image) {
  id url thumbnailUrl width height contentType size sha256 } }"""
CANCEL = "mutation($id: ID!) { cancelTask(id: $id) { id status error { code } } }"
DELETE = "mutation($id: ID!) { deleteTask(id: $id) }"
RERUN = """mutation($id: ID!, $seed: Seed) { rerunTask(id: $id, seed: $seed) {
  message replayed task { id status rerunOf { id } parameters { seed } } } }"""
SAVE_PRESET = """mutation($input: SavePresetInput!) { savePreset(input: $input) {
  id name builtIn parameters { steps cfg guidance seed sampler scheduler denoise } } }"""
DELETE_PRESET = "mutation($id: ID!) { deletePreset(id: $id) }"

pytestmark = pytest.mark.database


def accepted_batch_matches(reply_data: Any, variables: Any) -> None:
    payload = reply_data["generateImage"]
    count = variables["input"].get("count", 1)
    assert len(payload["tasks"]) == count, payload
    assert payload["task"]["id"] == payload["tasks"][0]["id"], payload


@fuzz_settings(2.0)
@given(variables=variables_of(st.fixed_dictionaries({"input": generate_inputs()})))
@example(
    variables={
        "input": {
            "referenceImage": {"imageId": IMAGE},
            "secondImage": {"base64": "data:image/png;base64," + "iVBORw0KGgo="},
            "description": "x",
        }
    }
)
@example(
    variables={
        "input": {
            "referenceImage": {"url": "http://[::ffff:7f00:1]:8000/a.png"},
            "description": "x",
        }
    }
)
def test_generate_image(service: ServiceThread, known: dict[str, str], variables: Any) -> None:
    reply = attack(service, GENERATE, variables, known)
    if not reply.refused:
        accepted_batch_matches(reply.data, variables)


@fuzz_settings()
@given(variables=variables_of(st.fixed_dictionaries({"image": image_inputs()})))
@example(variables={"image": {"base64": picture_base64()}})
@example(variables={"image": {"imageId": IMAGE}})
def test_upload_image(service: ServiceThread, known: dict[str, str], variables: Any) -> None:
    attack(service, UPLOAD, variables, known)


def task_ids() -> st.SearchStrategy[Any]:
    return variables_of(st.fixed_dictionaries({"id": loosely(ids())}))


@fuzz_settings(0.5)
@given(variables=task_ids())
@example(variables={"id": PENDING_TASK})
@example(variables={"id": FINISHED_TASK})
@example(variables={"id": IMAGE})
def test_cancel_task(service: ServiceThread, known: dict[str, str], variables: Any) -> None:
    attack(service, CANCEL, variables, known)


@fuzz_settings(0.5)
@given(variables=task_ids())
@example(variables={"id": PENDING_TASK})
@example(variables={"id": FINISHED_TASK})
def test_delete_task(service: ServiceThread, known: dict[str, str], variables: Any) -> None:
    attack(service, DELETE, variables, known)


@fuzz_settings(0.5)
@given(
    variables=variables_of(
        st.fixed_dictionaries({"id": loosely(ids())}, optional={"seed": seeds()})
    )
)
@example(variables={"id": FINISHED_TASK, "seed": "18446744073709551616"})
@example(variables={"id": PENDING_TASK})
def test_rerun_task(service: ServiceThread, known: dict[str, str], variables: Any) -> None:
    attack(service, RERUN, variables, known)


def preset_inputs() -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {"name": loosely(hostile_text(110)), "parameters": generation_parameters()}
    )


@fuzz_settings()
@given(variables=variables_of(st.fixed_dictionaries({"input": preset_inputs()})))
@example(variables={"input": {"name": "Balanced", "parameters": {"steps": 4}}})
@example(variables={"input": {"name": "x\x00", "parameters": {"steps": 0}}})
def test_save_preset(service: ServiceThread, known: dict[str, str], variables: Any) -> None:
    attack(service, SAVE_PRESET, variables, known)


@fuzz_settings(0.5)
@given(variables=task_ids())
@example(variables={"id": BUILT_IN_PRESETS[0].id})
@example(variables={"id": FINISHED_TASK})
def test_delete_preset(service: ServiceThread, known: dict[str, str], variables: Any) -> None:
    attack(service, DELETE_PRESET, variables, known)
