"""Exit non-zero, loudly, when the PostgreSQL the suite needs cannot be reached."""

from __future__ import annotations

import asyncio
import sys

import asyncpg


async def check(url: str) -> None:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    print(f"PostgreSQL {version} is reachable")


def main(argv: list[str]) -> int:
    url = argv[1]
    try:
        asyncio.run(check(url))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        print(f"PostgreSQL is NOT reachable at {url}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
