from __future__ import annotations

from tests.integration.test_runs_on_comfyui import submit, wait_terminal
from tests.support.graphql import GraphQLClient

RERUN = """mutation($id: ID!, $seed: Seed) { rerunTask(id: $id, seed: $seed) {
  task { id rerunOf { id } parameters { steps seed } } } }"""
UPLOADS = "{ uploads(first: 10) { edges { node { id } } } }"
REFERENCE = "query($id: ID!) { task(id: $id) { referenceImage { id } result { image { id } } } }"


async def test_a_completed_task_reruns_to_completion_with_a_new_seed(live: GraphQLClient) -> None:
    original = await submit(live, steps=3, seed=7)
    assert (await wait_terminal(live, original))["status"] == "COMPLETED"
    rerun = (await live.execute(RERUN, id=original, seed="8")).ok()["rerunTask"]["task"]
    assert rerun["rerunOf"] == {"id": original}
    assert rerun["parameters"] == {"steps": 3, "seed": "8"}
    done = await wait_terminal(live, rerun["id"])
    assert done["status"] == "COMPLETED" and done["step"] == 3
    # Uploads are the reference images only: the results are not listed.
    first = (await live.execute(REFERENCE, id=original)).ok()["task"]
    uploads = (await live.execute(UPLOADS)).ok()["uploads"]["edges"]
    assert [edge["node"]["id"] for edge in uploads] == [first["referenceImage"]["id"]]
    assert first["result"]["image"]["id"] != first["referenceImage"]["id"]
