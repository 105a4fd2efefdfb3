"""GET /api/jobs and GET /api/jobs/{id}."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from comfy.emulator.http_util import json_response
from comfy.emulator.jobs import BadJobQuery, JobQuery, find_job, list_jobs
from comfy.emulator.routes_prompt import emulator_of


async def get_jobs(request: Request) -> Response:
    try:
        query = JobQuery.parse(dict(request.query_params))
    except BadJobQuery as exc:
        return json_response({"error": str(exc)}, status=400)
    jobs, total = list_jobs(emulator_of(request).session.queue, query)
    pagination = {
        "offset": query.offset,
        "limit": query.limit,
        "total": total,
        "has_more": query.offset + len(jobs) < total,
    }
    return json_response({"jobs": jobs, "pagination": pagination})


async def get_job(request: Request) -> Response:
    job = find_job(emulator_of(request).session.queue, request.path_params["job_id"])
    if job is None:
        return json_response({"error": "Job not found"}, status=404)
    return json_response(job)
