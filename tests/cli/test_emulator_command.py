"""`kontext emulator` started by hand."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.cli.support import clean_environment, kontext


def test_a_busy_port_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = kontext(
            "emulator", "--port", str(port), cwd=tmp_path, env=clean_environment(tmp_path),
            check=False,
        )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"kontext emulator: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(is ComfyUI or another emulator running there? choose another --port)"
    ]
