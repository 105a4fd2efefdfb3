"""When a failed webhook delivery is tried again, and when it is given up."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tasks.store.webhook_models import WebhookDelivery


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter (a random wait in the upper half of one that doubles each
    time, from `base_seconds` up to `max_seconds`) for `window_seconds` after the event; then the
    delivery is given up."""

    window_seconds: float = 86_400.0
    base_seconds: float = 5.0
    max_seconds: float = 3_600.0

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Seconds before the next try, after `attempts` failed ones (1 or more)."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** min(attempts - 1, 32))
        return rng.uniform(ceiling / 2, ceiling)

    def next_attempt(
        self, delivery: WebhookDelivery, now: datetime, rng: random.Random
    ) -> datetime | None:
        """When to try again after a failed attempt, or None once past the retry window."""
        due = now + timedelta(seconds=self.delay(delivery.attempts + 1, rng))
        end = delivery.created_at + timedelta(seconds=self.window_seconds)
        return due if due <= end else None
