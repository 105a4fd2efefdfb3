"""`kontext serve` as a user starts it: flags, the banner, the access log, `--help`."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graphql_api.settings import settings_table
from tests.cli.support import KONTEXT, clean_environment, free_port, kontext

BANNER_END = "auth:"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[str], Path]]:
    port = free_port()
    env = clean_environment(
        tmp_path, KONTEXT_PORT=str(free_port()), KONTEXT_EMULATOR_STEP_SECONDS="0.01"
    )
    log = tmp_path / "stderr.log"
    with log.open("w") as errors:
        server = subprocess.Popen(
            [KONTEXT, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            yield port, server, log
        finally:
            server.terminate()
            server.wait(timeout=30)


def banner_of(server: subprocess.Popen[str], seconds: float = 60) -> str:
    """What `kontext serve` printed up to the banner's last line (failing after `seconds`)."""
    assert server.stdout is not None
    stdout = server.stdout
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while not seen or not seen[-1].strip().startswith(BANNER_END):
        try:
            seen.append(lines.get(timeout=max(deadline - time.monotonic(), 0.01)))
        except queue.Empty:
            raise AssertionError("no banner from kontext serve:\n" + "".join(seen)) from None
    return "".join(seen)


def test_serve_listens_where_the_flags_say_and_prints_one_banner(
    served: tuple[int, subprocess.Popen[str], Path], tmp_path: Path
) -> None:
    port, server, _log = served
    rows = dict(
        line.strip().split(": ", 1) for line in banner_of(server).splitlines() if ": " in line
    )
    rows = {name: value.strip() for name, value in rows.items()}
    root = f"http://127.0.0.1:{port}"
    assert rows["API"] == f"{root}/graphql"
    assert rows["GraphiQL"].startswith(f"{root}/graphql")
    assert rows["web app"] == f"{root}/"
    assert rows["database"] == f"sqlite://{tmp_path}/.local/share/kontext/kontext.sqlite3"
    assert rows["storage"] == f"{tmp_path}/.local/share/kontext/files"
    assert rows["backends"].startswith("EMULATOR (bundled, at http://127.0.0.1:")
    assert rows["auth"].startswith("API keys optional (KONTEXT_AUTH=auto)")
    assert httpx.get(f"{root}/healthz", timeout=10).status_code == 200


def test_serve_logs_one_json_line_per_request_without_secrets(
    served: tuple[int, subprocess.Popen[str], Path],
) -> None:
    port, server, log = served
    banner_of(server)
    root = f"http://127.0.0.1:{port}"
    secret = "kx_abcdefabcdef_" + "S" * 43
    httpx.get(f"{root}/healthz?token=hidden", timeout=10)
    httpx.get(f"{root}/files/in/abcdef0123456789.png", timeout=10)
    httpx.post(
        f"{root}/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": f"Bearer {secret}"},
        timeout=10,
    )
    deadline = time.monotonic() + 10
    while True:
        access = [
            json.loads(line)
            for line in log.read_text().splitlines()
            if line.startswith("{") and json.loads(line)["logger"] == "kontext.access"
        ]
        if len(access) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert [(a["method"], a["path"], a["status"]) for a in access[-3:]] == [
        ("GET", "/healthz", 200),
        ("GET", "/files/…", 404),
        ("POST", "/graphql", 401),
    ]
    text = log.read_text()
    assert "hidden" not in text and secret not in text and "abcdef0123456789" not in text


def test_serve_help_lists_every_setting_with_its_environment_variable(tmp_path: Path) -> None:
    shown = kontext("serve", "--help", cwd=tmp_path, env=clean_environment(tmp_path)).stdout
    assert "--host HOST" in shown and "--port PORT" in shown
    for env, _default, _doc in settings_table():
        assert env in shown, env


def test_a_port_that_is_not_a_port_is_refused(tmp_path: Path) -> None:
    refused = kontext(
        "serve", "--port", "70000", cwd=tmp_path, env=clean_environment(tmp_path), check=False
    )
    assert refused.returncode == 2 and "not a port" in refused.stderr


def test_a_comfyui_url_that_is_not_a_url_is_refused_at_start(tmp_path: Path) -> None:
    env = clean_environment(tmp_path, KONTEXT_COMFYUI_URLS="gpu-1:8188")
    refused = kontext("serve", cwd=tmp_path, env=env, check=False)
    assert refused.returncode == 2
    assert refused.stderr.startswith("configuration error: KONTEXT_COMFYUI_URLS='gpu-1:8188'")
    assert "http(s) URL" in refused.stderr
