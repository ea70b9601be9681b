"""``GET /api/clock`` says where the simulated clock stands (the UI's default disruption time):
the configured first day before anything is generated, then the end of the history, then the
day the streamer is on — without opening the store."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx

from retail_datagen.streaming.checkpoint import Checkpoint, CheckpointStore


async def test_the_clock_starts_at_the_configured_first_day(client: httpx.AsyncClient) -> None:
    state = (await client.get("/api/clock")).json()
    assert state["simulated_now"] == "2024-01-01T00:00:00"


async def test_the_clock_stands_after_the_history_then_at_the_streamed_day(
    make_app: Any, tmp_path: Path, generate: Any
) -> None:
    folder = tmp_path / "clock"
    generate(folder, days=2)  # history to 2024-01-02 23:59:59.999999
    app = make_app(folder)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        state = (await client.get("/api/clock")).json()
        assert state["simulated_now"] == "2024-01-03T00:00:00"
        CheckpointStore(folder).save(Checkpoint(day=date(2024, 1, 5), settled=10))
        state = (await client.get("/api/clock")).json()
        assert state["simulated_now"] == "2024-01-05T00:00:00"
        # the clock reads no table: it answers even when the store cannot be opened
        # (readers prefer the dimension exports, so those go too)
        (folder / "retail.duckdb").write_bytes(b"not a database" * 100)
        for export in (folder / "export").glob("dim_*/*.parquet"):
            export.unlink()
        assert (await client.get("/api/state")).status_code == 409
        assert (await client.get("/api/clock")).json() == state
