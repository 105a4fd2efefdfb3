"""Turns an image source from a request into a normalised image, then into a stored image row."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.blobs import BlobStore, input_key, thumbnail_key
from storage.errors import ImageRejected
from storage.images import NormalizedImage, normalize_image
from storage.limits import ImageLimits
from storage.sources import decode_base64, fetch_url
from tasks.errors import ImageNotFound, InvalidRequest
from tasks.requests import (
    Base64Source,
    ImageSource,
    StoredImageSource,
    UploadSource,
    UrlSource,
)
from tasks.store.images import StoredImage, create_input, owned_image, owned_input, referenced

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class IntakeSettings:
    limits: ImageLimits = field(default_factory=ImageLimits)
    url_timeout: float = 15.0
    url_max_redirects: int = 3
    url_allowed_networks: Sequence[IpNetwork] = ()


@dataclass(frozen=True)
class AcquiredImage:
    """An image ready to be used by a task: already stored, or normalised and waiting to be stored."""

    field: str
    stored: StoredImage | None = None
    pending: NormalizedImage | None = None

    @property
    def sha256(self) -> str:
        if self.stored is not None:
            return self.stored.sha256
        assert self.pending is not None
        return self.pending.sha256


@dataclass
class PersistResult:
    image: StoredImage
    written_keys: list[str]
    created: bool = False
    """A new row was inserted (the first upload of this image by its owner)."""


class ImageIntake:
    def __init__(self, blobs: BlobStore, settings: IntakeSettings) -> None:
        self._blobs = blobs
        self._settings = settings

    async def acquire(self, source: ImageSource, *, owner: str, field: str) -> AcquiredImage:
        """Read and validate an image without writing anything."""
        if isinstance(source, StoredImageSource):
            stored = await owned_image(source.image_id, owner)
            if stored is None:
                raise ImageNotFound(source.image_id)
            return AcquiredImage(field=field, stored=stored)
        try:
            data = await self._read_bytes(source)
            normalized = await normalize_image(data, self._settings.limits)
        except ImageRejected as exc:
            raise InvalidRequest.single(field, exc.message, exc.code) from exc
        return AcquiredImage(field=field, pending=normalized)

    async def _read_bytes(self, source: ImageSource) -> bytes:
        cap = self._settings.limits.max_bytes
        if isinstance(source, UploadSource):
            return await read_capped(source, cap)
        if isinstance(source, Base64Source):
            return decode_base64(source.text, max_bytes=cap)
        if isinstance(source, UrlSource):
            return await fetch_url(
                source.url,
                max_bytes=cap,
                timeout=self._settings.url_timeout,
                max_redirects=self._settings.url_max_redirects,
                allowed_networks=self._settings.url_allowed_networks,
            )
        raise TypeError(f"not a readable image source: {source!r}")

    async def persist(self, image: AcquiredImage, *, owner: str) -> PersistResult:
        """Store a pending image (blob, thumbnail, row). Call inside the request's transaction.

        One row per owner and content (a partial unique index): when the owner has this image
        already, or a concurrent first upload of it inserted its row first, that row is used. It
        names the same content-addressed blobs, which are written here if they are missing.
        """
        if image.stored is not None:
            return PersistResult(image=image.stored, written_keys=[])
        normalized = image.pending
        assert normalized is not None
        written = await self._write_blobs(normalized)
        try:
            row = await self._create_row(normalized, owner)
            if row is None:
                existing = await owned_input(owner, normalized.sha256)
                if existing is None:  # input rows are never deleted: the one met is there
                    raise LookupError(f"no input {normalized.sha256} of {owner} after a conflict")
                return PersistResult(image=existing, written_keys=[])
        except BaseException:
            await self.discard(written)
            raise
        return PersistResult(image=row, written_keys=written, created=True)

    async def _create_row(self, normalized: NormalizedImage, owner: str) -> StoredImage | None:
        return await create_input(
            owner=owner,
            sha256=normalized.sha256,
            blob_key=input_key(normalized.sha256, normalized.format),
            thumbnail_key=thumbnail_key(normalized.sha256),
            content_type=normalized.content_type,
            width=normalized.width,
            height=normalized.height,
            size=normalized.size,
        )

    async def _write_blobs(self, normalized: NormalizedImage) -> list[str]:
        """Write the image and its thumbnail (made by the check, before anything is written): a
        failed write leaves nothing behind."""
        written: list[str] = []
        try:
            await self._write_missing(normalized, written)
        except BaseException:
            await self.discard(written)
            raise
        return written

    async def ensure_blobs(self, image: AcquiredImage) -> None:
        """Write again any blob of a just committed first upload that is missing: a concurrent
        request that failed may have removed a blob this one had found and not written."""
        if image.pending is not None:
            await self._write_missing(image.pending, [])

    async def _write_missing(self, normalized: NormalizedImage, written: list[str]) -> None:
        """Write the image's blob and thumbnail where they are not stored yet, adding each key
        written to `written` as soon as it is."""
        blobs = (
            (
                input_key(normalized.sha256, normalized.format),
                normalized.data,
                normalized.content_type,
                normalized.sha256,  # hashed by the check: not hashed again for the ETag
            ),
            (thumbnail_key(normalized.sha256), normalized.thumbnail, "image/webp", None),
        )
        for key, data, content_type, sha256 in blobs:
            if not await self._blobs.exists(key):
                await self._blobs.put(key, data, content_type, sha256=sha256)
                written.append(key)

    async def discard(self, keys: Sequence[str]) -> None:
        """Remove blobs written for a request that then failed, except those a committed row
        names: input blobs are content-addressed, so another request (or owner) may share them.

        Call it outside the failed transaction, so that only committed rows are seen.
        """
        in_use = await referenced(keys) if keys else set()
        for key in keys:
            if key not in in_use:
                await self._blobs.delete(key)


async def read_capped(source: UploadSource, cap: int) -> bytes:
    data = await source.file.read(cap + 1)
    if len(data) > cap:
        raise ImageRejected(
            "IMAGE_TOO_LARGE",
            f"The file is larger than the {cap // (1024 * 1024)} MB limit.",
        )
    return data
