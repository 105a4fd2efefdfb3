"""Hypothesis strategies for the variables of every operation: mostly well-typed values at and
around the limits, sometimes any JSON at all (type confusion), and hostile text throughout.

Ids of rows the test created are drawn as placeholders ("{{pending-task}}", …) that the test
swaps for the real ids (`with_known`), so strategies stay plain values and `@example` works.
Image sources and whole generateImage inputs are in source_strategies.py.
"""

from __future__ import annotations

import base64
import functools
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from workflows.registry import load_templates

PENDING_TASK = "{{pending-task}}"
FINISHED_TASK = "{{finished-task}}"
IMAGE = "{{image}}"
CURSOR = "{{cursor}}"
PLACEHOLDERS = (PENDING_TASK, FINISHED_TASK, IMAGE)
STATUSES = ("PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED")

SPECIAL_TEXTS = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfff",
    "%",
    "_",
    "%_%",
    "\\",
    "' OR '1'='1' --",
    "\u202eevil",
    "🦊🚗",
    "\r\n",
    "${jndi:ldap://127.0.0.1/a}",
    "{{7*7}}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "\ufeff",
    "a" * 129,
    "é" * 2001,
)


def mostly(
    strategy: st.SearchStrategy[Any], other: st.SearchStrategy[Any], odds: int = 9
) -> st.SearchStrategy[Any]:
    """`strategy` about `odds` times in `odds + 1`, else `other`."""
    return st.integers(0, odds).flatmap(lambda n: other if n == 0 else strategy)


def hostile_text(max_size: int = 40) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(SPECIAL_TEXTS),
        st.text(max_size=max_size),
        st.text(st.characters(categories=["Cs", "Cc", "Zs", "So", "Mn"]), max_size=6),
    )


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(),
        hostile_text(12),
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(hostile_text(8), inner, max_size=3)
        ),
        max_leaves=6,
    )


def loosely(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly `strategy`, sometimes any JSON value (a wrong type for the field)."""
    return mostly(strategy, json_values())


def variables_of(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A variables object: mostly `strategy`, sometimes an object of unrelated names."""
    return mostly(strategy, st.dictionaries(hostile_text(8), json_values(), max_size=3), odds=12)


def uuid_spellings() -> st.SearchStrategy[str]:
    def spelled(value: uuid.UUID, form: int) -> str:
        return (
            str(value),
            str(value).upper(),
            value.hex,
            f"{{{value}}}",
            value.urn,
            f" {value} ",
        )[form]

    return st.builds(spelled, st.uuids(), st.integers(0, 5))


def ids() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(PLACEHOLDERS),
        uuid_spellings(),
        st.sampled_from(["", "0", "-1", "null", "00000000-0000-0000-0000-000000000000"]),
        hostile_text(),
        st.integers(-(2**40), 2**40),
    )


def integers_around(low: int, high: int) -> st.SearchStrategy[Any]:
    edges = [low - 1, low, high, high + 1, 0, -1, 2**31 - 1, 2**31, -(2**31) - 1, 2**53 + 1]
    return st.one_of(
        st.integers(low - 3, high + 3),
        st.sampled_from(edges),
        st.floats(low - 2, high + 2).map(lambda x: float(round(x))),
        st.floats(low - 2, high + 2),
    )


def floats_around(low: float, high: float) -> st.SearchStrategy[Any]:
    edges = [low, high, low - 1e-9, high + 1e-9, -0.0, 1e308, float("nan"), float("inf"), -1e308]
    return st.one_of(
        st.floats(low - 1, high + 1), st.sampled_from(edges), st.integers(-3, int(high) + 3)
    )


def seeds() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.integers(-3, 2**64 + 3),
        st.integers(0, 2**64 + 3).map(str),
        st.sampled_from(
            ["", " 7 ", "0x10", "1e3", "١٢٣", "+1", "-0", "00012", "18446744073709551616"]
        ),
        st.booleans(),
        st.floats(),
    )


@functools.cache
def template_choices() -> Mapping[str, Sequence[str]]:
    template = load_templates().get_default()
    return {p.name: tuple(p.choices) for p in template.parameters if p.choices}


def choices_of(name: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(template_choices()[name]), hostile_text(12))


def generation_parameters() -> st.SearchStrategy[Any]:
    fields = {
        "steps": loosely(integers_around(1, 150)),
        "cfg": loosely(floats_around(0.0, 100.0)),
        "guidance": loosely(floats_around(0.0, 100.0)),
        "seed": seeds(),
        "sampler": loosely(choices_of("sampler")),
        "scheduler": loosely(choices_of("scheduler")),
        "denoise": loosely(floats_around(0.0, 1.0)),
    }
    return mostly(st.one_of(st.none(), st.fixed_dictionaries({}, optional=fields)), json_values())


def offsets() -> st.SearchStrategy[timezone | None]:
    return st.none() | st.timedeltas(
        min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59)
    ).map(timezone)


def cursor_texts() -> st.SearchStrategy[str]:
    """Cursors shaped like the ones handed out, over the whole datetime range and any offset."""
    moments = st.builds(
        lambda moment, zone: moment.replace(tzinfo=zone),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
        offsets(),
    )
    raw = st.builds(lambda m, u: f"{m.isoformat()}|{u}", moments, st.uuids())
    odd = st.builds(lambda a, b: f"{a}|{b}", hostile_text(20), hostile_text(20))
    return st.one_of(raw, raw, odd).map(
        lambda text: base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode()
    )


def status_lists() -> st.SearchStrategy[Any]:
    names = st.sampled_from([*STATUSES, "RUNNING", "pending", "", "COMPLETED "])
    return loosely(st.lists(mostly(st.sampled_from(STATUSES), names, odds=3), max_size=6))


def history_variables() -> st.SearchStrategy[Any]:
    after = st.one_of(st.none(), st.just(CURSOR), cursor_texts(), hostile_text(60))
    return st.fixed_dictionaries(
        {},
        optional={
            "first": loosely(integers_around(1, 100)),
            "after": loosely(after),
            "status": st.one_of(st.none(), status_lists()),
            "search": st.one_of(st.none(), loosely(hostile_text(210))),
        },
    )


def with_known(value: Any, known: Mapping[str, str]) -> Any:
    """`value` with every placeholder string replaced by the real id it stands for."""
    if isinstance(value, str):
        return known.get(value, value)
    if isinstance(value, list):
        return [with_known(item, known) for item in value]
    if isinstance(value, dict):
        return {key: with_known(item, known) for key, item in value.items()}
    return value
