"""Custom scalars."""

from __future__ import annotations

from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from workflows.manifest import SEED_MAX


def serialize_seed(value: int) -> str:
    return str(value)


def parse_seed(value: object) -> int:
    """Accept an integer or a decimal string in 0..2^64-1; anything else is a GraphQL input error."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("Seed must be an integer or a decimal string.")
    text = str(value).strip()
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"Seed must be a whole number from 0 to {SEED_MAX}, got {value!r}.")
    seed = int(text)
    if seed > SEED_MAX:
        raise ValueError(f"Seed must be at most {SEED_MAX} (2^64-1), got {text}.")
    return seed


Seed = NewType("Seed", int)

SEED_SCALAR = strawberry.scalar(
    name="Seed",
    description=(
        "An unsigned 64-bit integer (0..18446744073709551615). Serialized as a decimal string so "
        "JavaScript clients keep every digit; accepted as a string or an integer."
    ),
    serialize=serialize_seed,
    parse_value=parse_seed,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {Seed: SEED_SCALAR}
