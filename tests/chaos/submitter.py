"""Submitting through the GraphQL API the way a careful client does: every request carries an
idempotency key and is retried while the API is down or busy. A task counts as accepted only
once the API answered it with the task's id."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.chaos.cancels import Canceller
from tests.chaos.workload import TaskSpec

logger = logging.getLogger(__name__)

GENERATE = """mutation($input: GenerateImageInput!) {
  generateImage(input: $input) { replayed task { id status } } }"""
RETRYABLE_CODES = frozenset({"RATE_LIMITED", "TOO_MANY_TASKS", "QUEUE_FULL"})
BACKOFF_SECONDS = (0.05, 0.1, 0.2, 0.4, 0.8)
REQUEST_TIMEOUT = 20.0
MAX_SERVER_ERRORS = 5  # answers saying the server failed, per request, before giving up


@dataclass(frozen=True)
class Acceptance:
    spec: TaskSpec
    task_id: str
    replayed: bool
    tries: int


@dataclass
class SubmissionLog:
    accepted: dict[int, Acceptance] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)
    connection_retries: int = 0
    server_errors: list[str] = field(default_factory=list)
    replay_mismatches: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Answer:
    """What one POST gave: the task, a final refusal, or a reason to try again."""

    task_id: str | None = None
    replayed: bool = False
    refusal: str | None = None
    retry_reason: str | None = None
    retry_after: float = 0.0
    is_server_error: bool = False


def read_answer(response: httpx.Response) -> Answer:
    if response.status_code >= 500:
        return Answer(retry_reason=f"HTTP {response.status_code}", is_server_error=True)
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        return Answer(
            retry_reason=f"HTTP {response.status_code} without JSON", is_server_error=True
        )
    payload = (body.get("data") or {}).get("generateImage")
    if payload:
        return Answer(task_id=str(payload["task"]["id"]), replayed=bool(payload["replayed"]))
    errors = body.get("errors") or [{}]
    extensions = errors[0].get("extensions") or {}
    code = str(extensions.get("code", "UNKNOWN"))
    if code in RETRYABLE_CODES:
        return Answer(retry_reason=code, retry_after=float(extensions.get("retryAfter", 1)))
    if code in ("INTERNAL_SERVER_ERROR", "UNKNOWN"):
        return Answer(retry_reason=f"{code}: {errors[0].get('message')}", is_server_error=True)
    return Answer(refusal=f"{code}: {errors[0].get('message')}")


class Submitter:
    def __init__(self, api_url: str, images: list[str], *, deadline: float) -> None:
        self._api_url = api_url
        self._images = images
        self._deadline = deadline
        self.canceller = Canceller(deadline=deadline)
        self.log = SubmissionLog()
        self.in_flight = 0

    async def submit_all(self, specs: list[TaskSpec], workers: int, pace: float) -> None:
        """Send every spec, `workers` at a time, one new request every `pace` seconds at most."""
        queue: asyncio.Queue[TaskSpec] = asyncio.Queue()
        for spec in specs:
            queue.put_nowait(spec)
        async with (
            httpx.AsyncClient(base_url=self._api_url, timeout=REQUEST_TIMEOUT) as http,
            asyncio.TaskGroup() as group,
        ):
            for worker in range(workers):
                pacing = (pace * workers, worker * pace)
                group.create_task(self._work(http, queue, group, pacing))

    async def _work(
        self,
        http: httpx.AsyncClient,
        queue: asyncio.Queue[TaskSpec],
        group: asyncio.TaskGroup,
        pacing: tuple[float, float],
    ) -> None:
        gap, delay = pacing
        await asyncio.sleep(delay)
        while not queue.empty():
            spec = queue.get_nowait()
            started = time.monotonic()
            accepted = await self.submit(http, spec)
            if accepted is not None and spec.cancel_after is not None:
                group.create_task(
                    self.canceller.cancel_later(http, accepted.task_id, spec.cancel_after)
                )
            await asyncio.sleep(max(0.0, gap - (time.monotonic() - started)))

    async def submit(self, http: httpx.AsyncClient, spec: TaskSpec) -> Acceptance | None:
        variables = spec.variables(self._images)
        server_errors = 0
        for tries in range(1, 10_000):
            answer = await self._post(http, variables)
            if answer.task_id is not None:
                accepted = Acceptance(spec, answer.task_id, answer.replayed, tries)
                self.log.accepted[spec.index] = accepted
                return accepted
            server_errors += answer.is_server_error
            if answer.refusal is not None or server_errors >= MAX_SERVER_ERRORS:
                self.log.refused[spec.index] = answer.refusal or f"{answer.retry_reason}"
                return None
            if time.monotonic() > self._deadline:
                self.log.refused[spec.index] = f"gave up retrying: {answer.retry_reason}"
                return None
            pause = BACKOFF_SECONDS[min(tries, len(BACKOFF_SECONDS)) - 1]
            await asyncio.sleep(max(pause, min(answer.retry_after, 2.0)))
        return None

    async def _post(self, http: httpx.AsyncClient, variables: dict[str, Any]) -> Answer:
        self.in_flight += 1
        try:
            response = await http.post("/graphql", json={"query": GENERATE, "variables": variables})
        except httpx.TransportError as exc:
            # Refused while the API is down, or cut when it was killed mid-request.
            self.log.connection_retries += 1
            return Answer(retry_reason=type(exc).__name__)
        finally:
            self.in_flight -= 1
        answer = read_answer(response)
        if answer.is_server_error:
            self.log.server_errors.append(str(answer.retry_reason)[:120])
        return answer

    async def check_replays(self, accepted: list[Acceptance]) -> None:
        """Send accepted requests again: each must return its task, marked as replayed."""
        async with httpx.AsyncClient(base_url=self._api_url, timeout=REQUEST_TIMEOUT) as http:
            for original in accepted:
                again = await self.submit(http, original.spec)
                index = original.spec.index
                self.log.accepted[index] = original
                why = self.log.refused.pop(index, None)
                if again is None or again.task_id != original.task_id or not again.replayed:
                    answer = why or (again and f"task {again.task_id}, replayed={again.replayed}")
                    self.log.replay_mismatches.append(
                        f"{original.spec.idempotency_key}: {original.task_id} -> {answer}"
                    )
