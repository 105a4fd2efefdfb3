"""Preset rows: an owner's own presets by name, how many, replaced, created, deleted."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from uuid import UUID

from tasks.store.clock import utc_now
from tasks.store.models import Preset
from workflows.template import ParameterValue

__all__ = [
    "Preset",
    "create_preset",
    "delete_preset",
    "preset_count",
    "presets_of",
    "replace_preset",
]


async def presets_of(owner: str) -> list[Preset]:
    """The owner's presets by name."""
    return await Preset.filter(owner=owner).order_by("name", "id")


async def preset_count(owner: str) -> int:
    return await Preset.filter(owner=owner).count()


async def replace_preset(
    owner: str, name: str, values: Mapping[str, ParameterValue]
) -> Preset | None:
    """Give the owner's preset `name` these values; None when there is no such preset."""
    updated = await Preset.filter(owner=owner, name=name).update(
        parameters=dict(values), updated_at=utc_now()
    )
    return await Preset.get_or_none(owner=owner, name=name) if updated else None


async def create_preset(owner: str, name: str, values: Mapping[str, ParameterValue]) -> Preset:
    """A new preset; a concurrent one of the same name makes it raise `DuplicateRow`."""
    now = utc_now()
    return await Preset.create(
        id=uuid.uuid4(),
        owner=owner,
        name=name,
        parameters=dict(values),
        created_at=now,
        updated_at=now,
    )


async def delete_preset(preset_id: UUID, owner: str) -> bool:
    """Delete the owner's preset; False when the owner has none with this id."""
    return bool(await Preset.filter(id=preset_id, owner=owner).delete())
