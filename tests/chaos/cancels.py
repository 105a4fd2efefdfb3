"""Cancelling some accepted tasks a moment after they were accepted, as impatient users do; the
request is retried while the API is down, like submissions."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

CANCEL = """mutation($id: ID!) { cancelTask(id: $id) { id status } }"""
RETRY_SECONDS = 0.2


@dataclass
class CancelLog:
    confirmed: set[str] = field(default_factory=set)
    too_late: int = 0
    errors: list[str] = field(default_factory=list)


class Canceller:
    def __init__(self, *, deadline: float) -> None:
        self._deadline = deadline
        self.log = CancelLog()

    async def cancel_later(self, http: httpx.AsyncClient, task_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        while time.monotonic() < self._deadline:
            try:
                response = await http.post(
                    "/graphql", json={"query": CANCEL, "variables": {"id": task_id}}
                )
                body: dict[str, Any] = response.json()
            except (httpx.TransportError, ValueError):
                await asyncio.sleep(RETRY_SECONDS)
                continue
            self._record(task_id, body)
            return
        self.log.errors.append(f"{task_id}: the API never answered the cancellation")

    def _record(self, task_id: str, body: dict[str, Any]) -> None:
        task = (body.get("data") or {}).get("cancelTask")
        if task is not None and task["status"] == "CANCELLED":
            self.log.confirmed.add(task_id)
            return
        codes = [error.get("extensions", {}).get("code") for error in body.get("errors") or []]
        if codes == ["INVALID_STATE"] or task is not None:
            self.log.too_late += 1  # it had finished already
            return
        self.log.errors.append(f"{task_id}: {body.get('errors')}")
