"""API keys: `kx_<id>_<secret>`. The id finds the row; only SHA-256 of the secret is stored.

The secret has 256 random bits, so a plain hash is as strong as a slow one here and keeps every
request's check cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tasks.store import keys
from tasks.store.clock import utc_now
from tasks.store.keys import ApiKey

PREFIX = "kx"
KEY_PATTERN = re.compile(r"^kx_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
ID_PATTERN = re.compile(r"^[a-z0-9]{12}$")
# `last used` is written at most this often per key, so a busy key costs no write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
OWNER_PATTERN = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


@dataclass(frozen=True)
class CreatedKey:
    id: str
    owner: str
    token: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_key(owner: str, name: str = "") -> CreatedKey:
    if not OWNER_PATTERN.match(owner):
        raise ValueError("owner: 1 to 64 letters, digits, '.', '_', '@' or '-'")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    await keys.insert_key(key_id, owner, name[:100], _hash(secret))
    return CreatedKey(id=key_id, owner=owner, token=f"{PREFIX}_{key_id}_{secret}")


@dataclass(frozen=True)
class KeyListing:
    """What `list-keys` shows of a key: never its secret."""

    id: str
    owner: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


async def live_key(token: str) -> ApiKey | None:
    """The unrevoked key row `token` is the key of, or None."""
    match = KEY_PATTERN.match(token.strip())
    if match is None:
        return None
    key_id, secret = match.groups()
    key = await keys.live_key_row(key_id)
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(secret)):
        return None
    return key


async def owner_of(token: str) -> str | None:
    """The owner a key belongs to, or None for anything that is not a live key; notes the use."""
    key = await live_key(token)
    if key is None:
        return None
    now = utc_now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        await keys.note_used(key.id, now)
    return key.owner


def key_id_of(key_or_id: str) -> str | None:
    """The key id named by a key id or by a whole key (`kx_<id>_<secret>`); None for neither."""
    text = key_or_id.strip()
    if ID_PATTERN.match(text):
        return text
    match = KEY_PATTERN.match(text)
    return match.group(1) if match else None


async def revoke_key(key_id: str) -> bool:
    return await keys.revoke(key_id)


async def list_keys(*, include_revoked: bool = False) -> list[KeyListing]:
    """Every key, oldest first (live ones only unless asked)."""
    return [
        KeyListing(
            id=key.id,
            owner=key.owner,
            name=key.name,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )
        for key in await keys.all_keys(include_revoked=include_revoked)
    ]
