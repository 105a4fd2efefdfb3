"""Addresses of a ComfyUI server: its HTTP base and its websocket endpoint."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

_WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


def normalize_base_url(base_url: str) -> str:
    """The server's HTTP base without a trailing slash; ValueError for anything but http(s)."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL of a ComfyUI server: {base_url!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def shown_url(base_url: str) -> str:
    """The server's address as it may be shown to callers: without any user name or password
    the configured URL carries (`http://user:secret@gpu-1:8188` -> `http://gpu-1:8188`)."""
    parts = urlsplit(base_url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def websocket_url(base_url: str, client_id: str | None = None) -> str:
    """`ws(s)://host[/prefix]/ws`, with `?clientId=` when a client id is given.

    Takes the server's http(s) base, or a ws(s) URL that already ends in /ws.
    """
    parts = urlsplit(base_url.strip())
    scheme = _WEBSOCKET_SCHEMES.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"not a URL of a ComfyUI server: {base_url!r}")
    path = parts.path.rstrip("/")
    if parts.scheme in ("http", "https") or not path.endswith("/ws"):
        path += "/ws"
    query = urlencode({"clientId": client_id}) if client_id is not None else ""
    return urlunsplit((scheme, parts.netloc, path, query, ""))
