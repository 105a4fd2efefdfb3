"""What one subscriber's captured frames say: per-step delay from the emulator's send."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.stamped_ws import StampedConnection

SAMPLER_NODE = "31"  # the template's KSampler: its progress frames are the sampling steps


@dataclass
class StepDelays:
    """One subscriber's per-step delays, split by whether a PREVIEW event came just before the
    step (the service stores a preview before it handles the next frame)."""

    plain: list[float] = field(default_factory=list)
    after_preview: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.plain) + len(self.after_preview)


def subscriber_delays(connection: StampedConnection, sent: dict[int, float]) -> StepDelays:
    """Arrival of each sampler step at one subscriber minus its send time. A slow subscriber
    may get steps merged (by design), so some steps can be absent."""
    delays = StepDelays()
    seen: set[int] = set()
    preview_pending = False
    for stamp, message in connection.decoded():
        update = (message.get("payload") or {}).get("data", {}).get("taskProgress") or {}
        if update.get("kind") == "PREVIEW":
            preview_pending = True
        if update.get("kind") != "PROGRESS" or update.get("currentNode") != SAMPLER_NODE:
            continue
        step = int(update["step"])
        if step in sent and step not in seen:
            seen.add(step)
            bucket = delays.after_preview if preview_pending else delays.plain
            bucket.append(stamp - sent[step])
            preview_pending = False
    return delays
