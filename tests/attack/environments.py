"""Services and owners the attack tests run against."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from graphql_api.settings import Settings
from tasks.api_keys import create_key
from tests.attack.owners import Owner, owner_client
from tests.attack.service import ServiceThread
from tests.attack.wire import WireClient
from tests.support.databases import database_url_for, prepare_database


def fresh_settings(folder: Path, **overrides: Any) -> Settings:
    """Settings on an empty database of their own (for module-wide services)."""
    url = database_url_for(folder)
    asyncio.run(prepare_database(url))
    base = Settings(
        database_url=url,
        storage_dir=folder / "files",
        dispatch=False,
        migrate_on_start=False,
        submit_rate_per_minute=10**9,
        submit_burst=10**9,
        max_unfinished_per_owner=10**9,
        max_queue_depth=10**9,
    )
    return dataclasses.replace(base, **overrides)


def new_owner(service: ServiceThread, name: str) -> Owner:
    key = service.run(create_key(name))
    http = service.enter(owner_client(service.url, key.token))
    return Owner(name=name, token=key.token, client=WireClient(http))
