"""Prometheus metrics, in a registry owned by the application (no process-wide globals).

Durations are observed from task events as they happen; counts that the database or the backend
pool already know (tasks by status, queue depth, bytes stored, backend state) are read at scrape.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response

from tasks import (
    BackendPool,
    Broker,
    EventKind,
    TaskEvent,
    TaskStatus,
    bytes_by_kind,
    oldest_pending_age,
    tasks_by_status,
)

SECONDS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


class TaskMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.tasks = Gauge("kontext_tasks", "Tasks by status", ["status"], registry=r)
        self.queue_depth = Gauge("kontext_queue_depth", "Tasks waiting to start", registry=r)
        self.queue_wait = Histogram(
            "kontext_time_in_queue_seconds", "Created to started", buckets=SECONDS, registry=r
        )
        self.first_step = Histogram(
            "kontext_time_to_first_step_seconds",
            "Created to first sampler step",
            buckets=SECONDS,
            registry=r,
        )
        self.run_time = Histogram(
            "kontext_run_seconds", "Started to finished", ["status"], buckets=SECONDS, registry=r
        )
        self.end_to_end = Histogram(
            "kontext_end_to_end_seconds",
            "Created to finished",
            ["status"],
            buckets=SECONDS,
            registry=r,
        )
        self.finished = Counter(
            "kontext_tasks_finished", "Tasks that reached a final state", ["status"], registry=r
        )
        self.backend_connected = Gauge(
            "kontext_backend_connected", "Websocket connected", ["backend"], registry=r
        )
        self.backend_ready = Gauge(
            "kontext_backend_ready", "Connected and has every node type", ["backend"], registry=r
        )
        self.backend_running = Gauge(
            "kontext_backend_running", "Prompts running", ["backend"], registry=r
        )
        self.backend_queued = Gauge(
            "kontext_backend_queued", "Prompts queued", ["backend"], registry=r
        )
        self.reconnects = Gauge(
            "kontext_backend_reconnects",
            "Websocket reconnects since start",
            ["backend"],
            registry=r,
        )
        self.subscriptions = Gauge(
            "kontext_active_subscriptions", "Live subscription streams", registry=r
        )
        self.bytes_stored = Gauge(
            "kontext_bytes_stored", "Bytes of stored images", ["kind"], registry=r
        )
        self.webhooks = Counter(
            "kontext_webhook_attempts",
            "Webhook delivery attempts by result: sent (2xx), retried (will be tried again), "
            "failed (given up)",
            ["result"],
            registry=r,
        )
        self.webhook_oldest_pending = Gauge(
            "kontext_webhook_oldest_pending_seconds",
            "Age of the oldest webhook delivery not answered yet (0: none)",
            registry=r,
        )
        self.answers_given_again = Counter(
            "kontext_answers_given_again",
            "Query answers given again, not executed: the reads they were made from came back "
            "equal",
            registry=r,
        )
        self._first_step_seen: set[object] = set()

    def observe(self, event: TaskEvent) -> None:
        task = event.task
        if task is None:
            return
        if event.kind is EventKind.STATUS and event.status is TaskStatus.PROCESSING:
            self._observe(self.queue_wait, _seconds(task.created_at, task.started_at))
        elif (
            event.kind is EventKind.PROGRESS
            and task.step >= 1
            and task.id not in self._first_step_seen
        ):
            self._first_step_seen.add(task.id)
            self._observe(self.first_step, _seconds(task.created_at, task.updated_at))
        elif event.status.is_terminal and event.kind is EventKind.STATUS:
            self._first_step_seen.discard(task.id)
            status = event.status.value
            self.finished.labels(status).inc()
            self._observe(self.run_time.labels(status), _seconds(task.started_at, task.finished_at))
            self._observe(
                self.end_to_end.labels(status), _seconds(task.created_at, task.finished_at)
            )

    @staticmethod
    def _observe(histogram: Histogram, value: float | None) -> None:
        if value is not None:
            histogram.observe(value)

    def observe_webhook(self, result: str) -> None:
        self.webhooks.labels(result).inc()

    async def refresh(self, pool: BackendPool) -> None:
        self.webhook_oldest_pending.set(await oldest_pending_age())
        counts = await tasks_by_status()
        for status, count in counts.items():
            self.tasks.labels(status.value).set(count)
        self.queue_depth.set(counts[TaskStatus.PENDING])
        for kind, total in (await bytes_by_kind()).items():
            self.bytes_stored.labels(kind).set(total)
        for backend in pool.all:
            self.backend_connected.labels(backend.url).set(backend.connected)
            self.backend_ready.labels(backend.url).set(backend.ready)
            self.backend_running.labels(backend.url).set(len(backend.running))
            self.backend_queued.labels(backend.url).set(len(backend.queued))
            self.reconnects.labels(backend.url).set(backend.reconnects)

    async def follow(self, broker: Broker) -> None:
        """Observe every task event of this replica until cancelled."""
        async with broker.subscribe(lambda event: event.local) as events:
            while True:
                self.observe(await events.next())


async def serve_metrics(request: Request) -> Response:
    services = request.state.services
    metrics: TaskMetrics = request.state.metrics
    await metrics.refresh(services.backends)
    body = await asyncio.to_thread(generate_latest, metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
