"""The wire protocol against every frame ComfyUI 0.8.0 sent in the recordings."""

from __future__ import annotations

import logging
from typing import Any, get_args

import pytest

from comfy import protocol
from comfy.protocol import (
    MESSAGE_TYPES,
    PREVIEW_IMAGE,
    PREVIEW_IMAGE_WITH_METADATA,
    PreviewFrame,
    ProtocolError,
    encode_message,
    encode_preview,
    feature_flags_hello,
    parse_client_message,
    parse_message,
    parse_preview,
    preview_metadata,
)
from tests.comfy.recorded import saved, ws_records

TEXT = ws_records("ws_text")
BINARY = ws_records("ws_binary")
DATA_TYPES: dict[str, Any] = {
    "status": protocol.StatusData,
    "feature_flags": protocol.ServerFeatureFlags,
    "execution_start": protocol.ExecutionStartData,
    "execution_cached": protocol.ExecutionCachedData,
    "executing": protocol.ExecutingData,
    "progress": protocol.ProgressData,
    "progress_state": protocol.ProgressStateData,
    "executed": protocol.ExecutedData,
    "execution_success": protocol.ExecutionSuccessData,
    "execution_error": protocol.ExecutionErrorData,
    "execution_interrupted": protocol.ExecutionInterruptedData,
}


def frame_id(record: dict[str, Any]) -> str:
    return f"{record['scenario']}-{record['seq']}-{record['type']}"


def test_the_recordings_hold_every_message_type_the_protocol_defines() -> None:
    declared = set(get_args(protocol.MessageType))
    assert {record["type"] for record in TEXT} == MESSAGE_TYPES == set(DATA_TYPES) == declared
    assert len(TEXT) == 747


@pytest.mark.parametrize("record", TEXT, ids=frame_id)
def test_every_recorded_text_frame_parses_and_reencodes_byte_for_byte(
    record: dict[str, Any],
) -> None:
    message = parse_message(record["raw"])
    assert message is not None
    assert message["type"] == record["type"]
    assert encode_message(message) == record["raw"]


def test_data_fields_are_declared_in_the_order_comfyui_writes_them() -> None:
    for record in TEXT:
        message = parse_message(record["raw"])
        assert message is not None
        declared = list(DATA_TYPES[record["type"]].__annotations__)
        written = list(message["data"])
        assert written == [key for key in declared if key in written], frame_id(record)


def test_messages_built_from_the_typed_dicts_encode_like_comfyui() -> None:
    executing: protocol.ExecutingMessage = {
        "type": "executing",
        "data": {"node": "31", "display_node": "31", "prompt_id": "p"},
    }
    finished: protocol.ExecutingMessage = {
        "type": "executing",
        "data": {"node": None, "prompt_id": "p"},
    }
    assert encode_message(executing) == (
        '{"type": "executing", "data": {"node": "31", "display_node": "31", "prompt_id": "p"}}'
    )
    assert (
        encode_message(finished)
        == '{"type": "executing", "data": {"node": null, "prompt_id": "p"}}'
    )


def test_the_executing_replay_after_a_reconnect_has_neither_prompt_nor_display_node() -> None:
    replays = [
        record["raw"]
        for record in ws_records("ws_text", "i_reconnect_and_broadcast", "I1bis")
        if record["type"] == "executing" and "prompt_id" not in record["raw"]
    ]
    assert replays == ['{"type": "executing", "data": {"node": "31"}}']
    assert parse_message(replays[0]) == {"type": "executing", "data": {"node": "31"}}


def test_the_first_status_carries_the_sid_and_later_ones_do_not() -> None:
    records = ws_records("ws_text", "a_success", "A")
    statuses = [parse_message(r["raw"]) for r in records if r["type"] == "status"]
    assert [message is not None and "sid" in message["data"] for message in statuses] == [True] + [
        False
    ] * (len(statuses) - 1)


