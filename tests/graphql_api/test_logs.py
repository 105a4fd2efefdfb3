from __future__ import annotations

import json
import logging

from graphql_api.logs import JsonFormatter


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
