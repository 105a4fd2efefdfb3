"""Posting a notification to a URL someone gave us, through the guard of image fetches.

The URL is vetted as in storage.fetch (http or https only; every address its host resolves to
public, or in the allowed networks), then the request goes to the vetted address itself with the
original name in the Host header and as the TLS server name, so a second DNS answer cannot send it
elsewhere. Redirects are never followed: a 3xx answer is an answer like any other non-2xx one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

import httpx

from storage.errors import ImageRejected, StorageError
from storage.fetch import FetchPolicy, connect, new_client, vet
from storage.netguard import IPNetwork
from storage.resolver import Resolver, SystemResolver

logger = logging.getLogger(__name__)

REACHABLE = "notifications go only to addresses on the public internet"
USER_AGENT = "kontext-graphql webhook"


class PostFailed(StorageError):
    """The notification was not answered: refused before sending, no connection, or no answer
    in time. The message names no secret (no header, no query string)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def destination_policy(
    allowed_networks: Sequence[IPNetwork], resolver: Resolver | None
) -> FetchPolicy:
    """Only the address part of a fetch policy applies: nothing is read, nothing redirects."""
    return FetchPolicy(
        max_bytes=0,
        max_redirects=0,
        resolver=resolver or SystemResolver(),
        allowed_networks=allowed_networks,
    )


async def check_destination(
    url: str, *, allowed_networks: Sequence[IPNetwork] = (), resolver: Resolver | None = None
) -> None:
    """Refuse a URL that could not be posted to, before anything is sent: raises ImageRejected
    with URL_INVALID, URL_FORBIDDEN or URL_FETCH_FAILED (the host does not resolve)."""
    await vet(url, destination_policy(allowed_networks, resolver), only=REACHABLE)


async def post_json(
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str],
    timeout: float,  # noqa: ASYNC109 - the overall deadline is part of the delivery policy
    allowed_networks: Sequence[IPNetwork] = (),
    resolver: Resolver | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """POST `body` as JSON to the vetted `url` within `timeout` seconds; the HTTP status of the
    answer (its body is not read). Raises PostFailed when there is no answer."""
    policy = destination_policy(allowed_networks, resolver)
    sent = {
        **headers,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
    }
    try:
        async with asyncio.timeout(timeout), new_client(timeout, transport) as client:
            target = await vet(url, policy, only=REACHABLE)
            response = await connect(client, target, "POST", content=body, headers=sent)
            await response.aclose()
            return response.status_code
    except ImageRejected as exc:
        raise PostFailed(exc.message) from exc
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise PostFailed(f"No answer within {timeout:g} seconds.") from exc
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        logger.info("posting to a webhook failed: %s", type(exc).__name__)
        raise PostFailed(f"The request failed ({type(exc).__name__}).") from exc
