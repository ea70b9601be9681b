"""Tables, previews, date ranges, the dashboard and the generation state."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import httpx
import pytest

from retail_datagen.schema import TABLES


async def test_table_list_has_kind_rows_and_doc(data_client: httpx.AsyncClient) -> None:
    tables = (await data_client.get("/api/tables")).json()["tables"]
    assert [t["name"] for t in tables] == list(TABLES)
    stores = next(t for t in tables if t["name"] == "dim_stores")
    assert stores["kind"] == "dimension" and stores["rows"] == 4 and stores["doc"]
    receipts = next(t for t in tables if t["name"] == "fact_receipts")
    assert receipts["kind"] == "fact" and receipts["rows"] > 0
    counts = (await data_client.get("/api/tables/counts")).json()
    assert counts["counts"]["dim_stores"] == 4
    assert counts["total_rows"] == sum(t["rows"] for t in tables)


async def test_preview_pages_through_rows(data_client: httpx.AsyncClient) -> None:
    first = (await data_client.get("/api/tables/fact_receipts/preview?limit=3")).json()
    assert [c["name"] for c in first["columns"]] == TABLES["fact_receipts"].column_names
    assert len(first["rows"]) == 3
    total = first["columns"].index(next(c for c in first["columns"] if c["name"] == "Total"))
    Decimal(first["rows"][0][total])  # money is an exact decimal string
    second = (await data_client.get("/api/tables/fact_receipts/preview?limit=2&offset=1")).json()
    assert second["rows"] == first["rows"][1:3]


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=1001", "limit"), ("offset=-1", "offset"), ("limit=x", "limit")],
)
async def test_preview_bounds_are_422_naming_the_field(
    data_client: httpx.AsyncClient, query: str, field: str
) -> None:
    response = await data_client.get(f"/api/tables/dim_stores/preview?{query}")
    assert response.status_code == 422 and field in response.json()["detail"]


@pytest.mark.parametrize(
    "name",
    [
        "nope",
        "..%2F..%2Fetc%2Fpasswd",
        "dim_stores;DROP TABLE dim_stores",
        "dim_stores%22--",
        "%2E%2E",
        "information_schema.tables",
    ],
)
async def test_only_registry_tables_can_be_read(data_client: httpx.AsyncClient, name: str) -> None:
    for suffix in ("preview", "date-range"):
        response = await data_client.get(f"/api/tables/{name}/{suffix}")
        assert response.status_code == 404, (name, suffix)
        assert "unknown table" in response.json()["detail"] or response.json()["detail"] == (
            "Not Found"
        )


async def test_date_range_of_facts(data_client: httpx.AsyncClient) -> None:
    span = (await data_client.get("/api/tables/fact_receipts/date-range")).json()
    assert span["start"].startswith("2024-01-01") and span["end"].startswith("2024-01-02")
    dimension = await data_client.get("/api/tables/dim_stores/date-range")
    assert dimension.status_code == 404
    assert "only fact tables have a date range" in dimension.json()["detail"]


async def test_dashboard_figures_match_the_store(
    data_client: httpx.AsyncClient, generated_dir: Path
) -> None:
    dashboard = (await data_client.get("/api/dashboard")).json()
    with duckdb.connect(str(generated_dir / "retail.duckdb"), read_only=True) as con:
        expected = con.execute(
            "SELECT CAST(EventTS AS DATE), sum(Total) FROM fact_receipts "
            "WHERE ReceiptType = 'SALE' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        # visitors are counted at the entrance: every zone sums each visitor 2-5 times
        entrance = dict(
            con.execute(
                "SELECT hour(EventTS), sum(Count) FROM fact_foot_traffic "
                "WHERE Zone = 'ENTRANCE' GROUP BY 1"
            ).fetchall()
        )
    assert [d["date"] for d in dashboard["daily_sales"]] == [str(d) for d, _ in expected]
    assert [round(d["sales"], 2) for d in dashboard["daily_sales"]] == [
        float(total) for _, total in expected
    ]
    hours = dashboard["traffic_by_hour"]
    assert [h["hour"] for h in hours] == list(range(24)) and sum(h["visitors"] for h in hours) > 0
    assert {h["hour"]: h["visitors"] for h in hours if h["visitors"]} == entrance
    assert dashboard["recent_events"] == [] and dashboard["streaming"] is False
    assert {c["name"] for c in dashboard["counts"]} == set(TABLES)


async def test_an_empty_data_folder_reads_as_empty(client: httpx.AsyncClient) -> None:
    tables = (await client.get("/api/tables")).json()["tables"]
    assert all(t["rows"] is None for t in tables)
    preview = (await client.get("/api/tables/fact_receipts/preview")).json()
    assert preview["rows"] == []
    span = (await client.get("/api/tables/fact_receipts/date-range")).json()
    assert span["start"] is None
    dashboard = (await client.get("/api/dashboard")).json()
    assert dashboard["daily_sales"] == [] and len(dashboard["traffic_by_hour"]) == 24
    state = (await client.get("/api/state")).json()
    assert state["has_store"] is False and state["state"]["has_fact_data"] is False
