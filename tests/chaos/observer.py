"""Watching the run from outside: which prompt id belonged to which task (read from the database
while the run goes on), and every prompt each emulator ran (read from its /history, which a
restart wipes, so it is read often and once more just before each kill)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.chaos.database import DATABASE_ERRORS, Probe

logger = logging.getLogger(__name__)

POLL_PROMPTS_SECONDS = 0.1
POLL_HISTORY_SECONDS = 0.5
HTTP_TIMEOUT = 5.0


@dataclass(frozen=True)
class PromptRun:
    """One prompt as an emulator's history told it."""

    backend: str
    prompt_id: str
    outcome: str  # success | error | interrupted
    started_at: datetime | None
    graph_hash: str


def read_history_entry(backend: str, prompt_id: str, entry: dict[str, Any]) -> PromptRun:
    status = entry.get("status") or {}
    messages = [m for m in status.get("messages", []) if isinstance(m, list) and len(m) >= 2]
    names = {m[0] for m in messages}
    started = next((m[1].get("timestamp") for m in messages if m[0] == "execution_start"), None)
    if "execution_interrupted" in names:
        outcome = "interrupted"
    else:
        outcome = "success" if status.get("status_str") == "success" else "error"
    graph = entry.get("prompt", [None, None, {}])[2]
    return PromptRun(
        backend=backend,
        prompt_id=prompt_id,
        outcome=outcome,
        started_at=datetime.fromtimestamp(started / 1000, UTC) if started else None,
        graph_hash=hashlib.sha256(json.dumps(graph, sort_keys=True).encode()).hexdigest(),
    )


@dataclass
class Observations:
    prompt_owner: dict[str, str] = field(default_factory=dict)
    runs: dict[tuple[str, str], PromptRun] = field(default_factory=dict)


class Observer:
    def __init__(self, probe: Probe, backends: Sequence[str]) -> None:
        self._probe = probe
        self._backends = list(backends)
        self.seen = Observations()

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http, asyncio.TaskGroup() as group:
            group.create_task(self._follow_prompts())
            group.create_task(self._follow_histories(http))

    async def _follow_prompts(self) -> None:
        while True:
            await self.record_prompts()
            await asyncio.sleep(POLL_PROMPTS_SECONDS)

    async def record_prompts(self) -> None:
        try:
            rows = await self._probe.fetch(
                "SELECT id, prompt_id FROM task WHERE prompt_id IS NOT NULL"
            )
        except DATABASE_ERRORS as exc:  # the schema may not exist yet; the next poll retries
            logger.debug("reading prompt ids failed: %s", exc)
            return
        for row in rows:
            self.seen.prompt_owner[str(row["prompt_id"])] = str(row["id"])

    async def _follow_histories(self, http: httpx.AsyncClient) -> None:
        while True:
            for backend in self._backends:
                await self.record_history(http, backend)
            await asyncio.sleep(POLL_HISTORY_SECONDS)

    async def record_history(self, http: httpx.AsyncClient, backend: str) -> None:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            history = (await http.get(f"{backend}/history")).json()
            for prompt_id, entry in history.items():
                if (backend, prompt_id) not in self.seen.runs:
                    run = read_history_entry(backend, prompt_id, entry)
                    self.seen.runs[(backend, prompt_id)] = run

    async def snapshot(self, backend: str) -> None:
        """Read one backend's history now (before it is killed and forgets it)."""
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            await self.record_history(http, backend)
        await self.record_prompts()
