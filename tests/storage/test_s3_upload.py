"""How a stream is cut into upload parts, and how a byte cap refuses it (no server needed)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.errors import BlobTooLarge
from storage.s3_upload import limited, parts_of

PART_SIZE = 10


async def chunked(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def cut(data: bytes, chunk_size: int) -> list[tuple[bytes, bool]]:
    return [
        (part.body.read(), part.last)
        async for part in parts_of(chunked(data, chunk_size), PART_SIZE)
    ]


@pytest.mark.parametrize("chunk_size", [1, 3, 9, 10, 11, 25, 100])
@pytest.mark.parametrize("length", [0, 1, 10, 11, 20, 31])
async def test_parts_are_full_sized_except_the_last_whatever_the_chunking(
    length: int, chunk_size: int
) -> None:
    data = bytes(index % 251 for index in range(length))
    parts = await cut(data, chunk_size)
    assert b"".join(body for body, _ in parts) == data
    assert [last for _, last in parts] == [False] * (len(parts) - 1) + [True]
    assert all(len(body) == PART_SIZE for body, _ in parts[:-1])
    assert 0 < len(parts[-1][0]) <= PART_SIZE or length == 0


async def test_a_stream_of_exactly_one_part_is_a_single_last_part() -> None:
    parts = await cut(b"x" * PART_SIZE, 4)
    assert parts == [(b"x" * PART_SIZE, True)]


async def test_parts_report_their_size() -> None:
    sizes = [part.size async for part in parts_of(chunked(b"y" * 25, 7), PART_SIZE)]
    assert sizes == [10, 10, 5]


async def test_the_cap_refuses_the_chunk_that_crosses_it() -> None:
    capped = limited(chunked(b"z" * 30, 10), "a.png", 25)
    assert [await anext(capped), await anext(capped)] == [b"z" * 10, b"z" * 10]
    with pytest.raises(BlobTooLarge) as refused:
        await anext(capped)
    assert (refused.value.key, refused.value.limit) == ("a.png", 25)


async def test_a_stream_at_the_cap_passes() -> None:
    passed = [chunk async for chunk in limited(chunked(b"z" * 30, 10), "a.png", 30)]
    assert b"".join(passed) == b"z" * 30
