from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image as PILImage

from graphql_api.logs import JsonFormatter, configure_logging
from storage.incremental import thumbnail_of_file
from storage.limits import ImageLimits


def test_json_lines_carry_the_fields_given_as_extra() -> None:
    record = logging.makeLogRecord(
        {
            "name": "tasks",
            "levelname": "INFO",
            "msg": "task %s %s",
            "args": ("t1", "COMPLETED"),
            "task_id": "t1",
            "backend": "http://gpu:8188",
            "prompt_id": "p1",
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "task t1 COMPLETED"
    assert (line["task_id"], line["backend"], line["prompt_id"]) == ("t1", "http://gpu:8188", "p1")
    assert line["level"] == "INFO"


def test_uvicorns_coloured_copy_of_the_message_is_left_out() -> None:
    record = logging.makeLogRecord(
        {"msg": "Started server process [%d]", "args": (7,), "color_message": "\x1b[36m7\x1b[0m"}
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "Started server process [7]"
    assert "color_message" not in line


@pytest.fixture
def logging_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "pyvips")}
    yield
    root.handlers[:], root.level = handlers, level
    for name, kept in levels.items():
        logging.getLogger(name).setLevel(kept)


@pytest.mark.usefixtures("logging_restored")
def test_a_thumbnail_adds_no_lines_of_libvips_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(json_lines=True)
    path = tmp_path / "large.png"
    PILImage.new("RGB", (1600, 1200), (200, 40, 40)).save(path)
    with path.open("rb") as file:
        thumbnail, size = thumbnail_of_file(file, "PNG", ImageLimits())
    assert size == (1600, 1200) and thumbnail.startswith(b"RIFF")
    logging.getLogger("pyvips").warning("a warning still shows")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["message"] for line in lines if line["logger"] == "pyvips"] == [
        "a warning still shows"
    ]
