from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from tasks.errors import InvalidRequest
from tasks.store.history import Cursor

TASK = "00000000-0000-4000-8000-000000000000"


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_a_cursor_round_trips_as_a_utc_instant() -> None:
    moment = datetime(2026, 11, 29, 1, 2, 3, 456789, tzinfo=UTC)
    original = Cursor(created_at=moment, task_id=uuid4())
    assert Cursor.decode(original.encode()) == original


def test_an_offset_is_converted_to_utc() -> None:
    decoded = Cursor.decode(cursor(f"2026-01-01T12:00:00+02:00|{TASK}"))
    assert decoded.created_at == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert decoded.created_at.utcoffset() == timedelta(0)
    assert decoded.created_at.tzinfo == UTC


@pytest.mark.parametrize(
    "text",
    [
        f"2026-01-01T12:00:00|{TASK}",  # naive
        f"9999-12-31T23:59:59-14:00|{TASK}",  # past year 9999 in UTC
        f"0001-01-01T00:00:00+14:00|{TASK}",  # before year 1 in UTC
        f"9999-12-31T23:59:59.999999-00:01|{TASK}",
    ],
)
def test_times_without_an_offset_or_beyond_the_range_are_bad_cursors(text: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        Cursor.decode(cursor(text))
    assert caught.value.extensions["reason"] == "BAD_CURSOR"


def test_a_cursor_that_is_not_ascii_is_a_bad_cursor() -> None:
    with pytest.raises(InvalidRequest):
        Cursor.decode("\ud800")
