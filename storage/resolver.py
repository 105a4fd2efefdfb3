"""Host name resolution for URL fetches, behind a small protocol so tests can answer themselves."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Sequence
from typing import Protocol

from storage.netguard import IPAddress

logger = logging.getLogger(__name__)


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        """Every address `host` resolves to, in preference order; empty when it does not resolve."""
        ...


class SystemResolver:
    """The operating system's resolver (`loop.getaddrinfo`), TCP addresses only."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            logger.info("could not resolve %r: %s", host, exc)
            return []
        return unique([ipaddress.ip_address(info[4][0]) for info in infos])


def unique(addresses: Sequence[IPAddress]) -> list[IPAddress]:
    return list(dict.fromkeys(addresses))
