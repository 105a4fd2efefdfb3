"""History pages, counts and one task as the store reads them without the ORM's models: the same
tasks, values and images the ORM reads, on both databases."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tasks.requests import HistoryQuery
from tasks.status import TaskStatus
from tasks.store.clock import utc_now
from tasks.store.database import Database
from tasks.store.history import Cursor, history_count, history_page, owned_task_with_images
from tasks.store.models import ImageKind, StoredImage, Task
from tasks.store.reading import IMAGE_COLUMNS
from tasks.store.snapshots import snapshot_of

OWNER = "reader"
DESCRIPTIONS = ("a red car", "100% blue sky", "snake_case road", "a RED barn", "Blue 100x sky")
STATUSES = (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.PENDING, TaskStatus.CANCELLED)


async def stored_image(owner: str, index: int, thumbnail: bool = True) -> StoredImage:
    return await StoredImage.create(
        owner=owner, kind=ImageKind.OUTPUT, sha256=uuid.uuid4().hex * 2,
        blob_key=f"outputs/{index}.png", thumbnail_key=f"thumbs/{index}.webp" if thumbnail else None,
        content_type="image/png", width=640 + index, height=480, size=10_000 + index,
        created_at=utc_now(),
    )  # fmt: skip


async def history(owner: str, count: int) -> list[Task]:
    """`count` tasks of `owner`, every third pair created at the same instant (ties on id)."""
    reference = await stored_image(owner, 0)
    start = utc_now() - timedelta(days=1)
    tasks = []
    for index in range(count):
        status = STATUSES[index % len(STATUSES)]
        result = (
            await stored_image(owner, index + 1, index % 2 == 0) if status == "COMPLETED" else None
        )
        tasks.append(await Task.create(
            id=uuid.uuid4(), owner=owner, status=status, workflow="flux_kontext_dev_basic",
            description=DESCRIPTIONS[index % len(DESCRIPTIONS)],
            parameters={"steps": 20, "cfg": 1.0 + index}, seed=str(index), reference_image=reference,
            result_image=result, request_hash="h", progress=12.5 * (index % 8),
            prompt_id=f"prompt-{owner}-{index}" if index % 3 else None,
            error_code="EXECUTION_FAILED" if status == "FAILED" else None,
            error_details={"node_id": "7"} if status == "FAILED" else None,
            created_at=start + timedelta(seconds=index - index % 3 // 2), updated_at=start,
            finished_at=start + timedelta(minutes=index) if index % 2 else None,
        ))  # fmt: skip
    return tasks


async def orm_pages(query: HistoryQuery) -> list[list[Task]]:
    """Every page of `query` as the ORM reads it."""
    kept = Task.filter(owner=query.owner)
    if query.statuses:
        kept = kept.filter(status__in=list(query.statuses))
    if query.search:
        kept = kept.filter(description__icontains=query.search.strip())
    rows = await kept.order_by("-created_at", "-id")
    return [rows[i : i + query.first] for i in range(0, len(rows), query.first)]


async def assert_pages_as_the_orm_reads_them(query: HistoryQuery) -> None:
    expected = await orm_pages(query)
    after = None
    for rows in expected:
        page = await history_page(
            HistoryQuery(query.owner, query.first, after, query.statuses, query.search),
            joined=("reference_image", "result_image"),
        )
        assert page.tasks == [snapshot_of(row) for row in rows]
        for task in page.tasks:
            for image_id in (task.reference_image_id, task.result_image_id):
                if image_id is not None:
                    row = await StoredImage.get(id=image_id)
                    image = page.images[image_id]
                    assert [getattr(image, c) for c in IMAGE_COLUMNS] == [
                        getattr(row, c) for c in IMAGE_COLUMNS
                    ]
        assert page.has_next_page == (rows is not expected[-1])
        after = page.end_cursor
    assert await history_count(query) == sum(len(rows) for rows in expected)


async def test_pages_filters_and_counts_read_as_the_orm_reads_them(database: Database) -> None:
    await history(OWNER, 23)
    await history("someone else", 5)
    queries = [
        HistoryQuery(OWNER, first=4),
        HistoryQuery(OWNER, first=100),
        HistoryQuery(OWNER, first=3, statuses=frozenset({TaskStatus.COMPLETED})),
        HistoryQuery(OWNER, first=2, statuses=frozenset({TaskStatus.FAILED, TaskStatus.PENDING})),
        HistoryQuery(OWNER, first=5, search="red"),
        HistoryQuery(OWNER, first=5, search="100%"),  # % and _ are taken literally
        HistoryQuery(OWNER, first=5, search="e_c"),
        HistoryQuery(OWNER, first=5, search="blue", statuses=frozenset({TaskStatus.CANCELLED})),
        HistoryQuery(OWNER, first=5, search="nothing like it"),
    ]
    for query in queries:
        await assert_pages_as_the_orm_reads_them(query)
    assert await history_count(HistoryQuery(OWNER, first=1, search="100%")) == 5
    assert await history_count(HistoryQuery(OWNER, first=1, search="e_c")) == 5


async def test_a_page_after_the_last_task_is_empty(database: Database) -> None:
    tasks = await history(OWNER, 3)
    oldest = min(tasks, key=lambda task: (task.created_at, task.id))
    page = await history_page(HistoryQuery(OWNER, first=5, after=Cursor.of(oldest).encode()))
    assert page.tasks == [] and not page.has_next_page and page.end_cursor is None


async def test_one_task_with_its_images_as_the_orm_reads_it(database: Database) -> None:
    tasks = await history(OWNER, 4)
    for row in tasks:
        found = await owned_task_with_images(row.id, OWNER, ("result_image", "second_image"))
        assert found is not None
        task, images = found
        assert task == snapshot_of(await Task.get(id=row.id))
        result_id = task.result_image_id
        assert set(images) == ({result_id} if result_id else set())
    assert await owned_task_with_images(tasks[0].id, "someone else") is None
    assert await owned_task_with_images(uuid.uuid4(), OWNER) is None
