"""Downloading an image from a URL someone gave us, without letting them reach our own network.

Every hop (the first URL and each redirect) is vetted before any connection: http or https only,
and every address its host resolves to must be public (see storage.netguard). The request then
goes to the vetted address itself, with the original name in the Host header and, for https, as
the TLS server name (`sni_hostname`), so the certificate is still checked against the name and a
second DNS answer (rebinding) cannot send us elsewhere. Connections are never reused between hops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from storage.errors import ImageRejected, RejectionCode, human_size, over_limit
from storage.netguard import IPAddress, IPNetwork, ip_literal, refusal
from storage.resolver import Resolver, SystemResolver

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
REQUEST_HEADERS = {
    "Accept": "image/png,image/jpeg,image/webp;q=0.9,*/*;q=0.1",
    "Accept-Encoding": "identity",
    "User-Agent": "kontext-graphql image fetch",
}


@dataclass(frozen=True)
class Target:
    """A URL whose host has been resolved and whose every address was found fetchable."""

    url: httpx.URL
    host: str
    addresses: Sequence[IPAddress]


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    max_redirects: int
    resolver: Resolver
    allowed_networks: Sequence[IPNetwork]


async def fetch_url(
    url: str,
    *,
    max_bytes: int,
    timeout: float,  # noqa: ASYNC109 - the overall deadline is part of the fetch policy
    max_redirects: int = 3,
    resolver: Resolver | None = None,
    allowed_networks: Sequence[IPNetwork] = (),
    transport: httpx.AsyncBaseTransport | None = None,
) -> bytes:
    """The body of `url` (at most `max_bytes`), within `timeout` seconds overall.

    `allowed_networks` exempts networks from the address refusal (tests and local setups only).
    `transport` replaces the network transport (tests only). Raises ImageRejected with
    URL_INVALID, URL_FORBIDDEN, URL_FETCH_FAILED or IMAGE_TOO_LARGE.
    """
    policy = FetchPolicy(max_bytes, max_redirects, resolver or SystemResolver(), allowed_networks)
    try:
        async with asyncio.timeout(timeout), new_client(timeout, transport) as client:
            return await follow(client, url, policy)
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise fetch_failed(f"The image server did not answer within {timeout:g} seconds.") from exc
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        logger.info("fetching %r failed: %r", url, exc)
        raise fetch_failed(f"The image could not be downloaded ({type(exc).__name__}).") from exc


def new_client(timeout: float, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_connections=4, max_keepalive_connections=0),
        follow_redirects=False,
        trust_env=False,
        headers=REQUEST_HEADERS,
    )


async def follow(client: httpx.AsyncClient, url: str, policy: FetchPolicy) -> bytes:
    current: str | httpx.URL = url
    for _ in range(policy.max_redirects + 1):
        target = await vet(current, policy)
        outcome = await fetch_once(client, target, policy.max_bytes)
        if isinstance(outcome, bytes):
            return outcome
        current = outcome
    raise fetch_failed(f"The URL redirected more than {policy.max_redirects} times.")


async def vet(
    url: str | httpx.URL,
    policy: FetchPolicy,
    *,
    only: str = "only images on the public internet can be fetched",
) -> Target:
    """Parse the URL and resolve its host, refusing before any connection is made; `only` says
    in the refusal what may be reached."""
    parsed = parse_url(url)
    host = parsed.raw_host.decode("ascii")
    literal = ip_literal(host)
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    addresses = [literal] if literal else await policy.resolver.resolve(host, port)
    if not addresses:
        raise fetch_failed(f"The host {host} could not be found.")
    for address in addresses:
        reason = refusal(address, policy.allowed_networks)
        if reason is not None:
            logger.info("refusing %s: %s resolves to %s (%s)", parsed, host, address, reason)
            raise ImageRejected(
                RejectionCode.URL_FORBIDDEN,
                f"The host {host} is not a public internet address ({reason}); {only}.",
            )
    return Target(url=parsed, host=host, addresses=addresses)


def parse_url(url: str | httpx.URL) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ImageRejected(RejectionCode.URL_INVALID, f"This is not a valid URL: {exc}.") from exc
    if parsed.scheme not in DEFAULT_PORTS:
        shown = f"'{parsed.scheme}:' URLs are" if parsed.scheme else "URLs without a scheme are"
        raise ImageRejected(
            RejectionCode.URL_FORBIDDEN, f"Only http and https URLs are accepted; {shown} not."
        )
    if not parsed.raw_host:
        raise ImageRejected(RejectionCode.URL_INVALID, "The URL has no host name.")
    return parsed


async def fetch_once(
    client: httpx.AsyncClient, target: Target, max_bytes: int
) -> bytes | httpx.URL:
    """The body of a 2xx answer, or the URL a redirect points to."""
    response = await connect(client, target)
    try:
        if response.status_code in REDIRECT_STATUSES:
            return redirect_location(target, response)
        if not response.is_success:
            raise fetch_failed(f"The image server answered HTTP {response.status_code}.")
        return await read_capped(response, max_bytes)
    finally:
        await response.aclose()


async def connect(
    client: httpx.AsyncClient,
    target: Target,
    method: str = "GET",
    *,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Send the request to the first vetted address that accepts a connection."""
    failure: httpx.ConnectError | None = None
    for address in target.addresses:
        request = pinned_request(client, target, address, method, content=content, headers=headers)
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            failure = exc
    raise fetch_failed(f"Could not connect to {target.host}.") from failure


def pinned_request(
    client: httpx.AsyncClient,
    target: Target,
    address: IPAddress,
    method: str = "GET",
    *,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Request:
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    return client.build_request(
        method,
        target.url.copy_with(host=str(address)),
        content=content,
        headers={**(headers or {}), "Host": target.url.netloc.decode("ascii")},
        extensions=extensions,
    )


def redirect_location(target: Target, response: httpx.Response) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise fetch_failed(f"The image server sent HTTP {response.status_code} without a Location.")
    return target.url.join(location)


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The body (sent uncompressed), refused once it passes `max_bytes`; at most one byte more
    is kept."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large(f"The image at the URL {over_limit(int(declared), max_bytes)}.")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise fetch_failed(
            f"The image server sent the file compressed ({encoding}); send it as is."
        )
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk[: max_bytes + 1 - len(body)]
        if len(body) > max_bytes:
            raise too_large(
                f"The image at the URL is larger than the {human_size(max_bytes)} limit."
            )
    return bytes(body)


def too_large(message: str) -> ImageRejected:
    return ImageRejected(RejectionCode.IMAGE_TOO_LARGE, message)


def fetch_failed(message: str) -> ImageRejected:
    return ImageRejected(RejectionCode.URL_FETCH_FAILED, message)
