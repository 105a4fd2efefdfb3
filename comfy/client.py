"""ComfyUI's HTTP API: one httpx.AsyncClient per backend, explicit timeouts, typed answers."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import Any

import httpx

from comfy.errors import ComfyProtocolError, ComfyUnavailable, PromptRejected
from comfy.models import (
    HistoryEntry,
    Job,
    OutputImage,
    QueuedPrompt,
    QueueSnapshot,
    SystemStats,
    UploadedImage,
    parse_history,
    parse_queue,
    parse_system_stats,
)

DOWNLOAD_CHUNK = 256 * 1024


class ComfyClient:
    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
        )
        self._uploaded: dict[str, UploadedImage] = {}

    async def __aenter__(self) -> ComfyClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ComfyUnavailable(f"{method} {self.base_url}{path}: {exc!r}") from exc
        if response.status_code >= 500:
            raise ComfyUnavailable(
                f"{method} {path} answered {response.status_code}: {response.text[:200]}"
            )
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._request(method, path, **kwargs)
        if response.status_code != 200:
            raise ComfyProtocolError(f"{method} {path} answered {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise ComfyProtocolError(f"{method} {path} did not answer JSON") from exc

    async def upload_image(self, data: bytes, *, filename: str) -> UploadedImage:
        """Upload once per content: the same bytes are not sent twice to this backend."""
        digest = hashlib.sha256(data).hexdigest()
        known = self._uploaded.get(digest)
        if known is not None:
            return known
        body = await self._json(
            "POST",
            "/upload/image",
            files={"image": (filename, data, "application/octet-stream")},
            data={"overwrite": "true", "type": "input"},
        )
        uploaded = UploadedImage(
            name=str(body["name"]), subfolder=str(body.get("subfolder", "")), type=str(body["type"])
        )
        self._uploaded[digest] = uploaded
        return uploaded

    def forget_uploads(self) -> None:
        """After a server restart its input folder may be gone: upload again."""
        self._uploaded.clear()

    async def queue_prompt(
        self, prompt: dict[str, Any], *, prompt_id: str, extra_data: dict[str, Any] | None = None
    ) -> QueuedPrompt:
        payload: dict[str, Any] = {
            "prompt": prompt,
            "client_id": self.client_id,
            "prompt_id": prompt_id,
        }
        if extra_data:
            payload["extra_data"] = extra_data
        response = await self._request("POST", "/prompt", json=payload)
        if response.status_code == 400:
            body = response.json()
            raise PromptRejected(body.get("error") or {}, body.get("node_errors") or {})
        if response.status_code != 200:
            raise ComfyProtocolError(f"POST /prompt answered {response.status_code}")
        body = response.json()
        return QueuedPrompt(prompt_id=str(body["prompt_id"]), number=int(body.get("number", 0)))

    async def history(self, prompt_id: str) -> HistoryEntry | None:
        return parse_history(prompt_id, await self._json("GET", f"/history/{prompt_id}"))

    async def queue(self) -> QueueSnapshot:
        return parse_queue(await self._json("GET", "/queue"))

    async def job(self, prompt_id: str) -> Job | None:
        """GET /api/jobs/{id} (ComfyUI ≥ 0.8); None when unknown or when the server lacks the route."""
        response = await self._request("GET", f"/api/jobs/{prompt_id}")
        if response.status_code in (404, 405):
            return None
        if response.status_code != 200:
            raise ComfyProtocolError(f"GET /api/jobs/{prompt_id} answered {response.status_code}")
        body = response.json()
        return Job(id=str(body.get("id", prompt_id)), status=str(body.get("status")), raw=body)

    async def delete_from_queue(self, prompt_ids: Iterable[str]) -> None:
        await self._request("POST", "/queue", json={"delete": list(prompt_ids)})

    async def interrupt(self, prompt_id: str | None) -> None:
        """Interrupt the named prompt only if it is the one running (ComfyUI ignores it otherwise)."""
        body = {"prompt_id": prompt_id} if prompt_id else {}
        await self._request("POST", "/interrupt", json=body)

    def view_params(self, image: OutputImage) -> dict[str, str]:
        return {"filename": image.filename, "subfolder": image.subfolder, "type": image.type}

    @contextlib.asynccontextmanager
    async def download(self, image: OutputImage) -> AsyncIterator[AsyncIterator[bytes]]:
        """Stream an output from /view; chunks are yielded as they arrive."""
        request = self._http.build_request("GET", "/view", params=self.view_params(image))
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise ComfyUnavailable(f"GET /view: {exc!r}") from exc
        try:
            if response.status_code != 200:
                raise ComfyProtocolError(
                    f"GET /view {image.filename} answered {response.status_code}"
                )
            yield self._chunks(response)
        finally:
            await response.aclose()

    async def _chunks(self, response: httpx.Response) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                yield chunk
        except httpx.TransportError as exc:
            raise ComfyUnavailable(f"GET /view broke off: {exc!r}") from exc

    async def object_info(self) -> dict[str, Any]:
        body = await self._json("GET", "/object_info")
        if not isinstance(body, dict):
            raise ComfyProtocolError("GET /object_info did not answer an object")
        return body

    async def missing_node_types(self, required: Iterable[str]) -> list[str]:
        known = await self.object_info()
        return sorted(set(required) - set(known))

    async def system_stats(self) -> SystemStats:
        return parse_system_stats(await self._json("GET", "/system_stats"))
