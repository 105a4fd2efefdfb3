"""Serves the built web app (Vite's `web/dist`: `index.html` and hashed `assets/`) at `/`.

Hashed assets are cached for good; `index.html` is revalidated on every load so a new build is
picked up at once. Paths the app routes itself (`/history`, `/tasks/…`) get `index.html`; paths
under the API's own routes, under `assets/`, or naming a file (a dot in the last segment) that
is not there are 404 as before. Without a build, every page says how to make one; the API runs.
"""

from __future__ import annotations

import html
import posixpath
import stat
from collections.abc import Iterable
from pathlib import Path

import anyio.to_thread
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

INDEX = "index.html"
ASSETS = "assets"
CACHE_FOREVER = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
PAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}
BUILD_COMMAND = "npm --prefix web ci && npm --prefix web run build"


def api_prefixes(routes: Iterable[BaseRoute]) -> frozenset[str]:
    """The first path segments the API's routes live under (graphql, files, healthz, …)."""
    prefixes = set()
    for route in routes:
        if isinstance(route, Route | WebSocketRoute):
            first = route.path.strip("/").split("/", 1)[0]
            if first and not first.startswith("{"):
                prefixes.add(first)
    return frozenset(prefixes)


def requested(url_path: str) -> str:
    """The file a URL path names inside the build, normalised (`..` stays in front if it escapes)."""
    return posixpath.normpath(url_path.lstrip("/") or INDEX)


def missing_build_page(dist: Path) -> str:
    where = html.escape(str(dist))
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kontext: the web app is not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>The web app is not built yet</h1>
<p>The service looked for the built app in <code>{where}</code> and found no
<code>{INDEX}</code>. Build it once with Node 20 or newer:</p>
<pre>{BUILD_COMMAND}</pre>
<p>or just run <code>./scripts/serve</code>, which builds it when it is missing or stale.
<code>KONTEXT_WEB_DIST</code> names another folder.</p>
<p>The API works meanwhile: <a href="/graphql">/graphql</a>.</p>
</body>
</html>
"""


class WebApp:
    """The ASGI app of the catch-all route: a file of the build, index.html, or 404."""

    def __init__(self, dist: Path, *, api_prefixes: frozenset[str] = frozenset()) -> None:
        self._dist = dist
        self._files = StaticFiles(directory=dist, check_dir=False)
        self._api_prefixes = api_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._response(scope)
        await response(scope, receive, send)

    async def _response(self, scope: Scope) -> Response:
        path = requested(scope["path"])
        segments = path.split("/")
        if segments[0] in self._api_prefixes:
            raise HTTPException(status_code=404)
        if segments[0] not in (".", ".."):
            found = await self._file(path, scope)
            if found is not None:
                return found
        if path != INDEX and (segments[0] == ASSETS or "." in segments[-1]):
            raise HTTPException(status_code=404)
        index = await self._file(INDEX, scope)
        if index is not None:
            return index
        return HTMLResponse(
            missing_build_page(self._dist),
            status_code=503,
            headers={**PAGE_HEADERS, "Cache-Control": REVALIDATE},
        )

    async def _file(self, path: str, scope: Scope) -> Response | None:
        """The build's file at `path` with its cache policy, or None when there is none."""
        try:
            full_path, found = await anyio.to_thread.run_sync(self._files.lookup_path, path)
        except (OSError, ValueError):  # a name too long or holding a NUL: no such file
            return None
        if found is None or not stat.S_ISREG(found.st_mode):
            return None
        response = self._files.file_response(full_path, found, scope)
        hashed = path.startswith(ASSETS + "/")
        response.headers["Cache-Control"] = CACHE_FOREVER if hashed else REVALIDATE
        for name, value in PAGE_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
