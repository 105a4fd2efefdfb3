"""Fuzzing the HTTP envelope of GraphQL requests: bodies, content types and the multipart
request spec. Whatever arrives, the answer is a GraphQL JSON body whose errors carry a code,
never a server error, and a refused request writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.attack.attacks import picture_base64
from tests.attack.budget import fuzz_settings
from tests.attack.service import ServiceThread
from tests.attack.source_strategies import (
    image_bytes,
)
from tests.attack.strategies import (
    IMAGE,
    hostile_text,
    json_values,
    mostly,
    with_known,
)
from tests.attack.verdicts import assert_answered, assert_nothing_written
from tests.attack.wire import Reply, as_json

GENERATE = "mutation($input: GenerateImageInput!) { generateImage(input: $input) { task { id } } }"
UPLOAD = "mutation($image: ImageInput!) { uploadImage(image: $image) { id width } }"
CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/graphql",
    "application/graphql-response+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "",
)
UPLOAD_TARGETS = (
    "variables.input.referenceImage.upload",
    "variables.input.secondImage.upload",
    "variables.image.upload",
)
ODD_TARGETS = (
    "variables.input.referenceImage.base64",
    "variables.input.referenceImage.url",
    "variables.input.referenceImage.imageId",
    "variables.input.description",
    "variables.input.referenceImage",
    "variables.input",
    "variables",
    "query",
    "variables.input.referenceImage.upload.x",
    "variables.input.nope.x",
    "variables.0",
    "variables.input.parameters.steps",
    "",
    ".",
)

pytestmark = pytest.mark.database


def generate_variables(source: dict[str, Any]) -> dict[str, Any]:
    return {"input": {"referenceImage": source, "description": "make it blue"}}


def envelopes() -> st.SearchStrategy[bytes]:
    documents = st.one_of(st.just(GENERATE), st.just("{ workflows { name } }"), hostile_text(40))
    request = st.fixed_dictionaries(
        {"query": mostly(documents, json_values(), odds=4)},
        optional={
            "variables": st.one_of(
                st.just(generate_variables({"base64": picture_base64()})), json_values()
            ),
            "operationName": json_values(),
            "extensions": json_values(),
        },
    )
    return st.one_of(
        request.map(as_json),
        json_values().map(as_json),
        st.lists(request, max_size=3).map(as_json),
        st.binary(max_size=200),
        hostile_text(60).map(lambda t: t.encode("utf-8", "surrogatepass")),
    )


def posted(service: ServiceThread, content: bytes, content_type: str) -> tuple[Reply, object]:
    sent = (content_type, content[:200])
    before = service.footprint()
    reply = service.run(
        service.wire.post_raw(content, content_type or None, {"Apollo-Require-Preflight": "1"})
    )
    assert_answered(reply, sent)
    if reply.refused:
        assert_nothing_written(before, service.footprint(), sent)
    return reply, sent


@fuzz_settings()
@given(content=envelopes(), content_type=st.sampled_from(CONTENT_TYPES))
@example(content=b"{", content_type="application/json")
@example(content=b"[]", content_type="application/json")
@example(content=as_json({"query": GENERATE, "variables": []}), content_type="application/json")
@example(content=b"x", content_type="text/plain")
def test_request_bodies(service: ServiceThread, content: bytes, content_type: str) -> None:
    posted(service, content, content_type)


def multipart_maps() -> st.SearchStrategy[Any]:
    paths = st.one_of(
        st.sampled_from(UPLOAD_TARGETS), st.sampled_from(ODD_TARGETS), hostile_text(20)
    )
    mapping = st.dictionaries(
        st.sampled_from(["0", "1", "2"]), st.lists(paths, max_size=3), max_size=3
    )
    return mostly(mapping, json_values(), odds=3)


def multipart_operations() -> st.SearchStrategy[Any]:
    request = st.fixed_dictionaries(
        {
            "query": st.sampled_from([GENERATE, UPLOAD]),
            "variables": st.sampled_from(
                [generate_variables({"upload": None}), {"image": {"upload": None}}, None]
            ),
        }
    )
    return mostly(request, json_values(), odds=3)


def sendable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def multipart_fields(operations: Any, mapping: Any, raw: bool) -> dict[str, str]:
    if raw:  # not JSON at all (form fields are UTF-8, so lone surrogates are replaced)
        return {
            name: sendable(str(value))
            for name, value in (("operations", operations), ("map", mapping))
        }
    return {"operations": json.dumps(operations), "map": json.dumps(mapping)}


def send_multipart(
    service: ServiceThread, fields: dict[str, str], parts: dict[str, tuple[str, bytes, str]]
) -> None:
    sent = (fields, {name: (part[0], part[1][:40], part[2]) for name, part in parts.items()})
    before = service.footprint()
    reply = service.run(service.wire.post_multipart(fields, parts))
    assert_answered(reply, sent)
    if reply.refused:
        assert_nothing_written(before, service.footprint(), sent)


@fuzz_settings()
@given(
    operations=multipart_operations(),
    mapping=multipart_maps(),
    raw=mostly(st.just(False), st.just(True), odds=8),
    part_names=st.lists(st.sampled_from(["0", "1", "2", "operations"]), max_size=3, unique=True),
    data=image_bytes(),
)
@example(
    operations={"query": GENERATE, "variables": generate_variables({"upload": None})},
    mapping={"0": ["variables.input.referenceImage.upload.x"]},
    raw=False,
    part_names=["0"],
    data=b"x",
)
@example(operations=[], mapping=[], raw=False, part_names=["0"], data=b"x")
@example(
    operations={"query": GENERATE},
    mapping={"0": ["variables"]},
    raw=False,
    part_names=["0"],
    data=b"x",
)
def test_multipart_structure(
    service: ServiceThread,
    operations: Any,
    mapping: Any,
    raw: bool,
    part_names: list[str],
    data: bytes,
) -> None:
    fields = multipart_fields(operations, mapping, raw)
    parts = {name: ("picture.png", data, "image/png") for name in part_names}
    send_multipart(service, fields, parts)


def file_names() -> st.SearchStrategy[str]:
    odd = st.sampled_from(["../../etc/passwd", "a\\b.png", "", ".png", "x" * 300, "😀.png"])
    return st.one_of(st.just("picture.png"), odd, st.text(max_size=20)).map(
        lambda name: name.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    )


@fuzz_settings()
@given(
    target=mostly(st.sampled_from(UPLOAD_TARGETS), st.sampled_from(ODD_TARGETS[:5]), odds=5),
    data=image_bytes(),
    name=file_names(),
    media=st.one_of(
        st.just("image/png"), hostile_text(20).map(lambda t: t.encode("ascii", "ignore").decode())
    ),
    second=st.one_of(st.none(), st.just({"imageId": IMAGE}), st.just({"base64": picture_base64()})),
)
@example(target=UPLOAD_TARGETS[0], data=b"GIF89a", name="x.gif", media="image/gif", second=None)
def test_multipart_uploads(
    service: ServiceThread,
    known: dict[str, str],
    target: str,
    data: bytes,
    name: str,
    media: str,
    second: Any,
) -> None:
    if target.startswith("variables.image"):
        operations = {"query": UPLOAD, "variables": {"image": {"upload": None}}}
    else:
        variables = generate_variables({"upload": None})
        if second is not None or target.endswith("secondImage.upload"):
            variables["input"]["secondImage"] = with_known(second, known) or {"upload": None}
        operations = {"query": GENERATE, "variables": variables}
    fields = multipart_fields(operations, {"0": [target]}, raw=False)
    send_multipart(service, fields, {"0": (name, data, media)})
