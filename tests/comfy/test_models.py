"""Every recorded HTTP answer of ComfyUI 0.8.0 reads into the typed values the client returns."""

from __future__ import annotations

from typing import Any

import pytest

from comfy.models import HistoryEntry, Job, QueueSnapshot, SystemStats, UploadedImage
from tests.comfy.recorded import exchanges

HISTORY_ENTRIES = [
    (prompt_id, entry)
    for record in exchanges(None, "GET", "/history", 200)
    for prompt_id, entry in record["body"].items()
]
JOBS = [r["body"] for r in exchanges(None, "GET", "/api/jobs/", 200)]
LAST_MESSAGE_OUTCOME = {
    "execution_success": "success",
    "execution_error": "error",
    "execution_interrupted": "interrupted",
}


@pytest.mark.parametrize(("prompt_id", "entry"), HISTORY_ENTRIES, ids=lambda v: str(v)[:8])
def test_every_recorded_history_entry_reads_with_its_outcome_and_images(
    prompt_id: str, entry: dict[str, Any]
) -> None:
    history = HistoryEntry.from_json(prompt_id, entry)
    last_message = entry["status"]["messages"][-1][0]
    assert history.outcome == LAST_MESSAGE_OUTCOME[last_message]
    assert history.completed is entry["status"]["completed"]
    assert [(o.node_id, o.filename) for o in history.outputs] == [
        (node_id, image["filename"])
        for node_id, output in entry["outputs"].items()
        for image in output["images"]
    ]
    assert (history.error is not None) is (last_message == "execution_error")


def test_the_recorded_history_covers_success_error_and_interrupt() -> None:
    outcomes = {HistoryEntry.from_json(p, e).outcome for p, e in HISTORY_ENTRIES}
    assert outcomes == {"success", "error", "interrupted"}


@pytest.mark.parametrize("body", JOBS, ids=lambda body: f"{body['id'][:8]}-{body['status']}")
def test_every_recorded_job_reads_with_the_outcome_its_history_status_tells(
    body: dict[str, Any],
) -> None:
    job = Job.from_json(body)
    assert (job.id, job.status, job.priority) == (body["id"], body["status"], body["priority"])
    messages = (body.get("execution_status") or {}).get("messages")
    if messages and body["status"] in ("completed", "failed"):
        assert job.outcome == LAST_MESSAGE_OUTCOME[messages[-1][0]]
    if body["status"] in ("pending", "in_progress"):
        assert job.outcome is None
    assert [o.filename for o in job.outputs] == [
        image["filename"]
        for output in (body.get("outputs") or {}).values()
        for image in output["images"]
    ]


def test_the_recorded_jobs_cover_every_outcome() -> None:
    assert {Job.from_json(body).outcome for body in JOBS} == {
        None,
        "success",
        "error",
        "interrupted",
    }


@pytest.mark.parametrize(
    "record", exchanges(None, "GET", "/queue", 200), ids=lambda r: r["scenario"]
)
def test_every_recorded_queue_reads_into_prompt_ids(record: dict[str, Any]) -> None:
    snapshot = QueueSnapshot.from_json(record["body"])
    body = record["body"]
    assert snapshot.running == [item[1] for item in body["queue_running"]]
    assert sorted(snapshot.pending) == sorted(item[1] for item in body["queue_pending"])


def test_system_stats_and_uploads_read_from_their_recorded_answers() -> None:
    stats = SystemStats.from_json(exchanges("a_success", "GET", "/system_stats")[0]["body"])
    assert stats.comfyui_version == "0.8.0"
    uploaded = UploadedImage.from_json(exchanges("a_success", "POST", "/upload/image")[0]["body"])
    assert uploaded.reference == "rig_ref.png"
    assert UploadedImage(name="a.png", subfolder="refs", type="input").reference == "refs/a.png"


@pytest.mark.parametrize(
    ("build", "body"),
    [
        (QueueSnapshot.from_json, {"queue_running": [[0]], "queue_pending": []}),
        (Job.from_json, {"status": "completed"}),
        (UploadedImage.from_json, {"name": ["a"]}),
    ],
    ids=["short-queue-item", "job-without-id", "name-not-text"],
)
def test_bodies_of_the_wrong_shape_raise_for_the_client_to_translate(build: Any, body: Any) -> None:
    with pytest.raises((KeyError, IndexError, TypeError, ValueError)):
        build(body)
