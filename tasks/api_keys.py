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

from tasks.clock import utc_now
from tasks.models import ApiKey

PREFIX = "kx"
KEY_PATTERN = re.compile(r"^kx_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
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
    await ApiKey.create(
        id=key_id, owner=owner, name=name[:100], secret_hash=_hash(secret), created_at=utc_now()
    )
    return CreatedKey(id=key_id, owner=owner, token=f"{PREFIX}_{key_id}_{secret}")


async def owner_of(token: str) -> str | None:
    """The owner a key belongs to, or None for anything that is not a live key."""
    match = KEY_PATTERN.match(token.strip())
    if match is None:
        return None
    key_id, secret = match.groups()
    key = await ApiKey.get_or_none(id=key_id, revoked_at=None)
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(secret)):
        return None
    return key.owner


async def revoke_key(key_id: str) -> bool:
    return bool(await ApiKey.filter(id=key_id, revoked_at=None).update(revoked_at=utc_now()))
