"""The `kontext` command: serve | migrate | export-schema | create-key | list-keys | revoke-key |
set-webhook | emulator | check-workflow."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from datetime import datetime
from pathlib import Path

from graphql_api.comfy_name import foreign_comfy

# Before anything below imports `comfy`: ComfyUI's package of the same name would fail there.
if (_problem := foreign_comfy()) is not None:
    print(f"kontext cannot start: {_problem}", file=sys.stderr)
    raise SystemExit(2)

from graphql_api import workflow_command
from graphql_api.schema import build_schema
from graphql_api.settings import Settings, SettingsError, settings_table

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


def database_line(settings: Settings) -> str:
    """Which database a command uses (the password of a URL left out)."""
    from graphql_api.banner import shown_database

    return f"database: {shown_database(settings.database_url)}"


async def migrate(settings: Settings) -> int:
    from tasks.store.database import Database

    async with Database(settings.database_url) as database:
        applied = await database.migrate()
    print(database_line(settings), file=sys.stderr)
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0


async def create_key(settings: Settings, owner: str, name: str) -> int:
    from tasks.api_keys import create_key as create
    from tasks.store.database import Database

    async with Database(settings.database_url) as database:
        await database.migrate()
        with database.bound():
            key = await create(owner, name)
    print(database_line(settings), file=sys.stderr)
    print(f"API key {key.id} for {key.owner} (shown once, keep it secret):\n{key.token}")
    return 0


async def revoke_key(settings: Settings, key_or_id: str) -> int:
    from tasks.api_keys import key_id_of
    from tasks.api_keys import revoke_key as revoke
    from tasks.store.database import Database

    key_id = key_id_of(key_or_id)
    if key_id is None:
        print(
            "revoke-key wants a key id (12 letters and digits, see `kontext list-keys`) "
            "or the key itself (kx_...)",
            file=sys.stderr,
        )
        return 2
    async with Database(settings.database_url) as database:
        await database.migrate()
        with database.bound():
            revoked = await revoke(key_id)
    print(database_line(settings), file=sys.stderr)
    print(f"revoked {key_id}" if revoked else f"no live key {key_id}")
    return 0 if revoked else 1


async def set_webhook(
    settings: Settings, owner: str, url: str | None, events: str | None, rotate: bool
) -> int:
    from tasks.errors import InvalidRequest
    from tasks.requests import WebhookEvent, WebhookTarget
    from tasks.store.database import Database
    from tasks.webhooks.targets import WebhookTargets

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


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "never"


async def list_keys(settings: Settings, *, include_revoked: bool) -> int:
    from tasks.api_keys import list_keys as listing
    from tasks.store.database import Database

    async with Database(settings.database_url) as database:
        await database.migrate()
        with database.bound():
            keys = await listing(include_revoked=include_revoked)
    print(database_line(settings), file=sys.stderr)
    rows: list[list[str]] = [["ID", "OWNER", "NAME", "CREATED (UTC)", "LAST USED (UTC)"]]
    rows += [
        [key.id, key.owner, key.name or "-", _when(key.created_at), _when(key.last_used_at)]
        for key in keys
    ]
    if include_revoked:
        rows[0].append("REVOKED (UTC)")
        for row, key in zip(rows[1:], keys, strict=True):
            row.append(_when(key.revoked_at) if key.revoked_at else "-")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    if not keys:
        print("(no keys: create one with `kontext create-key OWNER`)", file=sys.stderr)
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
        create_app(settings, announced=True),
        host=settings.host,
        port=settings.port,
        log_config=None,
        # The service logs its own access lines (graphql_api/access_log.py): uvicorn's would
        # carry query strings.
        access_log=False,
        ws_max_size=16 * 1024 * 1024,
        # Protocol-level pings keep idle subscription sockets alive through proxies, whatever
        # the GraphQL websocket protocol (Strawberry pings only on the legacy one).
        ws_ping_interval=settings.ws_keepalive_seconds or None,
        # Frames are small JSON; compressing each one for each subscriber cost more CPU per
        # delivery than the rest of the relay (bench/README.md, relay).
        ws_per_message_deflate=False,
    )
    return 0


def port_number(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0 to 65535)")
    return port


def settings_help() -> str:
    """The settings, with their environment variables and defaults, for `serve --help`."""
    lines = ["settings (environment variable, default: meaning):"]
    for env, default, doc in settings_table():
        lines.append(f"  {env} (default: {default or 'empty'})")
        lines.append(f"      {doc.replace('`', '')}")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="kontext", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser(
        "serve",
        help="run the GraphQL service",
        description="Run the GraphQL service. Flags override the environment; every setting is "
        "an environment variable, read once at start-up.",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve_parser.add_argument("--host", help="address to listen on (KONTEXT_HOST)")
    serve_parser.add_argument("--port", type=port_number, help="port to listen on (KONTEXT_PORT)")
    commands.add_parser("migrate", help="apply database migrations")
    export = commands.add_parser("export-schema", help="write schema.graphql from the code")
    export.add_argument("--check", action="store_true", help="fail if schema.graphql drifted")
    export.add_argument("--path", type=Path, default=SCHEMA_FILE)
    create = commands.add_parser("create-key", help="create an API key (printed once)")
    create.add_argument("owner", help="whose tasks the key reaches (e.g. a user or app id)")
    create.add_argument("--name", default="", help="a note to tell keys apart")
    keys = commands.add_parser("list-keys", help="list API keys (never their secrets)")
    keys.add_argument("--all", action="store_true", help="include revoked keys")
    revoke = commands.add_parser("revoke-key", help="revoke an API key, given its id or the key")
    revoke.add_argument("key", help="the key id (see list-keys) or the key itself (kx_...)")
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
    if args.command == "list-keys":
        return asyncio.run(list_keys(settings, include_revoked=args.all))
    if args.command == "revoke-key":
        return asyncio.run(revoke_key(settings, args.key))
    if args.command == "set-webhook":
        return asyncio.run(
            set_webhook(settings, args.owner, args.url, args.events, args.rotate_secret)
        )
    return serve(with_flags(settings, host=args.host, port=args.port))


def with_flags(settings: Settings, *, host: str | None, port: int | None) -> Settings:
    """`serve --host/--port` override KONTEXT_HOST/KONTEXT_PORT."""
    return dataclasses.replace(
        settings,
        host=settings.host if host is None else host,
        port=settings.port if port is None else port,
    )


if __name__ == "__main__":
    raise SystemExit(main())
