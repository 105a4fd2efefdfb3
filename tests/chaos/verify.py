"""The invariants checked once the run has settled, on what the database, the storage folder and
the emulators' histories say: nothing lost or stuck, nothing ran again, nothing left behind."""

from __future__ import annotations

import asyncio
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.chaos.cancels import CancelLog
from tests.chaos.database import Probe, Row, as_datetime
from tests.chaos.observer import Observations, PromptRun
from tests.chaos.report import Summary

TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
STORED_FOLDERS = ("inputs", "outputs", "previews", "thumbnails")
SHOWN = 10  # examples of each problem kept in the details


@dataclass(frozen=True)
class Snapshot:
    """The database after the run."""

    tasks: list[Row]
    images: list[Row]

    @property
    def by_id(self) -> dict[str, Row]:
        return {str(task["id"]): task for task in self.tasks}

    def completed(self) -> list[Row]:
        return [task for task in self.tasks if task["status"] == "COMPLETED"]


async def read_snapshot(probe: Probe) -> Snapshot:
    tasks = await probe.fetch(
        "SELECT id, status, prompt_id, result_image_id, reference_image_id, second_image_id,"
        " preview_key, attempts, error_code, error_message, idempotency_key, finished_at"
        " FROM task"
    )
    images = await probe.fetch("SELECT id, kind, blob_key, thumbnail_key FROM stored_image")
    return Snapshot(tasks=tasks, images=images)


def examples(items: Iterable[str]) -> str:
    shown = sorted(items)
    more = f" (+{len(shown) - SHOWN} more)" if len(shown) > SHOWN else ""
    return ", ".join(shown[:SHOWN]) + more


def check_tasks(summary: Summary, snapshot: Snapshot, accepted: Mapping[str, str]) -> None:
    """`accepted` maps each task id the API answered to its idempotency key."""
    rows = snapshot.by_id
    lost = [task_id for task_id in accepted if task_id not in rows]
    stuck = [task_id for task_id, row in rows.items() if row["status"] not in TERMINAL]
    summary.accepted = len(accepted)
    summary.lost = len(lost)
    summary.stuck = len(stuck)
    statuses = Counter(str(rows[task_id]["status"]) for task_id in accepted if task_id in rows)
    summary.completed = statuses["COMPLETED"]
    summary.failed = statuses["FAILED"]
    summary.cancelled = statuses["CANCELLED"]
    if lost:
        summary.problem(f"lost (accepted, not in the database): {examples(lost)}")
    for task_id in sorted(stuck)[:SHOWN]:
        row = rows[task_id]
        summary.problem(
            f"stuck: task {task_id} {row['status']} prompt={row['prompt_id']}"
            f" attempts={row['attempts']}"
        )
    keys = Counter(str(row["idempotency_key"]) for row in snapshot.tasks)
    twice = [key for key, count in keys.items() if count > 1]
    unasked = [task_id for task_id in rows if task_id not in accepted]
    summary.duplicates += len(twice)
    if twice:
        summary.problem(f"idempotency keys with several tasks: {examples(twice)}")
    if unasked:
        summary.note(f"tasks in the database never answered to the client: {len(unasked)}")
    failures = Counter(str(row["error_code"]) for row in snapshot.tasks if row["error_code"])
    if failures:
        summary.note(f"failure codes: {dict(failures)}")
    attempts = Counter(int(row["attempts"]) for row in snapshot.tasks)
    summary.note(f"attempts per task: {dict(sorted(attempts.items()))}")


def output_task_id(blob_key: str) -> str:
    """outputs/<task id>/<token>.png names the task it was made for."""
    return blob_key.split("/")[1]


def collected_twice(snapshot: Snapshot) -> dict[str, str]:
    """COMPLETED tasks whose result was stored more than once (or not as their result)."""
    outputs: defaultdict[str, list[Row]] = defaultdict(list)
    for image in snapshot.images:
        if image["kind"] == "output":
            outputs[output_task_id(str(image["blob_key"]))].append(image)
    problems: dict[str, str] = {}
    for task in snapshot.completed():
        mine = outputs.get(str(task["id"]), [])
        ids = {str(image["id"]) for image in mine}
        if len(mine) != 1 or str(task["result_image_id"]) not in ids:
            problems[str(task["id"])] = f"{len(mine)} output images stored"
    return problems


