"""`kontext check-workflow PATH [--comfyui URL]`, and the same check before `kontext serve`.

PATH is one `<name>.bindings.json` manifest or a folder of them (as KONTEXT_WORKFLOWS_DIR
would hold): each is parsed and checked exactly as at start-up, and, given a ComfyUI address,
its node types and model files are looked up in that server's /object_info.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from comfy.client import ComfyClient
from comfy.errors import ComfyError
from graphql_api.settings import Settings, SettingsError
from tasks.runtime.capabilities import template_problems_on
from workflows.errors import WorkflowError
from workflows.manifest import MANIFEST_SUFFIX, load_template
from workflows.registry import load_templates
from workflows.template import WorkflowTemplate

COMMAND = "check-workflow"


def add_parser(commands: Any) -> None:
    """Register the subcommand on `kontext`'s subparsers."""
    check = commands.add_parser(
        COMMAND, help="check workflow templates (a manifest or a folder) as `serve` would"
    )
    check.add_argument("path", type=Path, help=f"a *{MANIFEST_SUFFIX} file or a folder of them")
    check.add_argument("--comfyui", metavar="URL", help="also check node types and model files")


def load_for_serving(settings: Settings) -> str | None:
    """Why the templates `serve` would load are unusable (one message), or None when all load."""
    try:
        load_templates(extra_directory=settings.workflows_dir)
    except WorkflowError as exc:
        return f"workflow template error: {exc}"
    return None


def _load(path: Path) -> list[WorkflowTemplate]:
    """The templates at `path`; a folder is loaded beside the built-in ones, as by `serve`."""
    if not path.is_dir():
        return [load_template(path)]
    built_in = set(load_templates().names())
    return [t for t in load_templates(extra_directory=path) if t.name not in built_in]


def _chosen_models(environ: Mapping[str, str]) -> dict[str, str]:
    try:
        return Settings.from_env(environ).model_files
    except SettingsError:
        return {}


async def _server_problems(
    url: str, templates: list[WorkflowTemplate], chosen: Mapping[str, str]
) -> dict[str, list[str]] | str:
    try:
        async with ComfyClient(url, client_id="kontext-check-workflow") as client:
            object_info = await client.object_info()
    except ComfyError as exc:
        return f"cannot read {url}/object_info: {exc}"
    return {t.name: template_problems_on(object_info, t, chosen) for t in templates}


def run(args: argparse.Namespace) -> int:
    try:
        templates = _load(args.path)
    except WorkflowError as exc:
        print(f"workflow template error: {exc}", file=sys.stderr)
        return 1
    if args.comfyui is None:
        for template in templates:
            print(f"ok: {template.name} ({template.title})")
        return 0
    found = asyncio.run(_server_problems(args.comfyui, templates, _chosen_models(os.environ)))
    if isinstance(found, str):
        print(found, file=sys.stderr)
        return 1
    for name, problems in found.items():
        if problems:
            print(f"{name}: cannot run on {args.comfyui}: {'; '.join(problems)}", file=sys.stderr)
        else:
            print(f"ok: {name} runs on {args.comfyui}")
    return 1 if any(found.values()) else 0


__all__ = ["COMMAND", "add_parser", "load_for_serving", "run"]
