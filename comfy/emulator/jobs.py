"""The /api/jobs view: running, pending and finished prompts as one list of jobs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from comfy.emulator.prompt_queue import HistoryEntry, PromptQueue, QueueItem

PENDING, IN_PROGRESS, COMPLETED, FAILED = "pending", "in_progress", "completed", "failed"
ALL_STATUSES = (PENDING, IN_PROGRESS, COMPLETED, FAILED)
PREVIEWABLE = frozenset({"images", "video", "audio"})
THREE_D = (".obj", ".fbx", ".gltf", ".glb")
FINAL_EVENTS = ("execution_success", "execution_error", "execution_interrupted")

Job = dict[str, Any]


class BadJobQuery(Exception):
    """A filter ComfyUI refuses with 400 {"error": message}."""


@dataclass(frozen=True)
class JobQuery:
    statuses: tuple[str, ...] = ALL_STATUSES
    workflow_id: str | None = None
    sort_by: str = "created_at"
    descending: bool = True
    limit: int | None = None
    offset: int = 0

    @classmethod
    def parse(cls, query: dict[str, str]) -> JobQuery:
        return cls(
            statuses=_statuses(query.get("status")),
            workflow_id=query.get("workflow_id") or None,
            sort_by=_choice(query, "sort_by", "created_at", ("created_at", "execution_duration")),
            descending=_choice(query, "sort_order", "desc", ("asc", "desc")) == "desc",
            limit=_limit(query),
            offset=_offset(query),
        )


def list_jobs(queue: PromptQueue, query: JobQuery) -> tuple[list[Job], int]:
    jobs = _collect(queue, query.statuses)
    if query.workflow_id:
        jobs = [job for job in jobs if job.get("workflow_id") == query.workflow_id]
    jobs.sort(key=_sort_key(query.sort_by), reverse=query.descending)
    total = len(jobs)
    jobs = jobs[query.offset :] if query.offset > 0 else jobs
    return (jobs if query.limit is None else jobs[: query.limit]), total


def find_job(queue: PromptQueue, prompt_id: str) -> Job | None:
    entry = queue.all_history().get(prompt_id)
    if entry is not None:
        return from_history(prompt_id, entry, detailed=True)
    for status, items in ((IN_PROGRESS, queue.running()), (PENDING, queue.pending())):
        for item in items:
            if item.prompt_id == prompt_id:
                return from_queue(item, status)
    return None


def from_queue(item: QueueItem, status: str) -> Job:
    create_time, workflow_id = _metadata(item.extra_data)
    return _pruned(
        id=item.prompt_id,
        status=status,
        priority=item.number,
        create_time=create_time,
        outputs_count=0,
        workflow_id=workflow_id,
    )


def from_history(prompt_id: str, entry: HistoryEntry, detailed: bool = False) -> Job:
    priority, _, prompt, extra_data, _ = entry["prompt"]
    create_time, workflow_id = _metadata(extra_data)
    status_info = entry.get("status") or {}
    failed = status_info.get("status_str") == "error"
    outputs = entry.get("outputs", {})
    count, preview = _outputs_summary(outputs)
    started, ended, error = _timeline(status_info.get("messages", []))
    job = _pruned(
        id=prompt_id,
        status=FAILED if failed else COMPLETED,
        priority=priority,
        create_time=create_time,
        execution_start_time=started,
        execution_end_time=ended,
        execution_error=error,
        outputs_count=count,
        preview_output=preview,
        workflow_id=workflow_id,
    )
    if detailed:
        job["outputs"] = outputs
        job["execution_status"] = status_info
        job["workflow"] = {"prompt": prompt, "extra_data": extra_data}
    return job


def _collect(queue: PromptQueue, statuses: tuple[str, ...]) -> list[Job]:
    jobs: list[Job] = []
    if IN_PROGRESS in statuses:
        jobs.extend(from_queue(item, IN_PROGRESS) for item in queue.running())
    if PENDING in statuses:
        jobs.extend(from_queue(item, PENDING) for item in queue.pending())
    for prompt_id, entry in queue.all_history().items():
        failed = (entry.get("status") or {}).get("status_str") == "error"
        if (FAILED if failed else COMPLETED) in statuses:
            jobs.append(from_history(prompt_id, entry))
    return jobs


def _timeline(messages: list[Any]) -> tuple[Any, Any, Any]:
    started = ended = error = None
    for event, data in (entry for entry in messages if len(entry) >= 2):
        if event == "execution_start":
            started = data.get("timestamp")
        elif event in FINAL_EVENTS:
            ended = data.get("timestamp")
            error = data if event == "execution_error" else error
    return started, ended, error


def _outputs_summary(outputs: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    count, preview, fallback = 0, None, None
    for node_id, node_outputs in outputs.items():
        for media_type, items in node_outputs.items():
            if media_type == "animated" or not isinstance(items, list):
                continue
            for item in (entry for entry in items if isinstance(entry, dict)):
                count += 1
                if preview is not None or not _previewable(media_type, item):
                    continue
                enriched = {**item, "nodeId": node_id, "mediaType": media_type}
                if item.get("type") == "output":
                    preview = enriched
                elif fallback is None:
                    fallback = enriched
    return count, preview or fallback


def _previewable(media_type: str, item: dict[str, Any]) -> bool:
    shown = str(item.get("format", ""))
    name = str(item.get("filename", "")).lower()
    return (
        media_type in PREVIEWABLE
        or shown.startswith(("video/", "audio/"))
        or name.endswith(THREE_D)
    )


def _metadata(extra_data: dict[str, Any]) -> tuple[Any, Any]:
    pnginfo = extra_data.get("extra_pnginfo", {})
    workflow = pnginfo.get("workflow", {}) if isinstance(pnginfo, dict) else {}
    return extra_data.get("create_time"), workflow.get("id") if isinstance(workflow, dict) else None


def _sort_key(sort_by: str) -> Any:
    if sort_by == "execution_duration":
        return _duration
    return lambda job: job.get("create_time", 0)


def _duration(job: Job) -> Any:
    start, end = job.get("execution_start_time", 0), job.get("execution_end_time", 0)
    return end - start if end and start else 0


def _pruned(**fields: Any) -> Job:
    return {key: value for key, value in fields.items() if value is not None}


def _statuses(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ALL_STATUSES
    wanted = [part.strip().lower() for part in raw.split(",") if part.strip()]
    invalid = [status for status in wanted if status not in ALL_STATUSES]
    if invalid:
        raise BadJobQuery(
            f"Invalid status value(s): {', '.join(invalid)}. "
            f"Valid values: {', '.join(ALL_STATUSES)}"
        )
    return tuple(wanted)


def _choice(query: dict[str, str], key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = query.get(key, default).lower()
    if value not in allowed:
        raise BadJobQuery(f"{key} must be '{allowed[0]}' or '{allowed[1]}'")
    return value


def _limit(query: dict[str, str]) -> int | None:
    if "limit" not in query:
        return None
    try:
        limit = int(query["limit"])
    except ValueError as exc:
        raise BadJobQuery("limit must be an integer") from exc
    if limit <= 0:
        raise BadJobQuery("limit must be a positive integer")
    return limit


def _offset(query: dict[str, str]) -> int:
    try:
        return max(0, int(query.get("offset", 0)))
    except ValueError as exc:
        raise BadJobQuery("offset must be an integer") from exc
