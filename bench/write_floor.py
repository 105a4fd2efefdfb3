"""The floor under every relayed delivery: one `send()` of one websocket frame on one loopback
TCP socket, the write each subscriber's socket needs whatever the server does above it.

Opens `--sockets` loopback TCP connections, then writes a frame of the relay's size to each
socket in turn, `--rounds` times, as one event reaches every subscriber: first with a reader
process waiting on all the other ends in epoll, as subscribers do (each write also wakes it),
then with nothing reading them (a few frames fit the kernel's buffers).
Prints the time per write and what one event to 10,000 sockets costs at that rate on one core.

    python -m bench.write_floor [--sockets 4000] [--rounds 10] [--frame-bytes 420]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import selectors
import socket
import time
from collections.abc import Iterator
from typing import Any

from bench import stats
from bench.runner import save_report

FRAME_HEADER = b"\x81\x7e"  # FIN + text, 16-bit length follows: what a server sends


@contextlib.contextmanager
def loopback_pairs(count: int) -> Iterator[tuple[list[socket.socket], list[socket.socket]]]:
    """`count` connected loopback TCP sockets: (writing ends, reading ends)."""
    writers: list[socket.socket] = []
    readers: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1024)
        address = listener.getsockname()
        try:
            for _ in range(count):
                writer = socket.create_connection(address)
                writers.append(writer)
                reader, _ = listener.accept()
                readers.append(reader)
                writer.setblocking(False)
                writer.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            yield writers, readers
        finally:
            for each in writers + readers:
                each.close()


def drain(readers: list[socket.socket]) -> None:
    """The reader process: wait on every socket in epoll and read what arrives, until killed."""
    selector = selectors.DefaultSelector()
    for reader in readers:
        reader.setblocking(False)
        selector.register(reader, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            key.fileobj.recv(65536)  # type: ignore[union-attr]


@contextlib.contextmanager
def reading(readers: list[socket.socket]) -> Iterator[None]:
    """A forked process draining `readers` while the block runs."""
    context = multiprocessing.get_context("fork")
    process = context.Process(target=drain, args=(readers,), daemon=True)
    process.start()
    try:
        time.sleep(0.5)  # registered and waiting
        yield
    finally:
        process.kill()
        process.join()


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
    data = frame(frame_bytes)
    idle: list[float] = []
    woken: list[float] = []
    with loopback_pairs(sockets) as (writers, readers):
        with reading(readers):
            for _ in range(rounds):  # a pause after each round: the reader is waiting again
                woken += write_rounds(writers, data, 1)
                time.sleep(0.2)
        for _ in range(rounds):
            idle += write_rounds(writers, data, 1)
    report: dict[str, Any] = {"sockets": sockets, "rounds": rounds, "frame_bytes": frame_bytes}
    print(f"write floor: {sockets} loopback sockets x {rounds} rounds, {frame_bytes}-byte frames")
    for name, per_write in (("reader waiting in epoll", woken), ("nothing reading", idle)):
        summary = stats.summarize(per_write)
        ten_thousand = summary.p50 * 10_000
        print(
            f"  {name}: {summary.p50 * 1e6:.1f} us per write (p50 of rounds; max"
            f" {summary.max * 1e6:.1f}); one event to 10,000 sockets = {stats.ms(ten_thousand)}"
            " of one core"
        )
        report[name] = {"per_write": summary.as_dict(), "event_to_10000_s": ten_thousand}
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--frame-bytes", type=int, default=420)
    args = parser.parse_args(argv)
    save_report("write_floor", write_floor(args.sockets, args.rounds, args.frame_bytes))


if __name__ == "__main__":
    main()
