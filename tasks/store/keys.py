"""API key rows: created with the hash of their secret, found by id, noted when used, revoked,
listed."""

from __future__ import annotations

from datetime import datetime

from tasks.store.clock import utc_now
from tasks.store.models import ApiKey

__all__ = ["ApiKey", "all_keys", "insert_key", "live_key_row", "note_used", "revoke"]


async def insert_key(key_id: str, owner: str, name: str, secret_hash: str) -> None:
    await ApiKey.create(
        id=key_id, owner=owner, name=name, secret_hash=secret_hash, created_at=utc_now()
    )


async def live_key_row(key_id: str) -> ApiKey | None:
    """The key with this id, unless it was revoked."""
    return await ApiKey.get_or_none(id=key_id, revoked_at=None)


async def note_used(key_id: str, when: datetime) -> None:
    await ApiKey.filter(id=key_id).update(last_used_at=when)


async def revoke(key_id: str) -> bool:
    """Revoke a live key; False when there is none with this id."""
    return bool(await ApiKey.filter(id=key_id, revoked_at=None).update(revoked_at=utc_now()))


async def all_keys(*, include_revoked: bool) -> list[ApiKey]:
    """Every key, oldest first (live ones only unless asked)."""
    query = ApiKey.all() if include_revoked else ApiKey.filter(revoked_at=None)
    return await query.order_by("created_at", "id")