def ran_after_end(snapshot: Snapshot, seen: Observations, status: str) -> dict[str, str]:
    """Tasks ended with `status` one of whose prompts started on ComfyUI after that end."""
    rows = snapshot.by_id
    problems: dict[str, str] = {}
    for run in seen.runs.values():
        task = rows.get(seen.prompt_owner.get(run.prompt_id, ""))
        if task is None or task["status"] != status or run.started_at is None:
            continue
        finished = as_datetime(task["finished_at"])
        if finished is not None and run.started_at > finished:
            problems[str(task["id"])] = (
                f"prompt {run.prompt_id} ({run.outcome}) started on {run.backend}"
                f" {(run.started_at - finished).total_seconds():.2f}s after the task ended"
            )
    return problems


def check_reruns(summary: Summary, snapshot: Snapshot, seen: Observations) -> None:
    twice = collected_twice(snapshot)
    again = ran_after_end(snapshot, seen, "COMPLETED")
    after_cancel = ran_after_end(snapshot, seen, "CANCELLED")
    if after_cancel:
        summary.note(f"prompts that started after their task was cancelled: {after_cancel}")
    summary.rerun = len(twice.keys() | again.keys())
    for task_id, why in sorted(twice.items())[:SHOWN]:
        summary.problem(f"rerun: task {task_id}: {why}")
    for task_id, why in sorted(again.items())[:SHOWN]:
        summary.problem(f"rerun: task {task_id}: {why}")
    note_runs(summary, snapshot, seen.runs.values(), seen.prompt_owner)


def note_runs(
    summary: Summary, snapshot: Snapshot, runs: Iterable[PromptRun], owners: Mapping[str, str]
) -> None:
    """How many prompts ComfyUI ran per task, beyond the one that produced its result."""
    final = {str(task["prompt_id"]) for task in snapshot.tasks if task["prompt_id"]}
    listed = list(runs)
    outcomes = Counter(run.outcome for run in listed)
    extra = [run for run in listed if run.prompt_id not in final]
    unattributed = [run for run in listed if run.prompt_id not in owners]
    per_task = Counter(owners[run.prompt_id] for run in listed if run.prompt_id in owners)
    summary.note(
        f"prompts seen in the emulators' histories: {len(listed)} {dict(outcomes)};"
        f" not a task's last prompt: {len(extra)}; of unknown task: {len(unattributed)};"
        f" tasks with several prompts: {sum(1 for n in per_task.values() if n > 1)}"
    )


def stored_files(root: Path) -> set[str]:
    found: set[str] = set()
    for folder in STORED_FOLDERS:
        for directory, _, names in os.walk(root / folder):
            relative = Path(directory).relative_to(root).as_posix()
            found.update(f"{relative}/{name}" for name in names)
    return found


def check_orphans(summary: Summary, snapshot: Snapshot, storage_dir: Path, files: set[str]) -> None:
    used_images = {
        str(task[column])
        for task in snapshot.tasks
        for column in ("result_image_id", "reference_image_id", "second_image_id")
        if task[column] is not None
    }
    orphan_rows = [
        str(image["id"]) for image in snapshot.images if str(image["id"]) not in used_images
    ]
    referenced = {
        str(key)
        for image in snapshot.images
        if str(image["id"]) in used_images
        for key in (image["blob_key"], image["thumbnail_key"])
        if key
    } | {str(task["preview_key"]) for task in snapshot.tasks if task["preview_key"]}
    orphan_files = files - referenced
    missing = {key for key in referenced if key not in files}
    summary.orphans = len(orphan_rows) + len(orphan_files)
    if orphan_rows:
        summary.problem(f"stored_image rows no task uses: {examples(orphan_rows)}")
    if orphan_files:
        by_folder = Counter(name.split("/")[0] for name in orphan_files)
        summary.problem(f"files no task uses {dict(by_folder)}: {examples(orphan_files)}")
    if missing:
        summary.unreadable += len(missing)
        summary.problem(f"files the database names but {storage_dir} lacks: {examples(missing)}")


async def verify_storage(summary: Summary, snapshot: Snapshot, storage_dir: Path) -> None:
    files = await asyncio.to_thread(stored_files, storage_dir)
    check_orphans(summary, snapshot, storage_dir, files)


def check_cancels(summary: Summary, snapshot: Snapshot, log: CancelLog) -> None:
    """A cancellation the API confirmed must be how the task ended."""
    rows = snapshot.by_id
    contradicted = [
        f"{task_id} ended {rows[task_id]['status']}"
        for task_id in log.confirmed
        if task_id in rows and rows[task_id]["status"] != "CANCELLED"
    ]
    summary.cancel_errors = len(contradicted) + len(log.errors)
    for text in [*contradicted, *log.errors][:SHOWN]:
        summary.problem(f"cancellation: {text}")
    summary.note(f"cancellations: {len(log.confirmed)} confirmed, {log.too_late} too late")
