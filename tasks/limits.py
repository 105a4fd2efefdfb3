"""Admission limits: a per-caller rate, a cap on a caller's unfinished tasks, and a global queue cap."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from tasks.errors import DomainError
from tasks.store.history import admission_counts


class Refused(DomainError):
    """A request refused for now; `retry_after` says when trying again makes sense."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code, "retryAfter": self.retry_after}


class RateLimited(Refused):
    code = "RATE_LIMITED"


class TooManyUnfinished(Refused):
    code = "TOO_MANY_TASKS"


class QueueFull(Refused):
    code = "QUEUE_FULL"


@dataclass(frozen=True)
class SubmissionLimits:
    rate_per_minute: float = 60.0
    burst: int = 20
    max_unfinished_per_owner: int = 100
    max_queue_depth: int = 10_000


@dataclass
class Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Per-owner token buckets of this replica (each replica enforces the rate on its own)."""

    MAX_OWNERS = 100_000

    def __init__(self, rate_per_minute: float, burst: int) -> None:
        self._rate = rate_per_minute / 60.0
        self._burst = float(burst)
        self._buckets: dict[str, Bucket] = {}

    def _bucket(self, owner: str, now: float) -> Bucket:
        bucket = self._buckets.get(owner)
        if bucket is None:
            if len(self._buckets) >= self.MAX_OWNERS:
                self._forget_full(now)
            bucket = self._buckets[owner] = Bucket(tokens=self._burst, updated=now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        return bucket

    def _forget_full(self, now: float) -> None:
        for owner, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self._rate >= self._burst:
                del self._buckets[owner]

    def wait_for(self, owner: str, cost: int = 1) -> float:
        """Seconds until `cost` tokens are there (0: now)."""
        bucket = self._bucket(owner, time.monotonic())
        missing = cost - bucket.tokens
        return 0.0 if missing <= 0 else missing / self._rate if self._rate else math.inf

    def take(self, owner: str, cost: int = 1) -> None:
        self._bucket(owner, time.monotonic()).tokens -= cost


class Admission:
    def __init__(self, limits: SubmissionLimits) -> None:
        self._limits = limits
        self._buckets = TokenBuckets(limits.rate_per_minute, limits.burst)

    def check_rate(self, owner: str, count: int) -> None:
        wait = self._buckets.wait_for(owner, count)
        if wait > 0:
            raise RateLimited(
                f"Too many requests: at most {self._limits.rate_per_minute:g} tasks a minute "
                f"(bursts of {self._limits.burst}).",
                wait,
            )

    async def admit(self, owner: str, count: int) -> None:
        """Check every limit for `count` new tasks, then spend the rate."""
        self.check_rate(owner, count)
        unfinished, pending = await admission_counts(owner)
        if unfinished + count > self._limits.max_unfinished_per_owner:
            raise TooManyUnfinished(
                f"You have {unfinished} unfinished tasks; the limit is "
                f"{self._limits.max_unfinished_per_owner}. Wait for some to finish.",
                10,
            )
        if pending + count > self._limits.max_queue_depth:
            raise QueueFull(f"The queue is full ({pending} tasks waiting); try again shortly.", 30)
        self._buckets.take(owner, count)
