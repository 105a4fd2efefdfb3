"""The storage janitor: now and then, removes blobs that no row names and that are older than a
grace period, what a process killed between writing blobs and committing their rows left behind.

The grace period keeps it away from writes whose transaction has not committed yet; a request
that reuses a content-addressed input blob checks it again once committed (ImageIntake.ensure_blobs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.blobs import BlobStore
from tasks.background import repeat_every
from tasks.store.clock import utc_now
from tasks.store.images import referenced

logger = logging.getLogger(__name__)

SWEPT_PREFIXES = ("outputs/", "previews/", "inputs/", "thumbnails/")
BATCH = 500


@dataclass(frozen=True)
class JanitorSettings:
    interval_seconds: float = 600.0
    grace_seconds: float = 3600.0


class StorageJanitor:
    def __init__(self, blobs: BlobStore, settings: JanitorSettings | None = None) -> None:
        self._blobs = blobs
        self._settings = settings or JanitorSettings()

    async def run(self) -> None:
        await repeat_every(self._settings.interval_seconds, self._sweep_and_report, "storage sweep")

    async def _sweep_and_report(self) -> None:
        removed = await self.sweep()
        if removed:  # how many, never which: keys are the links to the images
            logger.warning("storage sweep removed %d blobs no row names", removed)

    async def sweep(self, now: datetime | None = None) -> int:
        """Remove the unreferenced blobs, and the partial writes, older than the grace period;
        returns how many."""
        cutoff = (now or utc_now()) - timedelta(seconds=self._settings.grace_seconds)
        removed = 0
        for prefix in SWEPT_PREFIXES:
            old = [blob.key async for blob in self._blobs.list(prefix) if blob.modified < cutoff]
            for start in range(0, len(old), BATCH):
                batch = old[start : start + BATCH]
                named = await referenced(batch)
                for key in batch:
                    if key not in named:
                        await self._blobs.delete(key)
                        removed += 1
            removed += await self._blobs.remove_partial_writes(prefix, cutoff)
        return removed