def test_unknown_message_types_are_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="comfy.protocol"):
        assert parse_message('{"type": "crystools.monitor", "data": {"cpu": 3}}') is None
    assert "crystools.monitor" in caplog.text


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        b"\xff\xfe",
        "[1, 2]",
        '{"data": {}}',
        '{"type": "status"}',
        '{"type": "status", "data": []}',
        '{"type": "progress", "data": {"value": 1}}',
        '{"type": "progress", "data": {"value": "1", "max": 4, "prompt_id": "p", "node": "31"}}',
        '{"type": "executing", "data": {"node": 31}}',
        '{"type": "status", "data": {"status": {"exec_info": {}}}}',
        '{"type": "status", "data": {"status": []}}',
    ],
)
def test_malformed_frames_are_protocol_errors(raw: str | bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_message(raw)


def test_the_feature_flags_hello_is_exactly_what_the_recorded_client_sent() -> None:
    [sent] = ws_records("ws_send", "h_latent_previews")
    assert encode_message(feature_flags_hello()) == sent["raw"]
    assert parse_client_message(sent["raw"]) == feature_flags_hello()


@pytest.mark.parametrize(
    "raw",
    [
        "{}",
        "not json",
        '{"type": "prompt", "data": {}}',
        '{"type": "feature_flags", "data": {"supports_preview_metadata": "yes"}}',
    ],
)
def test_client_frames_comfyui_ignores_are_not_client_messages(raw: str) -> None:
    assert parse_client_message(raw) is None


def rebuilt(record: dict[str, Any]) -> PreviewFrame:
    event, second = record["u32_be"]
    image = saved(record["saved"])
    if event == PREVIEW_IMAGE:
        return PreviewFrame(
            event=event, mime={1: "image/jpeg", 2: "image/png"}[second], image=image
        )
    metadata = record["metadata"]
    return PreviewFrame(
        event=event,
        mime=metadata["image_type"],
        image=image,
        prompt_id=metadata["prompt_id"],
        node_id=metadata["node_id"],
    )


@pytest.mark.parametrize("record", BINARY, ids=lambda r: r["saved"])
def test_every_recorded_preview_header_is_rebuilt_from_its_saved_image(
    record: dict[str, Any],
) -> None:
    data = encode_preview(rebuilt(record))
    assert data[:8].hex() == record["first8_hex"]
    assert list(int.from_bytes(data[i : i + 4], "big") for i in (0, 4)) == record["u32_be"]
    assert len(data) == record["len"]
    assert len(data) - record["payload_len"] == (
        8 if record["u32_be"][0] == PREVIEW_IMAGE else 8 + record["u32_be"][1]
    )


@pytest.mark.parametrize("record", BINARY, ids=lambda r: r["saved"])
def test_every_recorded_preview_parses_back(record: dict[str, Any]) -> None:
    frame = parse_preview(encode_preview(rebuilt(record)))
    assert frame.image == saved(record["saved"])
    assert frame.event == record["u32_be"][0]
    assert frame.mime == "image/jpeg"
    if frame.event == PREVIEW_IMAGE_WITH_METADATA:
        assert frame.metadata == record["metadata"]
        assert (frame.prompt_id, frame.node_id) == (record["metadata"]["prompt_id"], "31")
    else:
        assert (frame.prompt_id, frame.node_id, frame.metadata) == (None, None, None)


def test_event_4_metadata_is_written_in_comfyuis_key_order() -> None:
    record = next(r for r in BINARY if r["u32_be"][0] == PREVIEW_IMAGE_WITH_METADATA)
    metadata = preview_metadata(prompt_id=record["metadata"]["prompt_id"], node_id="31")
    assert list(metadata.items()) == list(record["metadata"].items())


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00",
        b"\x00\x00\x00\x09\x00\x00\x00\x00",
        b"\x00\x00\x00\x01\x00\x00\x00\x07jpeg",
        b"\x00\x00\x00\x04\x00\x00\x00\xffshort",
        b"\x00\x00\x00\x04\x00\x00\x00\x03abc",
        b"\x00\x00\x00\x04\x00\x00\x00\x02[]",
    ],
    ids=["truncated", "unknown-event", "unknown-format", "overrun", "bad-json", "not-object"],
)
def test_broken_binary_frames_are_protocol_errors(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_preview(data)


def test_event_4_needs_a_prompt_and_node_to_be_encoded() -> None:
    with pytest.raises(ProtocolError):
        encode_preview(
            PreviewFrame(event=PREVIEW_IMAGE_WITH_METADATA, mime="image/jpeg", image=b"")
        )


def test_a_png_preview_round_trips_with_format_2() -> None:
    data = encode_preview(PreviewFrame(event=PREVIEW_IMAGE, mime="image/png", image=b"png"))
    assert data == b"\x00\x00\x00\x01\x00\x00\x00\x02png"
    assert parse_preview(data).mime == "image/png"
