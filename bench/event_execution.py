"""One progress event's payload, as the relay makes it once per pass, warm and with the caches
evicted, beside the least work that writes the same text.

The relay executes a running task's event once for all the subscribers of one tail
(`SubscriptionRelay.payload_at_once`: the update made from the event, graphql-core's execution
of the subscription document with the service's executor, the JSON). Live, one pass follows the
last by a sampler step (0.25 s in `relay_latency`), with ComfyUI's (here the emulator's) pixel
work and the subscribers' reads in between, so the pass finds the code and data it touches out
of the caches. This measures both ways for `bench.service.PROGRESS`, the document the relay
benchmark's subscribers send:

- **warm**: one event after another;
- **cold**: each event after a walk over a buffer larger than the machine's caches.

Beside it, a **floor**: a plain function writing the very same text from the event (fields read
off its snapshot, the preview's link made as the resolver makes it, the same JSON encoder): the
least any way of executing that document must do. The difference is what a cheaper execution of
the event (a serializer compiled per document, say) could save per pass, at most.

    python -m bench.event_execution [--events 3000] [--cold 300] [--evict-mib 64]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import cast

from bench import stats
from bench.runner import save_report
from bench.service import PROGRESS
from graphql_api.context import RequestContext
from graphql_api.encoding import json_text
from graphql_api.schema import build_schema
from graphql_api.subscriptions import TaskUpdate
from graphql_api.types import Task, preview_link, shown_progress
from storage.links import ServedLinks
from tasks.service import Services
from tasks.status import TaskStatus
from tasks.store.snapshots import EventKind, TaskEvent, TaskSnapshot

TASK_ID = uuid.uuid4()
OWNER = "bench"
PUBLIC_URL = "http://127.0.0.1:8000"


def running_snapshot(step: int) -> TaskSnapshot:
    """A running task at `step` of 20, with a preview, as the relay benchmark's tasks are."""
    now = datetime.now(UTC)
    return TaskSnapshot(
        id=TASK_ID,
        owner=OWNER,
        sequence=step + 2,
        status=TaskStatus.PROCESSING,
        workflow="flux-kontext-dev",
        description="change the car to red, keep the background",
        parameters={"steps": 20},
        seed="42",
        reference_image_id=uuid.uuid4(),
        second_image_id=None,
        result_image_id=None,
        rerun_of_id=None,
        batch_id=None,
        batch_index=0,
        step=step,
        total_steps=20,
        progress=step * 100 / 21,
        current_node="31",
        preview_key=f"previews/{TASK_ID}.jpg",
        estimated_finish_at=now,
        backend="http://127.0.0.1:8188",
        prompt_id=str(uuid.uuid4()),
        attempts=1,
        requeue_reason=None,
        error_code=None,
        error_message=None,
        error_details=None,
        created_at=now,
        updated_at=now,
        deadline_at=None,
        started_at=now,
        finished_at=None,
    )


def progress_events(count: int) -> list[TaskEvent]:
    first = running_snapshot(1)
    return [
        TaskEvent(
            TASK_ID,
            OWNER,
            first.sequence + index,
            EventKind.PROGRESS,
            TaskStatus.PROCESSING,
            task=dataclasses.replace(first, sequence=first.sequence + index, step=1 + index % 20),
        )
        for index in range(count)
    ]


def least_work(event: TaskEvent, context: RequestContext) -> str:
    """The text the relay writes for `PROGRESS`, from a running task's event, and nothing else."""
    task = event.task
    assert task is not None
    return json_text(
        {
            "data": {
                "taskProgress": {
                    "sequence": event.sequence,
                    "kind": event.kind.value,
                    "status": task.status.value,
                    "step": task.step,
                    "totalSteps": task.total_steps,
                    "progress": shown_progress(task.progress),
                    "currentNode": task.current_node,
                    "queuePosition": None,
                    "previewUrl": preview_link(Task.from_row(task), context),
                    "result": None,
                    "error": None,
                }
            }
        }
    )


def evict(buffer: bytearray) -> None:
    """Touch one byte of every cache line of a buffer larger than the caches."""
    buffer[::64] = bytes(len(range(0, len(buffer), 64)))


def timed_in_turn(
    sides: dict[str, Callable[[TaskEvent], object]],
    events: list[TaskEvent],
    buffer: bytearray | None,
) -> dict[str, list[float]]:
    """Seconds per event for each side, the sides taking turns event by event (so the machine's
    moods reach both alike); each call after an eviction when `buffer` is given."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for event in events:
        for name, make in sides.items():
            if buffer is not None:
                evict(buffer)
            start = time.perf_counter()
            make(event)
            times[name].append(time.perf_counter() - start)
    return times


def microseconds(times: list[float]) -> float:
    """The median, in µs."""
    return stats.percentile(times, 0.50) * 1e6


async def measure(events: int, cold: int, evict_mib: int) -> dict[str, float]:
    api = build_schema()
    plan = api.relay.plan(PROGRESS, {"id": str(TASK_ID)}, None)
    assert plan is not None, "the relay runs the benchmark's subscription"
    context = RequestContext(
        services=cast(Services, None),
        owner=OWNER,
        public_url=PUBLIC_URL,
        links=ServedLinks("/files"),
    )
    tail = api.relay.tail_of(plan, context)

    def relayed(event: TaskEvent) -> str | None:
        return api.relay.payload_at_once(plan, context, tail, TaskUpdate.later, event)

    def floor(event: TaskEvent) -> str:
        return least_work(event, context)

    sample, *stream = progress_events(events + cold + 1)
    executed = relayed(sample)
    if executed is None or executed != floor(sample):
        raise SystemExit(
            f"the floor must write what the relay writes:\n{executed}\n{floor(sample)}"
        )
    sides: dict[str, Callable[[TaskEvent], object]] = {"relay": relayed, "floor": floor}
    warm = timed_in_turn(sides, stream[:events], None)
    cold_times = timed_in_turn(sides, stream[events:], bytearray(evict_mib * 1024 * 1024))
    return {
        f"{name}_{mode}_us": microseconds(times[name])
        for mode, times in (("warm", warm), ("cold", cold_times))
        for name in sides
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=3000, help="events timed warm")
    parser.add_argument("--cold", type=int, default=300, help="events timed cold")
    parser.add_argument("--evict-mib", type=int, default=64, help="the buffer walked between")
    args = parser.parse_args()
    figures = asyncio.run(measure(args.events, args.cold, args.evict_mib))
    print(f"one progress event's payload for the relay benchmark's document ({PROGRESS!r:.40}…)")
    for mode in ("warm", "cold"):
        relay, floor = figures[f"relay_{mode}_us"], figures[f"floor_{mode}_us"]
        print(
            f"  {mode}: relay {relay:.1f} µs, floor {floor:.1f} µs (median):"
            f" {stats.ratio(relay, floor):.2f} x the floor, {relay - floor:.1f} µs above it"
        )
    print(f"  report: {save_report('event_execution', figures)}")


if __name__ == "__main__":
    main()
