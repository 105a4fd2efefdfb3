"""Presets: named sets of generation parameters. The built-in ones are defined here, once; an
owner's own are rows of their own, checked by the workflow's rules like any request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from uuid import UUID

from tasks.errors import BuiltInPreset, InvalidRequest, PresetNotFound, Problem
from tasks.requests import refused_parameters, text_problem
from tasks.store.atomic import DuplicateRow
from tasks.store.presets import (
    Preset,
    create_preset,
    delete_preset,
    preset_count,
    presets_of,
    replace_preset,
)
from workflows.parameters import InvalidParameters, check_given
from workflows.template import ParameterValue, WorkflowTemplate

MAX_NAME = 100
MAX_PRESETS_PER_OWNER = 100


@dataclass(frozen=True)
class PresetEntry:
    """A preset as callers see it: built-in or the owner's own, with only the values it sets."""

    id: str
    name: str
    built_in: bool
    parameters: Mapping[str, ParameterValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    @classmethod
    def of(cls, row: Preset) -> PresetEntry:
        return cls(id=str(row.id), name=row.name, built_in=False, parameters=row.parameters)


# Values within the default Kontext workflow's ranges (PresetBook checks them when it is made):
# fewer steps for a quick look, the template's own defaults, more steps and stronger guidance.
BUILT_IN_PRESETS: tuple[PresetEntry, ...] = (
    PresetEntry(
        "builtin-fast-draft",
        "Fast draft",
        True,
        {"steps": 8, "guidance": 2.5, "sampler": "euler", "scheduler": "simple"},
    ),
    PresetEntry(
        "builtin-balanced",
        "Balanced",
        True,
        {"steps": 20, "guidance": 2.5, "sampler": "euler", "scheduler": "simple"},
    ),
    PresetEntry(
        "builtin-strong-edit",
        "Strong edit",
        True,
        {"steps": 30, "guidance": 4.0, "sampler": "euler", "scheduler": "beta"},
    ),
)


class PresetBook:
    """The presets of each owner: the built-in ones, then the owner's own by name."""

    def __init__(self, template: WorkflowTemplate) -> None:
        self._template = template
        for preset in BUILT_IN_PRESETS:
            check_given(template, preset.parameters)
        self._built_in = {preset.id: preset for preset in BUILT_IN_PRESETS}

    async def of_owner(self, owner: str) -> list[PresetEntry]:
        own = await presets_of(owner)
        return [*BUILT_IN_PRESETS, *(PresetEntry.of(row) for row in own)]

    async def save(self, owner: str, name: str, parameters: Mapping[str, object]) -> PresetEntry:
        """Save the preset `name` of `owner`, replacing one of the same name."""
        name = self._checked_name(name)
        try:
            values = check_given(self._template, parameters)
        except InvalidParameters as exc:
            raise refused_parameters(exc) from exc
        row = await replace_preset(owner, name, values)
        if row is None:
            await self._check_room(owner)
            try:
                row = await create_preset(owner, name, values)
            except DuplicateRow:
                # A concurrent save of the same name created it first: this one replaces it.
                row = await replace_preset(owner, name, values)
                if row is None:
                    raise
        return PresetEntry.of(row)

    async def delete(self, owner: str, preset_id: str) -> str:
        built_in = self._built_in.get(preset_id)
        if built_in is not None:
            raise BuiltInPreset(built_in.name)
        try:
            key = UUID(preset_id)
        except ValueError as exc:
            raise InvalidRequest.single(
                "id", f"{preset_id!r} is not a valid id.", "BAD_ID"
            ) from exc
        if not await delete_preset(key, owner):
            raise PresetNotFound(preset_id)
        return preset_id

    def _checked_name(self, name: str) -> str:
        name = name.strip()
        problem = text_problem(name, "input.name")
        if problem is None and not name:
            problem = Problem("input.name", "A preset needs a name.", "EMPTY")
        if problem is None and len(name) > MAX_NAME:
            problem = Problem(
                "input.name", f"A preset name is limited to {MAX_NAME} characters.", "TOO_LONG"
            )
        if problem is None and name.casefold() in {p.name.casefold() for p in BUILT_IN_PRESETS}:
            problem = Problem(
                "input.name", f"{name!r} is the name of a built-in preset.", "RESERVED_NAME"
            )
        if problem is not None:
            raise InvalidRequest([problem])
        return name

    async def _check_room(self, owner: str) -> None:
        if await preset_count(owner) >= MAX_PRESETS_PER_OWNER:
            raise InvalidRequest.single(
                "input.name",
                f"You have {MAX_PRESETS_PER_OWNER} presets, the most one can keep; "
                "delete one or save under an existing name to replace it.",
                "LIMIT_REACHED",
            )
