"""BlobLinks: the URL a client downloads a stored blob from, chosen once with the store.

- ServedLinks: the API serves the blob itself ('<base_url><route>/<key>', e.g. /files/...).
- StoreLinks: the store hands out its own links (an S3 bucket's presigned GET URLs, signed anew
  on every call, or its public URLs); the API is not in the download path.
"""

from __future__ import annotations

from typing import Protocol

from storage.keys import validate_key


class BlobLinks(Protocol):
    @property
    def link_life(self) -> float | None:
        """Seconds a link handed out stays good; None: for good."""
        ...

    async def url_for(self, key: str, base_url: str) -> str:
        """A URL that downloads the blob under `key` (not checked to exist). `base_url` is where
        the caller reaches the API (no trailing '/'), for links the API serves itself."""
        ...

    def url_now(self, key: str, base_url: str) -> str | None:
        """The same URL when it is made without waiting (a link the API serves itself), else
        None: `url_for` signs it."""
        ...


class LinkingStore(Protocol):
    @property
    def link_life(self) -> float | None: ...

    async def url_for(self, key: str) -> str: ...


class ServedLinks:
    def __init__(self, route: str) -> None:
        self._route = "/" + route.strip("/")

    @property
    def link_life(self) -> float | None:
        return None

    async def url_for(self, key: str, base_url: str) -> str:
        return self.url_now(key, base_url)

    def url_now(self, key: str, base_url: str) -> str:
        return f"{base_url}{self._route}/{validate_key(key)}"


class StoreLinks:
    def __init__(self, store: LinkingStore) -> None:
        self._store = store

    @property
    def link_life(self) -> float | None:
        return self._store.link_life

    async def url_for(self, key: str, base_url: str) -> str:
        return await self._store.url_for(key)

    def url_now(self, key: str, base_url: str) -> None:
        return None
