"""A stub resolver for the SSRF attacks: answers from a table, records every question, and can
change its answer between questions (DNS rebinding)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from storage.netguard import IPAddress

PUBLIC = "93.184.215.14"
TABLE: Mapping[str, Sequence[Sequence[str]]] = {
    "intranet.example": [["10.0.0.5"]],
    "metadata.google.internal": [["169.254.169.254"]],
    "metadata6.example": [["fd00:ec2::254"]],
    "loopback6.example": [["::1"]],
    "mapped.example": [["::ffff:127.0.0.1"]],
    "cgnat.example": [["100.64.1.1"]],
    "link-local.example": [["169.254.10.10"]],
    "link-local6.example": [["fe80::1"]],
    "unique-local.example": [["fc00::7"]],
    "nat64.example": [["64:ff9b::a9fe:a9fe"]],
    "unspecified.example": [["0.0.0.0"]],
    "unspecified6.example": [["::"]],
    "public-then-private.example": [[PUBLIC, "10.0.0.1"]],
    "private-then-public.example": [["192.168.1.20", PUBLIC]],
    "public-and-loopback6.example": [[PUBLIC, "::1"]],
}


class StubResolver:
    """`answers[name]` is a list of successive answers; the last one repeats."""

    def __init__(self, answers: Mapping[str, Sequence[Sequence[str]]] = TABLE) -> None:
        self._answers = {name.lower(): list(seq) for name, seq in answers.items()}
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        self.asked.append(host)
        answers = self._answers.get(host.lower().rstrip("."), [[]])
        index = min(self.asked.count(host) - 1, len(answers) - 1)
        return [ipaddress.ip_address(text) for text in answers[index]]
