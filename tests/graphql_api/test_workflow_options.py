"""Options: a template's own parameters by name, checked against its manifest; `workflows`
lists every template with every parameter and where a request sets it."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.images import encoded

GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { task { id workflow parameters { steps seed }
    options { name value } } } }"""
WORKFLOWS = """{ workflows { name parameters { name type inputField minimum maximum } } }"""
LORA = "flux_kontext_dev_lora"


def lora_request(*options: Mapping[str, object], **extra: object) -> dict[str, object]:
    return {
        "referenceImage": {"base64": base64.b64encode(encoded(8, 8)).decode()},
        "description": "make it red",
        "workflow": LORA,
        "options": list(options),
        **extra,
    }


async def test_options_are_checked_and_reported_on_the_task(api: GraphQLClient) -> None:
    data = lora_request(
        {"name": "lora", "value": "kontext_style_lora.safetensors"},
        {"name": "lora_strength", "value": 0.6},
        parameters={"steps": 7},
    )
    task = (await api.execute(GENERATE, input=data)).ok()["generateImage"]["task"]
    assert task["workflow"] == LORA
    assert task["parameters"]["steps"] == 7
    options = {option["name"]: option["value"] for option in task["options"]}
    assert options["lora"] == "kontext_style_lora.safetensors"
    assert options["lora_strength"] == 0.6
    assert (options["steps"], options["sampler"]) == (7, "euler")


@pytest.mark.parametrize(
    ("options", "field", "reason"),
    [
        (
            [{"name": "lora_strenght", "value": 1}],
            "input.options.lora_strenght",
            "UNKNOWN_PARAMETER",
        ),
        (
            [{"name": "lora_strength", "value": "strong"}],
            "input.options.lora_strength",
            "WRONG_TYPE",
        ),
        ([{"name": "lora_strength", "value": 150}], "input.options.lora_strength", "OUT_OF_RANGE"),
        ([], "input.options.lora", "MISSING"),
        ([{"name": "description", "value": "x"}], "input.options.description", "UNKNOWN_PARAMETER"),
        ([{"name": "image", "value": "a.png"}], "input.options.image", "UNKNOWN_PARAMETER"),
        ([{"name": "sampler", "value": "fastest"}], "input.options.sampler", "NOT_A_CHOICE"),
    ],
)
async def test_a_bad_option_is_refused_naming_it(
    api: GraphQLClient, options: list[dict[str, object]], field: str, reason: str
) -> None:
    lora: dict[str, object] = {"name": "lora", "value": "kontext_style_lora.safetensors"}
    given = [lora, *options] if options else []
    response = await api.execute(GENERATE, input=lora_request(*given))
    assert response.codes == ["BAD_USER_INPUT"], response.body
    problems = response.errors[0]["extensions"]["problems"]
    assert {"field": field, "reason": reason} in [
        {"field": p["field"], "reason": p["reason"]} for p in problems
    ], problems


async def test_an_option_given_twice_or_also_as_a_parameter_is_refused(api: GraphQLClient) -> None:
    lora = {"name": "lora", "value": "kontext_style_lora.safetensors"}
    twice = await api.execute(GENERATE, input=lora_request(lora, lora))
    assert twice.codes == ["BAD_USER_INPUT"], twice.body
    assert twice.errors[0]["extensions"]["field"] == "input.options.lora"
    both = lora_request(lora, {"name": "steps", "value": 5}, parameters={"steps": 6})
    response = await api.execute(GENERATE, input=both)
    assert response.codes == ["BAD_USER_INPUT"], response.body
    assert response.errors[0]["extensions"]["field"] == "input.options.steps"


async def test_workflows_lists_every_template_with_where_each_parameter_goes(
    api: GraphQLClient,
) -> None:
    workflows = {w["name"]: w for w in (await api.execute(WORKFLOWS)).ok()["workflows"]}
    assert set(workflows) == {"flux_kontext_dev_basic", LORA}
    fields = {p["name"]: p["inputField"] for p in workflows[LORA]["parameters"]}
    assert fields["lora"] == fields["lora_strength"] == "options"
    assert (fields["steps"], fields["image"], fields["description"]) == (
        "parameters.steps",
        "referenceImage",
        "description",
    )
    strength = next(p for p in workflows[LORA]["parameters"] if p["name"] == "lora_strength")
    assert (strength["type"], strength["minimum"], strength["maximum"]) == ("FLOAT", -100, 100)
