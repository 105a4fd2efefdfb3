"""One attack, as every fuzzed operation runs it: send, judge the answer, check the footprint."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from tests.attack.pictures import small_pictures
from tests.attack.service import ServiceThread
from tests.attack.strategies import CURSOR, FINISHED_TASK, IMAGE, PENDING_TASK, with_known
from tests.attack.verdicts import assert_answered, assert_nothing_written
from tests.attack.wire import Reply

CREATE = "mutation($input: GenerateImageInput!) { generateImage(input: $input) { task { id } } }"
UPLOAD = "mutation($image: ImageInput!) { uploadImage(image: $image) { id } }"
CANCEL = "mutation($id: ID!) { cancelTask(id: $id) { id status } }"
FIRST_PAGE = "{ history(first: 1) { pageInfo { endCursor } } }"


def attack(service: ServiceThread, query: str, variables: Any, known: Mapping[str, str]) -> Reply:
    """Send the operation; it must answer properly, and write nothing when it refuses."""
    sent = with_known(variables, known)
    before = service.footprint()
    reply = service.graphql(query, sent)
    assert_answered(reply, sent)
    if reply.refused:
        assert_nothing_written(before, service.footprint(), sent)
    return reply


def picture_base64() -> str:
    return base64.b64encode(small_pictures()[0]).decode()


def create_task(service: ServiceThread, description: str) -> str:
    variables = {
        "input": {"referenceImage": {"base64": picture_base64()}, "description": description}
    }
    task_id: str = service.graphql(CREATE, variables).ok()["generateImage"]["task"]["id"]
    return task_id


def known_rows(service: ServiceThread) -> dict[str, str]:
    """Rows for the placeholders: a pending task, a cancelled one, an image, a real cursor."""
    pending = create_task(service, "a pending edit")
    finished = create_task(service, "a cancelled edit")
    service.graphql(CANCEL, {"id": finished}).ok()
    image = service.graphql(UPLOAD, {"image": {"base64": picture_base64()}}).ok()
    cursor = service.graphql(FIRST_PAGE, {}).ok()["history"]["pageInfo"]["endCursor"]
    return {
        PENDING_TASK: pending,
        FINISHED_TASK: finished,
        IMAGE: image["uploadImage"]["id"],
        CURSOR: cursor,
    }
