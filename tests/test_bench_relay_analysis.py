"""The relay benchmark's arithmetic: which frames count as a step's arrival, how subscribers
split over worker processes."""

from __future__ import annotations

import json
from typing import Any

from bench.emulation import SentFrame, step_stamps
from bench.relay_analysis import SAMPLER_NODE, StepArrival, step_arrivals, subscriber_delays
from bench.subscriber_pool import shares


def frame(stamp: float, kind: str, step: int = 0, node: str = SAMPLER_NODE) -> tuple[float, bytes]:
    update = {"kind": kind, "step": step, "currentNode": node}
    message = {"id": "1", "type": "next", "payload": {"data": {"taskProgress": update}}}
    return stamp, json.dumps(message).encode()


def test_each_sampler_step_counts_once_and_notes_a_preview_before_it() -> None:
    frames = [
        frame(1.0, "SNAPSHOT"),
        frame(2.0, "PROGRESS", step=1),
        frame(2.5, "PROGRESS", step=1),
        frame(2.6, "PROGRESS", step=1, node="8"),
        frame(2.7, "PREVIEW", step=1),
        frame(3.0, "PROGRESS", step=2),
    ]
    assert step_arrivals(frames) == [
        StepArrival(1, 2.0, after_preview=False),
        StepArrival(2, 3.0, after_preview=True),
    ]


def test_delays_are_arrival_minus_send_for_steps_that_were_sent() -> None:
    arrivals = [StepArrival(1, 2.0, False), StepArrival(2, 3.5, True), StepArrival(9, 9.0, False)]
    delays = subscriber_delays(arrivals, {1: 1.5, 2: 3.0})
    assert delays.plain == [0.5]
    assert delays.after_preview == [0.5]
    assert delays.count == 2


def test_subscribers_split_evenly_over_workers_and_never_into_empty_ones() -> None:
    assert shares(10_000, 4) == [2500, 2500, 2500, 2500]
    assert shares(10, 4) == [3, 3, 2, 2]
    assert shares(2, 4) == [1, 1]
    assert shares(5, 0) == [5]


def sent(stamp: float, kind: str, data: dict[str, Any], sid: str = "me") -> SentFrame:
    return SentFrame(stamp, sid, kind, data)


def sampler_state(value: Any, maximum: Any, state: str = "running") -> dict[str, Any]:
    entry = {"value": value, "max": maximum, "state": state, "node_id": SAMPLER_NODE}
    return {"prompt_id": "p", "nodes": {"39": {"value": 1.0, "max": 1.0}, SAMPLER_NODE: entry}}


def test_a_step_is_stamped_at_its_first_frame_and_a_server_without_progress_state_at_progress() -> (
    None
):
    progress = {"prompt_id": "p", "node": SAMPLER_NODE, "max": 2}
    frames = [
        sent(1.0, "progress_state", sampler_state(0.0, 1.0)),  # the sampler began: no step
        sent(2.0, "progress_state", sampler_state(1, 2)),
        sent(2.1, "progress", {**progress, "value": 1}),
        sent(2.2, "progress_state", sampler_state(1, 2), sid="other"),
        sent(3.0, "progress", {**progress, "value": 2}),  # no progress_state for this one
        sent(3.5, "progress_state", sampler_state(2, 2, state="finished")),
        sent(3.6, "progress", {**progress, "value": 1, "node": "8"}),  # another node's
    ]
    assert step_stamps(frames, "me", SAMPLER_NODE) == {("p", 1): 2.0, ("p", 2): 3.0}
