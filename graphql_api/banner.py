"""The start-up banner of `kontext serve`: where the service listens and what it runs on."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from graphql_api.settings import Settings

ALL_ADDRESSES = frozenset({"0.0.0.0", "::", ""})


def base_url(host: str, port: int) -> str:
    """The URL a browser on this machine opens: a wildcard address becomes 127.0.0.1."""
    shown = "127.0.0.1" if host in ALL_ADDRESSES else host
    try:
        if ipaddress.ip_address(shown).version == 6:
            shown = f"[{shown}]"
    except ValueError:
        pass
    return f"http://{shown}:{port}"


def shown_database(url: str) -> str:
    """A database URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def backends_line(settings: Settings, urls: Sequence[str]) -> str:
    if not settings.dispatch:
        return "none here (KONTEXT_DISPATCH=false: this replica serves the API only)"
    if settings.uses_emulator:
        where = urls[0] if urls else "?"
        return (
            f"EMULATOR (bundled, at {where}): images are synthetic stand-ins, not Flux.1 Kontext "
            "output; set KONTEXT_COMFYUI_URLS for real ComfyUI"
        )
    return "ComfyUI at " + ", ".join(urls)


def auth_line(settings: Settings) -> str:
    if settings.auth_required:
        return (
            f"API keys required (KONTEXT_AUTH={settings.auth}); "
            "create one with `kontext create-key OWNER`"
        )
    return f"API keys optional (KONTEXT_AUTH={settings.auth}); a key that is sent must be valid"


def banner(settings: Settings, urls: Sequence[str]) -> str:
    root = base_url(settings.host, settings.port)
    listening = (
        f" (listening on all addresses, {settings.host})" if settings.host in ALL_ADDRESSES else ""
    )
    storage = settings.storage_url or str(settings.storage_dir)
    rows = [
        ("API", f"{root}/graphql{listening}"),
        ("GraphiQL", f"{root}/graphql (open it in a browser)" if settings.graphiql else "off"),
        ("web app", f"{root}/"),
        ("database", shown_database(settings.database_url)),
        ("storage", storage),
        ("backends", backends_line(settings, urls)),
        ("auth", auth_line(settings)),
    ]
    width = max(len(name) for name, _ in rows) + 1
    lines = [
        "",
        "Kontext GraphQL is running",
        *(f"  {name + ':':<{width}} {value}" for name, value in rows),
        "",
    ]
    return "\n".join(lines)
