"""Which IP addresses a server-side fetch may reach: pure functions, no I/O.

Only globally routable unicast addresses are public. The tables below are explicit (not only
`ipaddress.is_global`, whose answers vary between Python releases); IPv4-mapped and NAT64 IPv6
addresses are judged by the IPv4 address they embed; IPv6 outside 2000::/3 is refused.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

FORBIDDEN_V4: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified ('this network')"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared carrier-grade NAT"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.169.254/32", "cloud metadata"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignment"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
)
FORBIDDEN_V6: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignment (incl. Teredo)"),
    ("2001:db8::/32", "documentation"),
    ("2002::/16", "6to4"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing"),
    ("fd00:ec2::254/128", "cloud metadata"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")


def _table(rows: Sequence[tuple[str, str]]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(cidr), label) for cidr, label in rows)


FORBIDDEN_NETWORKS = _table(FORBIDDEN_V4) + _table(FORBIDDEN_V6)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped or NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def forbidden_reason(address: IPAddress) -> str | None:
    """Why the address must not be fetched from ('loopback', 'private', ...), or None if public."""
    inner = embedded_ipv4(address)
    if inner is not None:
        reason = forbidden_reason(inner)
        return None if reason is None else f"{reason} (as IPv6 {address})"
    for network, label in FORBIDDEN_NETWORKS:
        if address.version == network.version and address in network:
            return label
    if isinstance(address, ipaddress.IPv6Address) and address not in GLOBAL_UNICAST_V6:
        return "reserved"
    return None if address.is_global else "not globally routable"


def is_public(address: IPAddress) -> bool:
    return forbidden_reason(address) is None


def is_exempt(address: IPAddress, allowed: Iterable[IPNetwork]) -> bool:
    """True when the address (or the IPv4 address it embeds) lies in one of `allowed`."""
    candidates = [address, *filter(None, [embedded_ipv4(address)])]
    return any(
        candidate.version == network.version and candidate in network
        for network in allowed
        for candidate in candidates
    )


def refusal(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why a fetch from the address is refused, given the exempt networks; None if allowed."""
    if is_exempt(address, allowed):
        return None
    return forbidden_reason(address)


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL host spells directly, including the legacy IPv4 spellings that
    resolvers accept ('2130706433', '0x7f.1', '127.1'); None for a DNS name."""
    text = host.removeprefix("[").removesuffix("]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if not NUMERIC_HOST.fullmatch(text):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None
