"""What every answer to an attack must look like."""

from __future__ import annotations

from typing import Any

from tests.attack.footprint import Footprint
from tests.attack.wire import Reply, code_of

NEVER_CODES = frozenset({"INTERNAL_SERVER_ERROR", "FORBIDDEN"})


def shown(value: object, limit: int = 400) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def assert_coded_errors(errors: list[Any], sent: object) -> None:
    """Every error names a code, and none is an internal error or FORBIDDEN."""
    for error in errors:
        code = code_of(error)
        assert isinstance(code, str) and code, (
            f"an error without extensions.code: {shown(error)} for {shown(sent)}"
        )
        assert code not in NEVER_CODES, f"{code}: {shown(error)} for {shown(sent)}"
        extensions = error["extensions"]
        if "problems" in extensions:
            assert isinstance(extensions.get("reason"), str), f"no reason in {shown(error)}"
            assert isinstance(extensions.get("field"), str), f"no field in {shown(error)}"


def assert_answered(reply: Reply, sent: object) -> None:
    """No server error; a GraphQL-shaped JSON answer; a code on every error."""
    assert reply.status < 500, f"HTTP {reply.status} for {shown(sent)}: {reply.text[:500]}"
    assert isinstance(reply.body, dict), (
        f"HTTP {reply.status} ({reply.content_type}) is not a GraphQL JSON answer for "
        f"{shown(sent)}: {reply.text[:300]!r}"
    )
    assert reply.errors or "data" in reply.body, f"neither data nor errors: {reply.text[:300]}"
    assert_coded_errors(reply.errors, sent)


def assert_nothing_written(before: Footprint, after: Footprint, sent: object) -> None:
    changes = after.changes_since(before)
    assert not changes, f"a refused request wrote {changes} for {shown(sent)}"
