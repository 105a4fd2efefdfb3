"""Timestamps the database can order by."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current UTC time, always with a non-zero microsecond part.

    SQLite keeps datetimes as ISO text, and Python drops ".000000" when the microsecond is 0,
    which would break the text ordering that history cursors rely on.
    """
    now = datetime.now(UTC)
    return now if now.microsecond else now.replace(microsecond=1)
