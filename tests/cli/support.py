"""Run the `kontext` command as a user would: a subprocess with its own environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

KONTEXT = str(Path(sys.executable).with_name("kontext"))


def clean_environment(home: Path, **settings: str) -> dict[str, str]:
    """The current environment without KONTEXT_* settings, HOME at `home`, plus `settings`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KONTEXT_")}
    environment["HOME"] = str(home)
    environment.update(settings)
    return environment


def kontext(
    *args: str, cwd: Path, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [KONTEXT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
