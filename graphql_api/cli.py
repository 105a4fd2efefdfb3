"""The `kontext` command: serve | migrate | export-schema | create-key | revoke-key |
set-webhook | emulator | check-workflow."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from graphql_api import workflow_command
from graphql_api.schema import build_schema
from graphql_api.settings import Settings, SettingsError

SCHEMA_FILE = Path("schema.graphql")


def export_schema(path: Path, *, check: bool) -> int:
    text = build_schema().as_str() + "\n"
    if not check:
        path.write_text(text)
        print(f"wrote {path}")
        return 0
    current = path.read_text() if path.exists() else ""
    if current != text:
        print(f"{path} is out of date: run `kontext export-schema`", file=sys.stderr)
        return 1
    print(f"{path} matches the code")
    return 0


async def migrate(settings: Settings) -> int:
    from tasks.database import Database

    async with Database(settings.database_url) as database:
        applied = await database.migrate()
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0


async def create_key(settings: Settings, owner: str, name: str) -> int:
    from tasks.api_keys import create_key as create
    from tasks.database import Database

    async with Database(settings.database_url) as database:
        await database.migrate()
        with database.bound():
            key = await create(owner, name)
    print(f"API key {key.id} for {key.owner} (shown once, keep it secret):\n{key.token}")
    return 0


async def revoke_key(settings: Settings, key_id: str) -> int:
    from tasks.api_keys import revoke_key as revoke
    from tasks.database import Database

    async with Database(settings.database_url) as database:
        with database.bound():
            revoked = await revoke(key_id)
    print(f"revoked {key_id}" if revoked else f"no live key {key_id}")
    return 0 if revoked else 1


async def set_webhook(
    settings: Settings, owner: str, url: str | None, events: str | None, rotate: bool
) -> int:
    from tasks.database import Database
    from tasks.errors import InvalidRequest
    from tasks.webhook_targets import WebhookEvent, WebhookTarget, WebhookTargets

    try:
        chosen = (
            [WebhookEvent(name.strip().upper()) for name in events.split(",")] if events else None
        )
    except ValueError:
        print(f"events: a comma-separated list of {', '.join(WebhookEvent)}", file=sys.stderr)
        return 2
    target = WebhookTarget.of(url, chosen) if url else None
    targets = WebhookTargets(allowed_networks=settings.url_allowed_networks)
    async with Database(settings.database_url) as database:
        await database.migrate()
        with database.bound():
            try:
                done = await targets.set_default(owner, target, rotate_secret=rotate)
            except InvalidRequest as exc:
                print(f"refused: {exc.problems[0].message}", file=sys.stderr)
                return 2
    default = done.default
    if default is None:
        print(f"{owner} has no default webhook")
    else:
        print(f"{owner}'s tasks notify {default.url} on {', '.join(default.events)}")
    print(f"signing secret (keep it secret):\n{done.signing_secret}")
    return 0


def serve(settings: Settings) -> int:
    import uvicorn

    from graphql_api.app import create_app
    from graphql_api.logs import configure_logging

    configure_logging()
    if (problem := workflow_command.load_for_serving(settings)) is not None:
        print(problem, file=sys.stderr)
        return 2
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        ws_max_size=16 * 1024 * 1024,
        # Protocol-level pings keep idle subscription sockets alive through proxies, whatever
        # the GraphQL websocket protocol (Strawberry pings only on the legacy one).
        ws_ping_interval=settings.ws_keepalive_seconds or None,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="kontext", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the GraphQL service")
    commands.add_parser("migrate", help="apply database migrations")
    export = commands.add_parser("export-schema", help="write schema.graphql from the code")
    export.add_argument("--check", action="store_true", help="fail if schema.graphql drifted")
    export.add_argument("--path", type=Path, default=SCHEMA_FILE)
    create = commands.add_parser("create-key", help="create an API key (printed once)")
    create.add_argument("owner", help="whose tasks the key reaches (e.g. a user or app id)")
    create.add_argument("--name", default="", help="a note to tell keys apart")
    revoke = commands.add_parser("revoke-key", help="revoke an API key by its id")
    revoke.add_argument("key_id")
    hook = commands.add_parser(
        "set-webhook", help="set an owner's default webhook; prints its signing secret"
    )
    hook.add_argument("owner")
    hook.add_argument("url", nargs="?", help="where to POST task endings; omit to remove")
    hook.add_argument("--events", help="comma-separated: COMPLETED,FAILED,CANCELLED (default all)")
    hook.add_argument("--rotate-secret", action="store_true", help="make a new signing secret")
    commands.add_parser("emulator", help="run the ComfyUI emulator", add_help=False)
    workflow_command.add_parser(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    args, rest = parser().parse_known_args(argv)
    if args.command == "emulator":
        from comfy.emulator.cli import main as emulator_main

        return emulator_main(rest)
    if rest:
        parser().error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "export-schema":
        return export_schema(args.path, check=args.check)
    if args.command == workflow_command.COMMAND:
        return workflow_command.run(args)
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        return asyncio.run(migrate(settings))
    if args.command == "create-key":
        return asyncio.run(create_key(settings, args.owner, args.name))
    if args.command == "revoke-key":
        return asyncio.run(revoke_key(settings, args.key_id))
    if args.command == "set-webhook":
        return asyncio.run(
            set_webhook(settings, args.owner, args.url, args.events, args.rotate_secret)
        )
    return serve(settings)


if __name__ == "__main__":
    raise SystemExit(main())
