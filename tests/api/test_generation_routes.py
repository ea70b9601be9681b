"""Generation through the API: tasks with throttled progress over server-sent events."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from retail_datagen.api.services.tasks import TaskContext


async def wait_done(client: httpx.AsyncClient, task_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        task: dict[str, Any] = (await client.get(f"/api/tasks/{task_id}")).json()
        if task["status"] not in ("pending", "running"):
            return task
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish in {timeout} s")


async def test_a_real_small_generation_reports_progress_to_100_percent(
    client: httpx.AsyncClient, sse: Any
) -> None:
    response = await client.post(
        "/api/generate/facts", json={"start": "2024-01-01", "days": 2, "workers": 1}
    )
    assert response.status_code == 202
    task = response.json()
    assert task["kind"] == "generate_facts" and task["status"] in ("pending", "running")

    stream = await client.get(f"/api/tasks/{task['id']}/events")
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = sse(stream.text)
    progress = [data for name, data in events if name == "progress"]
    assert len(progress) >= 2
    assert [name for name, _ in events][-1] == "done"
    for update in progress:
        assert set(update) >= {
            "percent",
            "table_counter",
            "tables_in_progress",
            "estimated_seconds_remaining",
            "progress_rate",
            "last_update_timestamp",
        }
    stamps = [datetime.fromisoformat(p["last_update_timestamp"]) for p in progress]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps[:-1])]
    assert all(gap >= 0.099 for gap in gaps)  # throttled (the final update may come sooner)
    assert progress[-1]["percent"] == 100.0
    assert progress[-1]["table_counter"] == "16/16 tables complete"

    done = events[-1][1]
    assert done["status"] == "succeeded"
    assert done["result"]["rows"]["fact_receipts"] > 0
    final = await wait_done(client, task["id"])
    assert final["progress"]["percent"] == 100.0

    state = (await client.get("/api/state")).json()
    assert state["has_dimensions"] and state["state"]["has_fact_data"]
    assert state["state"]["last_generated_timestamp"].startswith("2024-01-02T23:59:59")
    tables = {t["name"]: t["rows"] for t in (await client.get("/api/tables")).json()["tables"]}
    assert tables["fact_receipts"] == done["result"]["rows"]["fact_receipts"]
    metrics = (await client.get("/metrics")).text
    assert 'retail_datagen_tasks_finished_total{kind="generate_facts",status="succeeded"} 1.0' in (
        metrics
    )
    assert 'retail_datagen_rows_generated_total{table="fact_receipts"}' in metrics

    # the next run continues after the history; an overlapping start is refused up front
    again = await client.post("/api/generate/facts", json={"start": "2024-01-01", "days": 1})
    assert again.status_code == 409 and "2024-01-03" in again.json()["detail"]


async def test_sse_resumes_after_last_event_id(client: httpx.AsyncClient, sse: Any) -> None:
    task = (await client.post("/api/generate/dimensions", json={})).json()
    full = sse((await client.get(f"/api/tasks/{task['id']}/events")).text)
    tail = sse(
        (await client.get(f"/api/tasks/{task['id']}/events", headers={"Last-Event-ID": "1"})).text
    )
    assert tail == full[1:]
    assert full[-1][1]["result"]["rows"]["dim_stores"] == 4


async def test_dimensions_under_facts_need_force(
    make_app: Any, tmp_path: Any, generate: Any
) -> None:
    generate(tmp_path / "data", days=1)
    transport = httpx.ASGITransport(make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        refused = await client.post("/api/generate/dimensions", json={"force": False})
        assert refused.status_code == 409 and "force" in refused.json()["detail"]
        forced = await client.post("/api/generate/dimensions", json={"force": True})
        assert forced.status_code == 202
        done = await wait_done(client, forced.json()["id"])
        assert done["status"] == "succeeded"
        state = (await client.get("/api/state")).json()["state"]
        assert state["has_fact_data"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"days": 0}, "days"),
        ({"start": "yesterday"}, "start"),
        ({"workers": 0}, "workers"),
        ({"format": "xlsx"}, "format"),
        ({"end": "2024-01-02", "until_now": True}, "until_now"),
        ({"format": "parquet", "csv_daily": True}, "csv_daily"),
        ({"dayz": 2}, "dayz"),
    ],
)
async def test_bad_fact_requests_are_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/generate/facts", json=body)
    assert response.status_code == 422
    assert field in response.json()["detail"]


async def test_a_range_in_the_future_is_refused(client: httpx.AsyncClient) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = await client.post("/api/generate/facts", json={"end": tomorrow})
    assert response.status_code == 400
    assert "not in the past" in response.json()["detail"]


async def test_one_data_changing_task_at_a_time(
    client: httpx.AsyncClient, app_services: Any
) -> None:
    release = threading.Event()

    def blocker(ctx: TaskContext) -> dict[str, Any]:
        release.wait(10)
        return {}

    running = app_services(client).tasks.submit("blocker", blocker)
    try:
        busy = await client.post("/api/generate/dimensions", json={})
        assert busy.status_code == 409
        assert running.id in busy.json()["detail"]
        assert (await client.post("/api/validate")).status_code == 409
        listed = (await client.get("/api/tasks")).json()["tasks"]
        assert [t["id"] for t in listed] == [running.id]
    finally:
        release.set()
    await wait_done(client, running.id)
    assert (await client.post("/api/generate/dimensions", json={})).status_code == 202


async def test_cancel_ends_a_task_as_cancelled(
    client: httpx.AsyncClient, app_services: Any, sse: Any
) -> None:
    started = threading.Event()

    def slow(ctx: TaskContext) -> dict[str, Any]:
        started.set()
        ctx.cancel_event.wait(10)
        from retail_datagen.api.services.tasks import TaskCancelled

        raise TaskCancelled({"committed": 0})

    task = app_services(client).tasks.submit("slow", slow)
    assert await asyncio.to_thread(started.wait, 5)
    response = await client.post(f"/api/tasks/{task.id}/cancel")
    assert response.status_code == 200
    events = sse((await client.get(f"/api/tasks/{task.id}/events")).text)
    assert events[-1][0] == "done" and events[-1][1]["status"] == "cancelled"
    assert events[-1][1]["result"] == {"committed": 0}


async def test_a_failing_task_reports_one_line_without_traceback(
    client: httpx.AsyncClient, app_services: Any
) -> None:
    def broken(ctx: TaskContext) -> dict[str, Any]:
        raise RuntimeError("disk on fire\nTraceback (most recent call last): ...")

    task = app_services(client).tasks.submit("broken", broken)
    done = await wait_done(client, task.id)
    assert done["status"] == "failed"
    assert done["error"] == "unexpected RuntimeError: disk on fire"


async def test_unknown_tasks_are_404(client: httpx.AsyncClient) -> None:
    for path in ("/api/tasks/nope", "/api/tasks/nope/events"):
        assert (await client.get(path)).status_code == 404
    assert (await client.post("/api/tasks/nope/cancel")).status_code == 404


async def test_a_task_that_committed_its_days_succeeds_while_a_notebook_holds_the_store(
    client: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notebook's read-write connection (the README's old snippet) keeps retail.duckdb's
    lock: the task still commits every day and ends "succeeded" (the views catch up later),
    and previews and counts meanwhile answer 200."""
    monkeypatch.setattr("retail_datagen.storage.duckdb_access.LOCK_WAIT_SECONDS", 0.3)
    first = await client.post("/api/generate/facts", json={"start": "2024-01-01", "days": 1})
    assert (await wait_done(client, first.json()["id"]))["status"] == "succeeded"
    store = tmp_path / "data" / "retail.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", NOTEBOOK_HOLDING_THE_STORE, str(store)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        task = await client.post("/api/generate/facts", json={"days": 2, "workers": 1})
        done = await wait_done(client, task.json()["id"])
        assert done["status"] == "succeeded", done
        preview = await client.get("/api/tables/fact_receipts/preview", params={"limit": 5})
        assert preview.status_code == 200 and len(preview.json()["rows"]) == 5
        dashboard = await client.get("/api/dashboard")
        assert dashboard.status_code == 200 and len(dashboard.json()["daily_sales"]) == 3
    finally:
        holder.kill()
        holder.wait()
    state = (await client.get("/api/state")).json()["state"]
    assert state["last_generated_timestamp"].startswith("2024-01-03T23:59:59")


NOTEBOOK_HOLDING_THE_STORE = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("ready", flush=True)
time.sleep(120)
"""
