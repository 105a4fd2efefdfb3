"""The chaos run's webhook check counts an ended task as lost unless a message of the right type
with a valid signature arrived for it."""

from __future__ import annotations

import json
import time

from tasks.webhooks.signing import signed_headers
from tests.chaos.report import Summary
from tests.chaos.verify import Snapshot
from tests.chaos.webhooks import check_webhooks
from tests.support.webhooks import TEST_SECRET, Received, Receiver


class NoDeliveries:
    async def fetch(self, sql: str) -> list[dict[str, object]]:
        return []


def message(task_id: str, kind: str, secret: str = TEST_SECRET) -> Received:
    body = json.dumps({"type": kind, "timestamp": "t", "data": {"id": task_id}}).encode()
    now = int(time.time())
    return Received(signed_headers(secret, f"msg_{task_id}", now, body), body, now)


async def test_only_signed_messages_of_the_right_type_count() -> None:
    tasks = [
        {"id": "a", "status": "COMPLETED"},
        {"id": "b", "status": "FAILED"},  # announced as completed
        {"id": "c", "status": "CANCELLED"},  # signed with another secret
        {"id": "d", "status": "COMPLETED"},  # never announced
        {"id": "e", "status": "PENDING"},  # not ended: nothing expected
    ]
    other = "whsec_" + "QUJD" * 8
    receiver = Receiver(
        received=[
            message("a", "task.completed"),
            message("a", "task.completed"),  # a repeat is fine
            message("b", "task.completed"),
            message("c", "task.cancelled", secret=other),
        ]
    )
    summary = Summary(seed=1)
    await check_webhooks(
        summary, Snapshot(tasks=tasks, images=[]), NoDeliveries(), receiver, TEST_SECRET
    )
    assert summary.webhooks_lost == 3
    assert not summary.passed
    assert any("signature did not verify: 1" in detail for detail in summary.details)
