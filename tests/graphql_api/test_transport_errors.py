"""Refusals before GraphQL runs are GraphQL JSON errors with a code and the right status."""

from __future__ import annotations

import httpx
import pytest

from graphql_api.multipart import MalformedMultipart, operations_with_files
from graphql_api.transport_errors import code_for
from tests.support.graphql import GraphQLClient

PREFLIGHT = {"Apollo-Require-Preflight": "1"}


def coded(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/json"), response.text
    errors = response.json()["errors"]
    assert len(errors) == 1 and errors[0]["message"], errors
    code: str = errors[0]["extensions"]["code"]
    return code


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{", "application/json"),
        (b"null", "application/json"),
        (b"5", "application/json"),
        (b"\x80\x81", "application/json"),
        (b"[" * 100_000, "application/json"),
        (b"{}", "application/json"),
        (b'{"query": "{ workflows { name } }", "variables": []}', "application/json"),
        (b"{ workflows { name } }", "text/plain"),
        (b"x", "multipart/form-data"),
    ],
)
async def test_bodies_graphql_cannot_read_are_400_bad_request(
    api: GraphQLClient, content: bytes, content_type: str
) -> None:
    headers = {"content-type": content_type, **PREFLIGHT}
    response = await api.http.post("/graphql", content=content, headers=headers)
    assert response.status_code == 400, response.text
    assert coded(response) == "BAD_REQUEST"


async def test_unknown_routes_and_methods_are_coded(api: GraphQLClient) -> None:
    missing = await api.http.get("/graphql/nope")
    assert (missing.status_code, coded(missing)) == (404, "NOT_FOUND")
    wrong = await api.http.put("/graphql", content=b"{}")
    assert (wrong.status_code, coded(wrong)) == (405, "METHOD_NOT_ALLOWED")
    assert "POST" in wrong.headers["allow"]


async def test_a_multipart_map_to_a_missing_path_is_400(api: GraphQLClient) -> None:
    fields = {
        "operations": '{"query": "{ workflows { name } }", "variables": {}}',
        "map": '{"0": ["variables.input.upload"]}',
    }
    files = {"0": ("a.png", b"x", "image/png")}
    response = await api.http.post("/graphql", data=fields, files=files, headers=PREFLIGHT)
    assert (response.status_code, coded(response)) == (400, "BAD_REQUEST")


def test_codes_follow_the_status() -> None:
    assert [code_for(s) for s in (400, 404, 405, 413, 418, 503)] == [
        "BAD_REQUEST",
        "NOT_FOUND",
        "METHOD_NOT_ALLOWED",
        "PAYLOAD_TOO_LARGE",
        "BAD_REQUEST",
        "INTERNAL_SERVER_ERROR",
    ]


FILE = object()


def test_files_replace_the_nulls_the_map_names() -> None:
    operations = {"variables": {"image": {"upload": None}, "list": [None, 1]}}
    files_map = {"0": ["variables.image.upload", "variables.list.0"]}
    placed = operations_with_files(operations, files_map, {"0": FILE})
    assert placed == {"variables": {"image": {"upload": FILE}, "list": [FILE, 1]}}


@pytest.mark.parametrize(
    ("operations", "files_map"),
    [
        ([], []),
        (5, {}),
        ({"variables": {}}, "x"),
        ({"variables": {}}, {"0": "variables"}),
        ({"variables": {}}, {"0": [5]}),
        ({"variables": {}}, {"1": ["variables.x"]}),
        ({"variables": {"x": None}}, {"0": ["variables.x.y"]}),
        ({"variables": {"x": "text"}}, {"0": ["variables.x"]}),
        ({"variables": {"x": None}}, {"0": ["variables"]}),
        ({"variables": [None]}, {"0": ["variables.1"]}),
        ({"variables": [None]}, {"0": ["variables.-0"]}),
        ({"variables": [None]}, {"0": ["variables." + "0" * 5000]}),
        ({"variables": {"x": None}}, {"0": [""]}),
    ],
)
def test_maps_that_break_the_spec_are_malformed(operations: object, files_map: object) -> None:
    with pytest.raises(MalformedMultipart):
        operations_with_files(operations, files_map, {"0": FILE})
