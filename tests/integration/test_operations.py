from __future__ import annotations

import dataclasses
import socket

import httpx

from graphql_api.app import create_app
from graphql_api.settings import Settings
from tasks.store.database import Database
from tests.integration.test_runs_on_comfyui import submit, wait_terminal
from tests.support.graphql import GraphQLClient
from tests.support.server import serve_asgi


def metric(text: str, name: str) -> float:
    """The value of one sample (`name` with its labels, as Prometheus prints them)."""
    values = [
        line.rsplit(" ", 1)[1] for line in text.splitlines() if line.rsplit(" ", 1)[0] == name
    ]
    assert len(values) == 1, name
    return float(values[0])


async def test_metrics_report_a_finished_run(live: GraphQLClient, live_url: str) -> None:
    task = await wait_terminal(live, await submit(live, steps=3))
    assert task["status"] == "COMPLETED"
    text = (await live.http.get("/metrics")).text
    assert metric(text, 'kontext_tasks{status="COMPLETED"}') == 1
    assert metric(text, 'kontext_tasks_finished_total{status="COMPLETED"}') == 1
    assert metric(text, 'kontext_end_to_end_seconds_count{status="COMPLETED"}') == 1
    assert metric(text, "kontext_time_in_queue_seconds_count") == 1
    assert metric(text, "kontext_time_to_first_step_seconds_count") == 1
    assert metric(text, "kontext_queue_depth") == 0
    assert metric(text, 'kontext_bytes_stored{kind="output"}') > 0
    backend = [line for line in text.splitlines() if line.startswith("kontext_backend_ready{")]
    assert backend and backend[0].endswith(" 1.0")


async def test_readyz_is_ready_with_a_backend(live: GraphQLClient) -> None:
    response = await live.http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "problems": []}
    assert (await live.http.get("/healthz")).json() == {"status": "ok"}


async def test_readyz_names_every_cause_when_not_ready(
    settings: Settings, database: Database
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    broken = dataclasses.replace(settings, dispatch=True, comfyui_urls=(dead,))
    async with serve_asgi(create_app(broken)) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    [problem] = response.json()["problems"]
    assert problem.startswith(f"backend {dead} not ready")
