"""ComfyUI's HTTP API: one httpx.AsyncClient per server, explicit timeouts, typed answers.

Transport failures and 5xx answers become ComfyUnavailable (ComfyServerError for 5xx) here, at
the boundary; answers of an unexpected status or shape become ComfyProtocolError.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from pathlib import PurePosixPath
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import httpx

from comfy.errors import (
    ComfyNotFound,
    ComfyProtocolError,
    ComfyServerError,
    ComfyUnavailable,
    PromptRejected,
)
from comfy.models import (
    HistoryEntry,
    Job,
    OutputImage,
    QueuedPrompt,
    QueueSnapshot,
    SystemStats,
    UploadedImage,
)
from comfy.urls import normalize_base_url, websocket_url

logger = logging.getLogger(__name__)

T = TypeVar("T")
DOWNLOAD_CHUNK = 256 * 1024
HASH_IN_THREAD_FROM = 1024 * 1024
_SAFE_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")


class ComfyClient:
    """The HTTP side of one ComfyUI server; use as `async with ComfyClient(...) as client:`."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        remembered_uploads: int = 4096,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.client_id = client_id
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, connect_timeout)),
            headers=headers,
            transport=transport,
        )
        self._uploads: OrderedDict[str, UploadedImage] = OrderedDict()
        self._remembered_uploads = remembered_uploads
        self._jobs_api: bool | None = None

    async def __aenter__(self) -> ComfyClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def websocket_url(self) -> str:
        """This server's websocket endpoint for this client id."""
        return websocket_url(self.base_url, self.client_id)

    @property
    def supports_jobs_api(self) -> bool | None:
        """Whether GET /api/jobs/{id} exists (ComfyUI 0.8+); None until a lookup tells."""
        return self._jobs_api

    def forget_uploads(self) -> None:
        """After a server restart its input folder may be gone: upload again from now on."""
        self._uploads.clear()

    def forget_server(self) -> None:
        """The server may be another process now: forget its uploads and which routes it has."""
        self.forget_uploads()
        self._jobs_api = None

    def uploaded(self, digest: str) -> UploadedImage | None:
        """Where the bytes with this sha256 were uploaded, if this client sent them (and has not
        forgotten since): the caller that knows its bytes' hash need not read them again."""
        known = self._uploads.get(digest)
        if known is not None:
            self._uploads.move_to_end(digest)
        return known

    async def upload_image(
        self, data: bytes, *, filename: str, digest: str | None = None
    ) -> UploadedImage:
        """Upload to the input folder, named by content hash; the same bytes are sent once.
        `digest`: the bytes' sha256 where the caller knows it (then it is not computed)."""
        digest = digest or await _sha256(data)
        known = self.uploaded(digest)
        if known is not None:
            return known
        name = digest + _suffix(filename)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = await self._request(
            "POST",
            "/upload/image",
            files={"image": (name, data, content_type)},
            data={"overwrite": "true", "type": "input"},
        )
        uploaded = _parsed(UploadedImage.from_json, _json_object(_expect(response, 200)))
        self._remember_upload(digest, uploaded)
        return uploaded

    def _remember_upload(self, digest: str, uploaded: UploadedImage) -> None:
        self._uploads[digest] = uploaded
        while len(self._uploads) > self._remembered_uploads:
            self._uploads.popitem(last=False)

    async def queue_prompt(
        self,
        prompt: dict[str, Any],
        *,
        prompt_id: str,
        extra_data: dict[str, Any] | None = None,
        front: bool = False,
    ) -> QueuedPrompt:
        """POST /prompt with our client id and prompt id; PromptRejected when it fails validation."""
        payload: dict[str, Any] = {"prompt": prompt, "client_id": self.client_id}
        payload["prompt_id"] = prompt_id
        if extra_data:
            payload["extra_data"] = extra_data
        if front:
            payload["front"] = True
        response = await self._request("POST", "/prompt", json=payload)
        if response.status_code == 400:
            raise _rejection(response)
        return _parsed(QueuedPrompt.from_json, _json_object(_expect(response, 200)))

    async def history(self, prompt_id: str) -> HistoryEntry | None:
        """The finished prompt; None while it is unknown, pending or running."""
        response = await self._request("GET", f"/history/{_segment(prompt_id)}")
        entry = _json_object(_expect(response, 200)).get(prompt_id)
        if not entry:
            return None
        return _parsed(lambda body: HistoryEntry.from_json(prompt_id, body), entry)

    async def queue(self) -> QueueSnapshot:
        response = await self._request("GET", "/queue")
        return _parsed(QueueSnapshot.from_json, _json_object(_expect(response, 200)))

    async def job(self, prompt_id: str) -> Job | None:
        """GET /api/jobs/{id}; None when the job is unknown or the server lacks the route."""
        if self._jobs_api is False or "/" in prompt_id:
            return None
        response = await self._request("GET", f"/api/jobs/{_segment(prompt_id)}")
        if response.status_code == 404 and _is_json(response):
            self._jobs_api = True
            return None  # {"error": "Job not found"}
        if response.status_code in (404, 405):
            logger.info("%s has no /api/jobs route; not asking again", self.base_url)
            self._jobs_api = False
            return None
        job = _parsed(Job.from_json, _json_object(_expect(response, 200)))
        self._jobs_api = True
        return job

    async def delete_from_queue(self, prompt_ids: Iterable[str]) -> None:
        """Remove pending prompts; a running one is not affected (interrupt it)."""
        ids = list(prompt_ids)
        if ids:
            _expect(await self._request("POST", "/queue", json={"delete": ids}), 200)

    async def free_memory(self) -> None:
        """POST /free: unload every model and free cached memory before the next prompt."""
        body = {"unload_models": True, "free_memory": True}
        _expect(await self._request("POST", "/free", json=body), 200)

    async def interrupt(self, prompt_id: str | None = None) -> None:
        """Stop the named prompt if it is the one running (ComfyUI ignores it otherwise).

        Without a prompt id, whatever runs is stopped; so do older ComfyUI releases, which
        ignore the id: there, interrupt only a prompt known to be the running one.
        """
        body = {"json": {"prompt_id": prompt_id}} if prompt_id is not None else {}
        _expect(await self._request("POST", "/interrupt", **body), 200)

    def view_url(self, image: OutputImage) -> str:
        return f"{self.base_url}/view?{urlencode(image.view_params)}"

    @contextlib.asynccontextmanager
    async def download(self, image: OutputImage) -> AsyncIterator[AsyncIterator[bytes]]:
        """Stream an output from GET /view: `async with client.download(img) as chunks:`."""
        request = self._http.build_request("GET", "/view", params=image.view_params)
        response = await self._send(request, stream=True)
        try:
            if response.status_code == 404:
                raise ComfyNotFound(f"{self.base_url} has no {image.type} file {image.filename!r}")
            yield _chunks(_expect(response, 200))
        finally:
            await response.aclose()

    async def object_info(self, node_type: str | None = None) -> dict[str, Any]:
        """Every node type's description, or just one's (`{}` when the server lacks it)."""
        path = "/object_info" if node_type is None else f"/object_info/{_segment(node_type)}"
        return _json_object(_expect(await self._request("GET", path), 200))

    async def system_stats(self) -> SystemStats:
        response = await self._request("GET", "/system_stats")
        return _parsed(SystemStats.from_json, _json_object(_expect(response, 200)))

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self._send(self._http.build_request(method, path, **kwargs))

    async def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """The one place httpx's failures and 5xx answers are translated."""
        where = f"{request.method} {request.url}"
        try:
            response = await self._http.send(request, stream=stream)
            if response.status_code >= 500:
                body = (await response.aread()).decode(errors="replace")
                await response.aclose()
                raise ComfyServerError(
                    f"{where} answered {response.status_code}: {body[:200]!r}",
                    status_code=response.status_code,
                    body=body,
                )
        except httpx.TransportError as exc:
            raise ComfyUnavailable(f"{where} failed: {exc!r}") from exc
        except httpx.RequestError as exc:
            raise ComfyProtocolError(f"{where} failed: {exc!r}") from exc
        return response


