from __future__ import annotations

from typing import Any

import pytest

from tasks.presets import BUILT_IN_PRESETS, PresetBook
from tests.support.graphql import GraphQLClient, GraphQLResponse, client_with_key
from workflows.parameters import resolve_parameters
from workflows.registry import load_templates

PRESET_FIELDS = "id name builtIn parameters { steps cfg guidance seed sampler scheduler denoise }"
PRESETS = f"{{ presets {{ {PRESET_FIELDS} }} }}"
SAVE = (
    f"""mutation($input: SavePresetInput!) {{ savePreset(input: $input) {{ {PRESET_FIELDS} }} }}"""
)
DELETE = "mutation($id: ID!) { deletePreset(id: $id) }"
BUILT_IN_NAMES = ["Fast draft", "Balanced", "Strong edit"]


async def presets(api: GraphQLClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await api.execute(PRESETS)).ok()["presets"]
    return found


async def save(api: GraphQLClient, name: str, **parameters: object) -> GraphQLResponse:
    return await api.execute(SAVE, input={"name": name, "parameters": parameters})


def test_built_in_presets_resolve_within_the_default_workflow() -> None:
    template = load_templates().get_default()
    PresetBook(template)  # checks every built-in preset
    for preset in BUILT_IN_PRESETS:
        resolved = resolve_parameters(template, {**preset.parameters, "description": "x"})
        assert {k: resolved.values[k] for k in preset.parameters} == dict(preset.parameters)


async def test_built_in_presets_come_first_and_set_only_some_parameters(
    api: GraphQLClient,
) -> None:
    listed = await presets(api)
    assert [p["name"] for p in listed] == BUILT_IN_NAMES
    assert all(p["builtIn"] for p in listed)
    fast, balanced, strong = (p["parameters"] for p in listed)
    assert fast["steps"] < balanced["steps"] < strong["steps"]
    assert strong["guidance"] > balanced["guidance"]
    assert fast["seed"] is None and fast["cfg"] is None and fast["denoise"] is None


async def test_a_saved_preset_is_listed_after_the_built_ins_and_the_same_name_replaces_it(
    api: GraphQLClient,
) -> None:
    first = await save(api, "  Night shots ", steps=12, cfg=1.5, seed="18446744073709551615")
    saved = first.ok()["savePreset"]
    assert saved["name"] == "Night shots" and not saved["builtIn"]
    assert saved["parameters"] == {
        "steps": 12,
        "cfg": 1.5,
        "guidance": None,
        "seed": "18446744073709551615",
        "sampler": None,
        "scheduler": None,
        "denoise": None,
    }
    other = (await save(api, "Another", sampler="heun")).ok()["savePreset"]
    replaced = (await save(api, "Night shots", guidance=3)).ok()["savePreset"]
    assert replaced["id"] == saved["id"]
    assert replaced["parameters"]["guidance"] == 3.0
    assert replaced["parameters"]["steps"] is None
    listed = await presets(api)
    assert [p["name"] for p in listed] == [*BUILT_IN_NAMES, "Another", "Night shots"]
    assert listed[3] == other and listed[4] == replaced


@pytest.mark.parametrize(
    ("name", "parameters", "field", "reason"),
    [
        ("Slow", {"steps": 0}, "input.parameters.steps", "OUT_OF_RANGE"),
        ("Loud", {"guidance": 1000.5}, "input.parameters.guidance", "OUT_OF_RANGE"),
        ("Odd", {"sampler": "nonesuch"}, "input.parameters.sampler", "NOT_A_CHOICE"),
        ("Over", {"denoise": 1.5}, "input.parameters.denoise", "OUT_OF_RANGE"),
        ("   ", {"steps": 4}, "input.name", "EMPTY"),
        ("x" * 101, {"steps": 4}, "input.name", "TOO_LONG"),
        ("bad\x00name", {"steps": 4}, "input.name", "BAD_TEXT"),
        ("balanced", {"steps": 4}, "input.name", "RESERVED_NAME"),
    ],
)
async def test_preset_values_are_checked_like_generation_parameters(
    api: GraphQLClient, name: str, parameters: dict[str, object], field: str, reason: str
) -> None:
    refused = await save(api, name, **parameters)
    assert refused.codes == ["BAD_USER_INPUT"]
    extensions = refused.errors[0]["extensions"]
    assert (extensions["field"], extensions["reason"]) == (field, reason)
    assert [p["name"] for p in await presets(api)] == BUILT_IN_NAMES


async def test_a_preset_refuses_what_generate_image_refuses_with_the_same_problems(
    api: GraphQLClient,
) -> None:
    bad = {"steps": 151, "cfg": -1, "scheduler": "nope"}
    preset = (await save(api, "Broken", **bad)).errors[0]["extensions"]
    generate = await api.execute(
        "mutation($input: GenerateImageInput!) { generateImage(input: $input) { task { id } } }",
        input={
            "referenceImage": {"imageId": "00000000-0000-0000-0000-000000000000"},
            "description": "x",
            "parameters": bad,
        },
    )
    assert generate.codes == ["BAD_USER_INPUT"]
    assert preset["problems"] == generate.errors[0]["extensions"]["problems"]


async def test_deleting_presets(api: GraphQLClient) -> None:
    saved = (await save(api, "Mine", steps=6)).ok()["savePreset"]
    assert (await api.execute(DELETE, id=saved["id"])).ok() == {"deletePreset": saved["id"]}
    assert [p["name"] for p in await presets(api)] == BUILT_IN_NAMES
    again = await api.execute(DELETE, id=saved["id"])
    assert again.codes == ["NOT_FOUND"]
    built_in = await api.execute(DELETE, id=BUILT_IN_PRESETS[0].id)
    assert built_in.codes == ["BUILT_IN_PRESET"]
    assert (await api.execute(DELETE, id="not-an-id")).codes == ["BAD_USER_INPUT"]
    assert len(await presets(api)) == len(BUILT_IN_NAMES)


async def test_presets_belong_to_their_owner(secured_url: str) -> None:
    alice = await client_with_key(secured_url, "alice")
    bob = await client_with_key(secured_url, "bob")
    async with alice.http, bob.http:
        mine = (await save(alice, "Portrait", steps=24)).ok()["savePreset"]
        theirs = (await save(bob, "Portrait", steps=9)).ok()["savePreset"]
        assert mine["id"] != theirs["id"]
        assert [p["parameters"]["steps"] for p in await presets(alice)][-1] == 24
        assert [p["parameters"]["steps"] for p in await presets(bob)][-1] == 9
        assert (await bob.execute(DELETE, id=mine["id"])).codes == ["NOT_FOUND"]
        assert [p["name"] for p in await presets(alice)] == [*BUILT_IN_NAMES, "Portrait"]


async def test_an_owner_keeps_a_bounded_number_of_presets(
    api: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tasks.presets.MAX_PRESETS_PER_OWNER", 2)
    for name in ("one", "two"):
        (await save(api, name, steps=4)).ok()
    refused = await save(api, "three", steps=4)
    assert refused.codes == ["BAD_USER_INPUT"]
    assert refused.errors[0]["extensions"]["reason"] == "LIMIT_REACHED"
    # Replacing one by name is still allowed.
    assert (await save(api, "two", steps=5)).ok()["savePreset"]["parameters"]["steps"] == 5
    assert [p["name"] for p in await presets(api)] == [*BUILT_IN_NAMES, "one", "two"]
