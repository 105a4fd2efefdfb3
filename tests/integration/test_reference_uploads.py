"""A reference image goes to a ComfyUI server once: later tasks on it name the file the server
already has, without reading (or hashing) the stored blob again."""

from __future__ import annotations

from pathlib import Path

from graphql_api.settings import Settings
from tests.integration.test_runs_on_comfyui import submit, wait_terminal
from tests.support.graphql import GraphQLClient

REFERENCE = "query($id: ID!) { task(id: $id) { referenceImage { id } } }"
GENERATE_ON = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { task { id } } }"""


async def test_a_second_task_on_the_same_image_does_not_read_its_blob(
    live: GraphQLClient, settings: Settings
) -> None:
    first = await submit(live, steps=2)
    assert (await wait_terminal(live, first))["status"] == "COMPLETED"
    image_id = (await live.execute(REFERENCE, id=first)).ok()["task"]["referenceImage"]["id"]
    stored = [path for path in Path(settings.storage_dir, "inputs").rglob("*") if path.is_file()]
    assert len(stored) == 1
    stored[0].unlink()  # were it read again, the task would fail with INPUT_MISSING
    request = {"referenceImage": {"imageId": image_id}, "description": "now blue"}
    second = (await live.execute(GENERATE_ON, input=request)).ok()["generateImage"]["task"]["id"]
    done = await wait_terminal(live, second)
    assert done["status"] == "COMPLETED", done
