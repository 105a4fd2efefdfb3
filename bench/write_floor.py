"""The floor under every relayed delivery: one `send()` of one websocket frame on one loopback
TCP socket, the write each subscriber's socket needs whatever the server does above it.

Opens `--sockets` loopback TCP connections (nothing reads them: a few frames fit the kernel's
buffers), then writes a frame of the relay's size to each socket in turn, `--rounds` times, as
one event reaches every subscriber. Prints the time per write and what one event to 10,000
sockets costs at that rate on one core.

    python -m bench.write_floor [--sockets 4000] [--rounds 10] [--frame-bytes 420]
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

from bench import stats
from bench.runner import save_report

FRAME_HEADER = b"\x81\x7e"  # FIN + text, 16-bit length follows: what a server sends


@contextlib.contextmanager
def loopback_pairs(count: int) -> Iterator[list[socket.socket]]:
    """`count` connected loopback TCP sockets (the writing ends); the reading ends stay open
    and unread while the block runs."""
    opened: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1024)
        address = listener.getsockname()
        try:
            writers = []
            for _ in range(count):
                writer = socket.create_connection(address)
                reader, _ = listener.accept()
                writer.setblocking(False)
                writer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                opened += [writer, reader]
                writers.append(writer)
            yield writers
        finally:
            for each in opened:
                each.close()


def frame(size: int) -> bytes:
    payload = b'{"id":"0","type":"next","payload":' + b"x" * max(0, size - 36) + b"}"
    return FRAME_HEADER + len(payload).to_bytes(2, "big") + payload


def write_rounds(writers: list[socket.socket], data: bytes, rounds: int) -> list[float]:
    """Seconds per write, one figure per round (every socket written once)."""
    per_write = []
    for _ in range(rounds):
        started = time.perf_counter()
        for writer in writers:
            writer.send(data)
        per_write.append((time.perf_counter() - started) / len(writers))
    return per_write


def write_floor(sockets: int, rounds: int, frame_bytes: int) -> dict[str, Any]:
    with loopback_pairs(sockets) as writers:
        per_write = stats.summarize(write_rounds(writers, frame(frame_bytes), rounds))
    ten_thousand = per_write.p50 * 10_000
    print(
        f"write floor: {sockets} loopback sockets x {rounds} rounds, {frame_bytes}-byte frames:"
        f" {per_write.p50 * 1e6:.1f} us per write (p50 of rounds; max {per_write.max * 1e6:.1f});"
        f" one event to 10,000 sockets = {stats.ms(ten_thousand)} of one core"
    )
    return {
        "sockets": sockets,
        "rounds": rounds,
        "frame_bytes": frame_bytes,
        "per_write": per_write.as_dict(),
        "event_to_10000_s": ten_thousand,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--frame-bytes", type=int, default=420)
    args = parser.parse_args(argv)
    save_report("write_floor", write_floor(args.sockets, args.rounds, args.frame_bytes))


if __name__ == "__main__":
    main()
