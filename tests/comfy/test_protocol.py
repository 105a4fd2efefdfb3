from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from comfy.protocol import (
    PREVIEW_IMAGE,
    PREVIEW_IMAGE_WITH_METADATA,
    PreviewFrame,
    ProtocolError,
    encode_message,
    encode_preview,
    parse_message,
    parse_preview,
)

RECORDINGS = Path(__file__).parent / "recordings"


def recorded(kind: str) -> list[dict[str, Any]]:
    lines = (RECORDINGS / "ws_frames.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


TEXT = recorded("text")
BINARY = recorded("binary")


def test_recordings_cover_every_message_type() -> None:
    assert {r["type"] for r in TEXT} == {
        "status",
        "feature_flags",
        "execution_start",
        "execution_cached",
        "executing",
        "progress_state",
        "progress",
        "executed",
        "execution_success",
        "execution_error",
        "execution_interrupted",
    }


@pytest.mark.parametrize("record", TEXT, ids=lambda r: f"{r['scenario']}:{r['type']}")
def test_every_recorded_text_frame_parses_and_reencodes_byte_for_byte(
    record: dict[str, Any],
) -> None:
    message = parse_message(record["raw"])
    assert message is not None
    assert message["type"] == record["type"]
    assert encode_message(message) == record["raw"]


def test_reconnect_replay_of_executing_without_prompt_id_parses() -> None:
    message = parse_message('{"type": "executing", "data": {"node": "31"}}')
    assert message == {"type": "executing", "data": {"node": "31"}}


def test_unknown_types_are_ignored_and_malformed_frames_are_protocol_errors() -> None:
    assert parse_message('{"type": "crystools.monitor", "data": {}}') is None
    with pytest.raises(ProtocolError):
        parse_message("not json")
    with pytest.raises(ProtocolError):
        parse_message('{"type": "progress", "data": {"value": 1}}')


@pytest.mark.parametrize(
    "record",
    [r for r in BINARY if Path(r["saved"]).name in {"0050_H1_ev1.jpg", "0085_H2_ev4.jpg"}],
    ids=lambda r: str(r["u32_be"][0]),
)
def test_recorded_preview_frames_are_rebuilt_and_parsed(record: dict[str, Any]) -> None:
    image = (RECORDINGS / Path(record["saved"]).name).read_bytes()
    event = record["u32_be"][0]
    frame = PreviewFrame(
        event=event,
        mime="image/jpeg",
        image=image,
        prompt_id=(record["metadata"] or {}).get("prompt_id"),
        node_id=(record["metadata"] or {}).get("node_id"),
        metadata=record["metadata"],
    )
    data = encode_preview(frame)
    assert data[:8].hex() == record["first8_hex"]
    assert len(data) == record["len"]
    parsed = parse_preview(data)
    assert parsed.image == image
    assert parsed.event == event
    if event == PREVIEW_IMAGE_WITH_METADATA:
        assert parsed.prompt_id == record["metadata"]["prompt_id"]
        assert parsed.node_id == "31"
    else:
        assert event == PREVIEW_IMAGE
        assert parsed.prompt_id is None


def test_every_recorded_binary_header_is_a_known_preview_event() -> None:
    assert {r["u32_be"][0] for r in BINARY} == {PREVIEW_IMAGE, PREVIEW_IMAGE_WITH_METADATA}
    for record in BINARY:
        header_and_payload = record["len"] - record["payload_len"]
        expected = 8 if record["u32_be"][0] == PREVIEW_IMAGE else 8 + record["u32_be"][1]
        assert header_and_payload == expected


def test_truncated_binary_frame_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        parse_preview(b"\x00\x00\x00")
    with pytest.raises(ProtocolError):
        parse_preview(b"\x00\x00\x00\x09\x00\x00\x00\x00")
