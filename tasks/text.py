"""Text a request may carry into the database: no NUL characters (PostgreSQL text cannot hold
them) and no unpaired surrogates (they have no UTF-8 encoding)."""

from __future__ import annotations

import re

from tasks.errors import InvalidRequest, Problem

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str | None, field: str) -> Problem | None:
    """A BAD_TEXT problem naming the first unstorable character, or None when the text is fine."""
    if value is None:
        return None
    found = UNSTORABLE.search(value)
    if found is None:
        return None
    character = f"U+{ord(found.group()):04X}"
    return Problem(
        field,
        f"The text contains {character} at position {found.start()}, which cannot be stored "
        "(NUL characters and unpaired UTF-16 surrogates are not text).",
        "BAD_TEXT",
    )


def check_text(value: str | None, field: str) -> None:
    problem = text_problem(value, field)
    if problem is not None:
        raise InvalidRequest([problem])
