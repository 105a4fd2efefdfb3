"""A process-wide tripwire on outgoing connections and name lookups, through an audit hook.

CPython raises the audit events `socket.connect` and `socket.getaddrinfo` before the system
call, in whichever thread makes it; a hook that raises there stops the call before a packet
leaves. The hook is installed once (audit hooks cannot be removed) and acts only while a test
has armed the guard; the innermost `armed()` block decides.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Endpoint = tuple[str, int]
Policy = Callable[[str, int], bool]


def is_loopback(host: str, port: int) -> bool:
    try:
        return ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        return False


def nothing(host: str, port: int) -> bool:
    return False


def is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.removeprefix("[").removesuffix("]").partition("%")[0])
    except ValueError:
        return False
    return True


class ForbiddenConnection(ConnectionRefusedError):
    """Raised in place of a connection the armed guard does not allow."""


class ForbiddenLookup(socket.gaierror):
    """Raised in place of a name lookup while the guard is armed (no DNS traffic in tests)."""


@dataclass
class Watch:
    """What happened while one `armed()` block was the innermost."""

    policy: Policy
    attempts: list[Endpoint] = field(default_factory=list)
    refused: list[Endpoint] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)


@dataclass
class ConnectionGuard:
    _watches: list[Watch] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        sys.addaudithook(self._hook)

    @contextlib.contextmanager
    def armed(self, policy: Policy = is_loopback) -> Iterator[Watch]:
        """Allow only connections `policy` accepts, and no lookups of names, inside the block."""
        watch = Watch(policy)
        with self._lock:
            self._watches.append(watch)
        try:
            yield watch
        finally:
            with self._lock:
                self._watches.remove(watch)

    def _current(self) -> Watch | None:
        with self._lock:
            return self._watches[-1] if self._watches else None

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "socket.connect":
            self._check_connect(args[1])
        elif event == "socket.getaddrinfo":
            self._check_lookup(args[0])

    def _check_connect(self, address: object) -> None:
        watch = self._current()
        if watch is None or not isinstance(address, tuple):
            return  # not armed, or a Unix socket
        host, port = str(address[0]), int(address[1])
        allowed = watch.policy(host, port)
        with self._lock:
            watch.attempts.append((host, port))
            if not allowed:
                watch.refused.append((host, port))
        if not allowed:
            raise ForbiddenConnection(f"attack suite: a connection to {host}:{port} was attempted")

    def _check_lookup(self, host: object) -> None:
        watch = self._current()
        name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
        if watch is None or host is None or is_literal(name) or name == "localhost":
            return
        with self._lock:
            watch.lookups.append(name)
        raise ForbiddenLookup(socket.EAI_NONAME, f"attack suite: a lookup of {name!r}")
