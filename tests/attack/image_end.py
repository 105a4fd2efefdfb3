"""Where an encoded image ends, read from its structure, to find bytes smuggled after it."""

from __future__ import annotations

RESTART_MARKERS = range(0xD0, 0xD8)


def png_end(data: bytes) -> int:
    at = 8
    while at + 8 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        at += 12 + length
        if kind == b"IEND":
            return at
    raise ValueError("no IEND chunk")


def webp_end(data: bytes) -> int:
    size = int.from_bytes(data[4:8], "little")
    return 8 + size + (size % 2)


def entropy_end(data: bytes, at: int) -> int:
    """The position of the first marker after entropy-coded data (0xFF00 and RSTn are data)."""
    while True:
        at = data.find(b"\xff", at)
        if at < 0 or at + 1 >= len(data):
            return len(data)
        following = data[at + 1]
        if following != 0x00 and following not in RESTART_MARKERS:
            return at
        at += 2


def jpeg_end(data: bytes) -> int:
    at = 2
    while at + 2 <= len(data):
        if data[at] != 0xFF:
            raise ValueError(f"no marker at {at}")
        marker = data[at + 1]
        if marker == 0xFF:
            at += 1
        elif marker == 0xD9:
            return at + 2
        elif marker in RESTART_MARKERS or marker == 0x01:
            at += 2
        else:
            at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
            if marker == 0xDA:
                at = entropy_end(data, at)
    raise ValueError("no EOI marker")


ENDS = {"PNG": png_end, "JPEG": jpeg_end, "WEBP": webp_end}


def trailing_bytes(data: bytes, fmt: str) -> int:
    """How many bytes follow the end of the image."""
    return len(data) - ENDS[fmt](data)
