"""Read-side and maintenance services over the data folder: tables, previews, dashboard
figures, state, export and validation — each a call into the same library functions the CLI
uses (``storage``, ``validation``, ``storage.state``); clearing is
:func:`retail_datagen.services.data_folder.clear_data`."""

from __future__ import annotations

from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from retail_datagen.api.services.tasks import TaskCancelled, TaskContext, Work
from retail_datagen.engine.progress import ProgressTracker
from retail_datagen.errors import DataStateError
from retail_datagen.schema import DIMENSIONS, FACTS, get_table
from retail_datagen.storage.duckdb_store import (
    MAX_PREVIEW_ROWS,
    TableInfo,
    fact_date_range,
    has_dimensions,
    list_tables,
    preview,
    read_store,
    table_exists,
)
from retail_datagen.storage.export import ExportFormat, export_data
from retail_datagen.storage.layout import DataLayout
from retail_datagen.storage.sql import ident
from retail_datagen.storage.state import GenerationStateManager
from retail_datagen.streaming.event import EventEnvelope

__all__ = [
    "MAX_PREVIEW_ROWS",
    "dashboard",
    "date_range",
    "export_work",
    "generation_state",
    "json_value",
    "table_preview",
    "tables",
    "validate_data",
    "validate_work",
]

DAILY_SALES_DAYS = 120


def json_value(value: Any) -> Any:
    """A JSON-ready cell: money stays exact (a decimal string), times become ISO-8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | dtime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _has_store(root: Path) -> bool:
    return DataLayout.of(root).duckdb_path.exists()


# ---------------------------------------------------------------- tables
def tables(root: Path) -> list[TableInfo]:
    """Every registry table with kind, rows (None when absent) and doc; no store → no rows."""
    if not _has_store(root):
        return [
            TableInfo(t.name, "fact" if t.is_fact else "dimension", None, t.doc)
            for t in (*DIMENSIONS, *FACTS)
        ]
    return list_tables(root)


def table_preview(root: Path, name: str, limit: int, offset: int) -> dict[str, Any]:
    spec = get_table(name)
    columns = [{"name": c.name, "type": c.kind.duckdb, "doc": c.doc} for c in spec.columns]
    if not _has_store(root):
        return {
            "table": spec.name,
            "columns": columns,
            "rows": [],
            "limit": limit,
            "offset": offset,
        }
    data = preview(root, spec.name, limit=limit, offset=offset)
    rows = [[json_value(v) for v in row.values()] for row in data.to_pylist()]
    return {"table": spec.name, "columns": columns, "rows": rows, "limit": limit, "offset": offset}


def date_range(root: Path, name: str) -> tuple[datetime, datetime] | None:
    spec = get_table(name)
    if not _has_store(root):
        return None
    return fact_date_range(root, spec.name)


def generation_state(root: Path) -> dict[str, Any]:
    state = GenerationStateManager(root).load()
    return {
        "data_dir": str(root),
        "has_store": _has_store(root),
        "has_dimensions": _has_store(root) and has_dimensions(root),
        "state": state.model_dump(mode="json"),
    }


# ---------------------------------------------------------------- dashboard
def _dashboard_queries(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    daily: list[tuple[Any, ...]] = []
    hourly: dict[int, int] = {}
    if table_exists(con, "fact_receipts"):
        daily = con.execute(
            f"SELECT day, sales, receipts FROM ("
            f"SELECT CAST({ident('EventTS')} AS DATE) AS day, sum({ident('Total')}) AS sales,"
            f" count(*) AS receipts FROM {ident('fact_receipts')}"
            f" WHERE {ident('ReceiptType')} = 'SALE' GROUP BY 1 ORDER BY 1 DESC LIMIT ?"
            f") ORDER BY day",
            [DAILY_SALES_DAYS],
        ).fetchall()
    if table_exists(con, "fact_foot_traffic"):
        hourly = dict(
            con.execute(
                f"SELECT hour({ident('EventTS')}) AS h, sum({ident('Count')}) "
                f"FROM {ident('fact_foot_traffic')} WHERE {ident('Zone')} = 'ENTRANCE' "
                f"GROUP BY 1"
            ).fetchall()
        )
    return {
        "daily_sales": [
            {"date": d.isoformat(), "sales": float(s or 0), "receipts": int(n)} for d, s, n in daily
        ],
        "traffic_by_hour": [{"hour": h, "visitors": int(hourly.get(h) or 0)} for h in range(24)],
    }


def dashboard(root: Path, recent_events: list[EventEnvelope]) -> dict[str, Any]:
    """Counts per table, daily sales (sum of Total of SALE receipts), foot traffic by hour of
    day, and the streamer's recent events."""
    infos = tables(root)
    figures: dict[str, Any] = {
        "daily_sales": [],
        "traffic_by_hour": [{"hour": h, "visitors": 0} for h in range(24)],
    }
    if _has_store(root):
        figures = read_store(
            root, _dashboard_queries, tables=["fact_receipts", "fact_foot_traffic"]
        )
    return {
        "counts": [{"name": t.name, "kind": t.kind, "rows": t.rows} for t in infos],
        **figures,
        "recent_events": recent_events,
    }


# ---------------------------------------------------------------- export, validate, clear
def export_work(
    root: Path,
    fmt: ExportFormat,
    names: list[str] | None,
    csv_daily: bool,
    out_dir: Path | None,
) -> Work:
    """Export table by table (the CLI's ``export_data``), so progress and cancel are per table."""
    selected = (
        [get_table(n).name for n in names] if names else [t.name for t in (*DIMENSIONS, *FACTS)]
    )

    def work(ctx: TaskContext) -> dict[str, Any]:
        tracker = ProgressTracker(ctx.report, len(selected))
        files: dict[str, int] = {}
        for index, name in enumerate(selected):
            if ctx.cancelled:
                raise TaskCancelled({"files": files})
            tracker.update(
                index / len(selected),
                tables_complete=index,
                tables_in_progress=(name,),
                message=name,
            )
            written = export_data(root, fmt, [name], csv_daily=csv_daily, out_dir=out_dir)
            files[name] = len(written)
        tracker.update(1.0, tables_complete=len(selected), message="done", force=True)
        target = out_dir if out_dir is not None else DataLayout.of(root).export_dir
        return {
            "out_dir": str(target),
            "format": fmt,
            "files": files,
            "total_files": sum(files.values()),
        }

    return work


def validate_data(root: Path) -> dict[str, Any]:
    """Every invariant check (the CLI's ``validate``) as the report's JSON form."""
    from retail_datagen.validation import validate

    if not _has_store(root):
        raise DataStateError(f"no data in {root}; generate data first")
    return validate(root).to_dict()


def validate_work(root: Path) -> Work:
    def work(ctx: TaskContext) -> dict[str, Any]:
        tracker = ProgressTracker(ctx.report, 1)
        tracker.update(0.0, tables_complete=0, message="validating")
        report = validate_data(root)
        tracker.update(1.0, tables_complete=1, message="done", force=True)
        return report

    return work
