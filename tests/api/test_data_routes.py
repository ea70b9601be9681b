"""Export (a task), validation (direct and as a task) and clearing all data."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from retail_datagen.api.services.tasks import TaskContext


async def _done(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    for _ in range(600):
        task: dict[str, Any] = (await client.get(f"/api/tasks/{task_id}")).json()
        if task["status"] not in ("pending", "running"):
            return task
        await asyncio.sleep(0.05)
    raise AssertionError("task did not finish")


async def test_export_csv_writes_inside_the_data_folder(
    own_data: httpx.AsyncClient, tmp_path: Path, sse: Any
) -> None:
    body = {"format": "csv", "tables": ["dim_stores", "fact_receipts"], "out_dir": "csv-out"}
    response = await own_data.post("/api/export", json=body)
    assert response.status_code == 202
    events = sse((await own_data.get(f"/api/tasks/{response.json()['id']}/events")).text)
    done = events[-1][1]
    assert done["status"] == "succeeded", done
    assert done["progress"]["table_counter"] == "2/2 tables complete"
    out = tmp_path / "data" / "csv-out"
    assert (out / "dim_stores" / "dim_stores.csv").is_file()
    assert (out / "fact_receipts" / "fact_receipts_2024-01.csv").is_file()
    assert done["result"]["files"] == {"dim_stores": 1, "fact_receipts": 1}


@pytest.mark.parametrize(
    "out_dir",
    ["../outside", "/tmp", "csv/../../escape", ".", "link-out"],
)
async def test_export_outside_the_data_folder_is_refused(
    own_data: httpx.AsyncClient, tmp_path: Path, out_dir: str
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "data" / "link-out").symlink_to(tmp_path / "elsewhere")
    response = await own_data.post("/api/export", json={"format": "csv", "out_dir": out_dir})
    assert response.status_code == 403
    assert "not inside the data folder" in response.json()["detail"]
    assert not list((tmp_path / "elsewhere").iterdir())


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"format": "xlsx"}, 422, "format"),
        ({"format": "parquet", "csv_daily": True}, 422, "csv_daily"),
        ({"format": "csv", "tables": ["../../etc/passwd"]}, 404, "unknown table"),
    ],
)
async def test_bad_export_requests(
    own_data: httpx.AsyncClient, body: dict[str, Any], status: int, field: str
) -> None:
    response = await own_data.post("/api/export", json=body)
    assert response.status_code == status and field in response.json()["detail"]


async def test_validate_returns_the_report(data_client: httpx.AsyncClient, sse: Any) -> None:
    report = (await data_client.post("/api/validate")).json()
    assert report["checks"] > 10
    assert report["failures"] == len([r for r in report["results"] if not r["passed"]])
    task = (await data_client.post("/api/validate/task")).json()
    events = sse((await data_client.get(f"/api/tasks/{task['id']}/events")).text)
    assert events[-1][1]["result"]["checks"] == report["checks"]


async def test_validate_without_data_says_so(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/validate")
    assert response.status_code == 409 and "generate" in response.json()["detail"]


async def test_clear_needs_the_exact_confirmation(
    own_data: httpx.AsyncClient, tmp_path: Path
) -> None:
    for body in ({}, {"confirm": "yes"}, {"confirm": "delete all data"}):
        response = await own_data.post("/api/data/clear", json=body)
        assert response.status_code in (400, 422)
        assert "confirm" in response.json()["detail"]
    assert (tmp_path / "data" / "retail.duckdb").exists()


async def test_clear_deletes_only_generated_data_inside_the_folder(
    own_data: httpx.AsyncClient, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    (data / "my-notes.txt").write_text("keep me", encoding="utf-8")
    (tmp_path / "neighbour.txt").write_text("keep me too", encoding="utf-8")
    response = await own_data.post("/api/data/clear", json={"confirm": "DELETE ALL DATA"})
    assert response.status_code == 200
    removed = response.json()["removed"]
    assert str(data / "retail.duckdb") in removed
    assert all(Path(p).resolve().is_relative_to(data) for p in removed)
    assert not (data / "retail.duckdb").exists() and not (data / "export").exists()
    assert (data / "my-notes.txt").exists() and (tmp_path / "neighbour.txt").exists()
    tables = (await own_data.get("/api/tables")).json()["tables"]
    assert all(t["rows"] is None for t in tables)


async def test_clear_refuses_while_a_task_runs_unless_asked_to_cancel(
    own_data: httpx.AsyncClient, app_services: Any, tmp_path: Path
) -> None:
    stop = threading.Event()

    def worker(ctx: TaskContext) -> dict[str, Any]:
        while not ctx.cancelled and not stop.is_set():
            ctx.cancel_event.wait(0.05)
        return {}

    task = app_services(own_data).tasks.submit("worker", worker)
    try:
        busy = await own_data.post("/api/data/clear", json={"confirm": "DELETE ALL DATA"})
        assert busy.status_code == 409 and "cancel_running" in busy.json()["detail"]
        assert (tmp_path / "data" / "retail.duckdb").exists()
        body = {"confirm": "DELETE ALL DATA", "cancel_running": True}
        done = await own_data.post("/api/data/clear", json=body)
        assert done.status_code == 200, done.text
        assert done.json()["cancelled_tasks"] == [task.id]
        assert not (tmp_path / "data" / "retail.duckdb").exists()
    finally:
        stop.set()
    assert (await own_data.get(f"/api/tasks/{task.id}")).json()["status"] in (
        "cancelled",
        "succeeded",
    )
