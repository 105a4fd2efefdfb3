"""A task's output row and its COMPLETED state are committed together; what its attempts left under
the task's prefixes that its row does not name is removed when an attempt ends, however it ends;
the janitor removes old unnamed blobs."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from storage.local import LocalBlobStore
from tasks.background import BackgroundTasks
from tasks.janitor import JanitorSettings, StorageJanitor
from tasks.runtime.leftovers import TaskLeftovers
from tasks.runtime.outcomes import TaskOutcomes
from tasks.runtime.outputs import CollectedOutput
from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.models import ImageKind, StoredImage, Task
from tasks.store.snapshots import TaskEvent
from tasks.store.task_rows import NewOutputImage
from tasks.store.transitions import TaskChanges

pytestmark = pytest.mark.usefixtures("database")


class Quiet:
    async def publish(self, event: TaskEvent) -> None:
        return None


async def a_task(status: TaskStatus = TaskStatus.PROCESSING) -> Task:
    now = utc_now()
    image = await StoredImage.create(
        owner="alice", kind=ImageKind.INPUT, sha256="a" * 64, blob_key=f"inputs/aa/{'a' * 64}.png",
        thumbnail_key=f"thumbnails/aa/{'a' * 64}.webp", content_type="image/png", width=8,
        height=8, size=10, created_at=now,
    )  # fmt: skip
    return await Task.create(
        id=uuid.uuid4(), owner="alice", status=status, workflow="w", description="d",
        parameters={}, seed="1", reference_image=image, request_hash="h", created_at=now,
        updated_at=now,
    )  # fmt: skip


async def written_output(blobs: LocalBlobStore, task: Task, token: str) -> CollectedOutput:
    key, thumb = f"outputs/{task.id}/{token}.png", f"outputs/{task.id}/{token}.thumb.webp"
    await blobs.put(key, b"png", "image/png")
    await blobs.put(thumb, b"webp", "image/webp")
    image = NewOutputImage(
        owner=task.owner, blob_key=key, thumbnail_key=thumb, sha256="b" * 64,
        content_type="image/png", width=8, height=8, size=3,
    )  # fmt: skip
    return CollectedOutput(image=image)


def outcomes(blobs: LocalBlobStore) -> TaskOutcomes:
    return TaskOutcomes(
        TaskChanges(Quiet(), BackgroundTasks()), TaskLeftovers(blobs), max_attempts=3
    )


def half_written(root: Path, task: Task) -> Path:
    """A write cut short long ago, as a killed process leaves it."""
    partial = root / "outputs" / str(task.id) / ".cut.png.0123456789abcdef.tmp"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"half")
    os.utime(partial, (0, 0))
    return partial


async def test_completing_commits_the_output_row_with_the_status_and_tidies_the_prefixes(
    tmp_path: Path,
) -> None:
    blobs = LocalBlobStore(tmp_path / "files")
    task = await a_task()
    earlier = await written_output(blobs, task, "earlier")  # a try cut short before committing
    await blobs.put(f"previews/{task.id}/old.webp", b"webp", "image/webp")
    await blobs.put(f"previews/{task.id}/shown.webp", b"webp", "image/webp")
    await Task.filter(id=task.id).update(preview_key=f"previews/{task.id}/shown.webp")
    partial = half_written(tmp_path / "files", task)
    collected = await written_output(blobs, task, "final")
    done = await outcomes(blobs).completed(task.id, collected)
    assert done is not None and done.status is TaskStatus.COMPLETED
    rows = await StoredImage.filter(kind=ImageKind.OUTPUT)
    assert [row.blob_key for row in rows] == [collected.image.blob_key]
    assert done.result_image_id == rows[0].id  # type: ignore[attr-defined]
    assert not partial.exists()
    left = {blob.key async for blob in blobs.list("")}
    assert left == {*collected.keys, f"previews/{task.id}/shown.webp"}
    assert not any([await blobs.exists(key) for key in earlier.keys])


@pytest.mark.parametrize("ending", ["cancelled", "failed"])
async def test_ending_without_a_result_keeps_the_shown_preview_and_removes_the_rest(
    tmp_path: Path, ending: str
) -> None:
    blobs = LocalBlobStore(tmp_path / "files")
    task = await a_task()
    earlier = await written_output(blobs, task, "earlier")  # a try cut short before committing
    shown = f"previews/{task.id}/shown.webp"
    for key in (f"previews/{task.id}/earlier-attempt.webp", shown):
        await blobs.put(key, b"webp", "image/webp")
    await Task.filter(id=task.id).update(preview_key=shown)
    partial = half_written(tmp_path / "files", task)
    ended = outcomes(blobs)
    row = await (
        ended.cancelled(task.id) if ending == "cancelled" else ended.failed(task.id, "E", "m")
    )
    assert row is not None and row.status.is_terminal and row.preview_key == shown
    assert {blob.key async for blob in blobs.list("")} == {shown}
    assert not partial.exists()
    assert not any([await blobs.exists(key) for key in earlier.keys])


async def test_what_is_written_after_an_attempt_ended_is_not_its_leftover(tmp_path: Path) -> None:
    """The next attempt's files are younger than the row that ended the attempt before."""
    blobs = LocalBlobStore(tmp_path / "files")
    task = await a_task()
    old, new = f"previews/{task.id}/old.webp", f"previews/{task.id}/new.webp"
    await blobs.put(old, b"webp", "image/webp")
    await blobs.put(new, b"webp", "image/webp")
    ended = await Task.get(id=task.id)
    ended.updated_at = utc_now()
    os.utime(blobs.path_for(new), (0, (ended.updated_at.timestamp() + 1)))
    await TaskLeftovers(blobs).remove(ended)
    assert {blob.key async for blob in blobs.list("")} == {new}


async def test_completing_a_task_that_ended_meanwhile_stores_no_row(tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "files")
    task = await a_task(TaskStatus.CANCELLED)
    collected = await written_output(blobs, task, "late")
    assert await outcomes(blobs).completed(task.id, collected) is None
    assert await StoredImage.filter(kind=ImageKind.OUTPUT).count() == 0
    assert (await Task.get(id=task.id)).status is TaskStatus.CANCELLED


async def test_the_janitor_removes_old_blobs_no_row_names_and_keeps_the_rest(
    tmp_path: Path,
) -> None:
    blobs = LocalBlobStore(tmp_path / "files")
    task = await a_task(TaskStatus.COMPLETED)
    image = await StoredImage.get(id=task.reference_image_id)  # type: ignore[attr-defined]
    assert image.thumbnail_key is not None
    preview = f"previews/{task.id}/p.webp"
    await Task.filter(id=task.id).update(preview_key=preview)
    named = [image.blob_key, image.thumbnail_key, preview]
    unnamed = [f"outputs/{task.id}/x.png", f"previews/{task.id}/q.webp", "inputs/bb/b.png"]
    for key in [*named, *unnamed, "thumbnails/cc/c.webp"]:
        await blobs.put(key, b"x", "image/png" if key.endswith("png") else "image/webp")
    janitor = StorageJanitor(blobs, JanitorSettings(grace_seconds=60))
    assert await janitor.sweep() == 0  # all too young
    assert await janitor.sweep(utc_now() + timedelta(seconds=61)) == 4
    left = {blob.key async for blob in blobs.list("")}
    assert left == set(named)
