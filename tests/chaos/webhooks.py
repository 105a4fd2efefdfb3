"""Webhooks in the chaos run: every task's ending is posted to a receiver on loopback that
answers 500 now and then, through API kills; once the run has settled, each ended task must have
reached the receiver as a correctly signed message of the right type (`webhooks_lost`)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict

import httpx

from tests.chaos.database import Probe
from tests.chaos.report import Summary
from tests.chaos.verify import TERMINAL, Snapshot, examples
from tests.support.webhooks import InvalidSignature, Receiver

SET_WEBHOOK = """mutation($url: String!) {
  setWebhook(webhook: { url: $url }) { signingSecret } }"""
FLAKY_SHARE = 0.1  # answers the receiver refuses with 500
SETTLE_POLL_SECONDS = 0.5
API_SETTINGS = {
    "KONTEXT_URL_ALLOWED_NETWORKS": "127.0.0.0/8",
    "KONTEXT_WEBHOOK_BACKOFF_SECONDS": "0.5",
    # A send cut by a kill is due again once its claim lapses: the timeout plus 10 s.
    "KONTEXT_WEBHOOK_TIMEOUT_SECONDS": "5",
}


async def enable_webhooks(api_url: str, receiver: Receiver) -> str:
    """Make the receiver the default webhook of the run's owner; returns its signing secret."""
    async with httpx.AsyncClient(base_url=api_url, timeout=20) as http:
        response = await http.post(
            "/graphql", json={"query": SET_WEBHOOK, "variables": {"url": receiver.url}}
        )
    secret: str = response.json()["data"]["setWebhook"]["signingSecret"]
    return secret


async def settle_webhooks(probe: Probe, seconds: float) -> float:
    """Wait until no delivery is pending, at most `seconds`; returns the time taken."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        rows = await probe.fetch(
            "SELECT COUNT(*) AS n FROM webhook_delivery WHERE status = 'PENDING'"
        )
        if int(rows[0]["n"]) == 0:
            break
        await asyncio.sleep(SETTLE_POLL_SECONDS)
    return time.monotonic() - started


async def check_webhooks(
    summary: Summary, snapshot: Snapshot, probe: Probe, receiver: Receiver, secret: str
) -> None:
    arrived: defaultdict[str, set[str]] = defaultdict(set)  # task id -> types received
    ids: Counter[str] = Counter()
    forged = 0
    for received in receiver.received:
        ids[received.id] += 1
        try:
            message = received.verified(secret)
        except (InvalidSignature, KeyError, ValueError):
            forged += 1
            continue
        arrived[str(message["data"]["id"])].add(str(message["type"]))
    missing = {
        str(task["id"]): f"{task['status']}, received {sorted(arrived.get(str(task['id']), ()))}"
        for task in snapshot.tasks
        if task["status"] in TERMINAL
        and f"task.{str(task['status']).lower()}" not in arrived.get(str(task["id"]), set())
    }
    summary.webhooks_lost = len(missing)
    if missing:
        summary.problem(f"webhooks lost: {examples(f'{k} ({v})' for k, v in missing.items())}")
    if forged:
        summary.problem(f"webhook messages whose signature did not verify: {forged}")
    rows = await probe.fetch("SELECT status, attempts FROM webhook_delivery")
    statuses = Counter(str(row["status"]) for row in rows)
    attempts = Counter(int(row["attempts"]) for row in rows)
    summary.note(
        f"webhooks: {len(receiver.received)} posts received ({receiver.refused} answered 500,"
        f" {sum(n - 1 for n in ids.values())} with an id received before), deliveries"
        f" {dict(statuses)},"
        f" attempts {dict(sorted(attempts.items()))}"
    )
