"""What the service has written: rows and files, to prove a refused request wrote nothing."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tasks.store.models import ApiKey, Preset, StoredImage, Task

TIMED_OUT = "TIMED_OUT"


@dataclass(frozen=True)
class Footprint:
    tasks: int
    last_task_change: datetime | None
    """When a task last changed, except by timing out."""
    images: int
    keys: int
    presets: int
    last_preset_change: datetime | None
    files: frozenset[str]

    def changes_since(self, before: Footprint) -> list[str]:
        """What differs from an earlier footprint, in words (empty: nothing was written)."""
        changes = [
            f"{name}: {getattr(before, name)!r} -> {getattr(self, name)!r}"
            for name in ("tasks", "images", "keys", "presets")
            if getattr(before, name) != getattr(self, name)
        ]
        if later(self.last_task_change, before.last_task_change):
            changes.append(f"a task changed at {self.last_task_change}")
        if later(self.last_preset_change, before.last_preset_change):
            changes.append(f"a preset changed at {self.last_preset_change}")
        added, removed = sorted(self.files - before.files), sorted(before.files - self.files)
        if added:
            changes.append(f"files written: {added[:5]}")
        if removed:
            changes.append(f"files removed: {removed[:5]}")
        return changes


def later(moment: datetime | None, than: datetime | None) -> bool:
    return moment is not None and (than is None or moment > than)


def stored_files(root: Path) -> frozenset[str]:
    """Every file under the storage folder, temporary ones included."""
    found = set()
    for folder, _, names in os.walk(root):
        for name in names:
            found.add(os.path.relpath(os.path.join(folder, name), root))
    return frozenset(found)


async def footprint(storage_dir: Path) -> Footprint:
    """Read the footprint; call it with the service's database bound."""
    # The watchdog times tasks out in the background (fuzzed timeoutSeconds may be 1): those
    # changes are the service's own, not the request's.
    changed = Task.exclude(error_code=TIMED_OUT).order_by("-updated_at").limit(1)
    newest: list[datetime] = await changed.values_list("updated_at", flat=True)  # type: ignore[assignment]
    preset_changes: list[datetime] = await (  # type: ignore[assignment]
        Preset.all().order_by("-updated_at").limit(1).values_list("updated_at", flat=True)
    )
    return Footprint(
        tasks=await Task.all().count(),
        last_task_change=newest[0] if newest else None,
        images=await StoredImage.all().count(),
        keys=await ApiKey.all().count(),
        presets=await Preset.all().count(),
        last_preset_change=preset_changes[0] if preset_changes else None,
        files=await asyncio.to_thread(stored_files, storage_dir),
    )