async def _sha256(data: bytes) -> str:
    if len(data) < HASH_IN_THREAD_FROM:
        return hashlib.sha256(data).hexdigest()
    return await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())


def _suffix(filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()
    return suffix if _SAFE_SUFFIX.fullmatch(suffix) else ""


def _segment(value: str) -> str:
    return quote(value, safe="")


def _expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise ComfyProtocolError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}{_excerpt(response)}"
        )
    return response


def _excerpt(response: httpx.Response) -> str:
    try:
        return f": {response.text[:200]!r}" if response.content else ""
    except httpx.ResponseNotRead:
        return ""


def _is_json(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("application/json")


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ComfyProtocolError(f"{response.request.url} did not answer JSON") from exc
    if not isinstance(body, dict):
        raise ComfyProtocolError(f"{response.request.url} did not answer a JSON object")
    return body


def _parsed(build: Callable[[Any], T], body: Any) -> T:
    """A typed value from a JSON body, with shape errors made ComfyProtocolError."""
    try:
        return build(body)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise ComfyProtocolError(f"unexpected answer from ComfyUI: {exc!r}") from exc


def _rejection(response: httpx.Response) -> PromptRejected:
    body = _json_object(response)
    error = body.get("error")
    node_errors = body.get("node_errors")
    return PromptRejected(
        error if isinstance(error, dict) else {"type": "unknown", "message": str(error)},
        node_errors if isinstance(node_errors, dict) else {},
    )


async def _chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
            yield chunk
    except httpx.TransportError as exc:
        raise ComfyUnavailable(f"download from {response.request.url} broke off: {exc!r}") from exc
