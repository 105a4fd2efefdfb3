"""The client id this process uses on ComfyUI.

ComfyUI keeps one websocket per client id and, when any socket with that id closes, forgets the
id's entry whichever socket it holds: two processes (or a restarted process and its old socket)
sharing an id take each other's events away. So each process sends its own id: the configured
prefix, this host and process, and a random part that keeps two instances in one process apart.
"""

from __future__ import annotations

import os
import re
import secrets
import socket

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def unique_client_id(prefix: str) -> str:
    """`<prefix>-<host>-<pid>-<8 hex digits>`, with the host reduced to URL-safe characters."""
    host = _UNSAFE.sub("-", socket.gethostname()).strip("-")[:32] or "host"
    return f"{prefix}-{host}-{os.getpid()}-{secrets.token_hex(4)}"
