"""Returns over the calendar on generated data: a warm start on January 1, the December 26
peak, closed days; and the new returns / cost / dim_date checks pass."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from tests.volumes import generate, small_config

from retail_datagen.engine.history import cover_dates
from retail_datagen.storage.duckdb_store import open_store
from retail_datagen.storage.layout import DataLayout
from retail_datagen.validation.runner import validate

NEW_CHECKS = (
    "returns:",
    "marketing: mean cost",
    "marketing: every cost",
    "dim_date: covers",
    "unique fact_receipt_lines(ReceiptId, ProductID)",  # pre-history returns merge repeats too
)


def _generate(root: Path, start: str, end: str) -> Path:
    config = small_config(
        root,
        seed=11,
        start=start,
        dcs=1,
        total_customers=2000,
        customers_per_day=700,
        online_orders_per_day=50,
        marketing_impressions_per_day=2000,
    )
    generate(config, start, end)
    return root


def _returns_per_day(root: Path) -> dict[date, int]:
    files = f"{root}/export/fact_receipts/**/*.parquet"
    rows = duckdb.sql(
        f"""SELECT CAST("EventTS" AS DATE), count(*) FILTER (WHERE "ReceiptType" = 'RETURN')
            FROM read_parquet('{files}') GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    return {d: int(n) for d, n in rows}


def _new_checks_pass(root: Path) -> dict[str, str]:
    report = validate(root)
    mine = [r for r in report.results if r.name.startswith(NEW_CHECKS)]
    assert len(mine) >= 9
    failed = {r.name: r.detail for r in mine if not r.passed}
    assert not failed, failed
    return {r.name: r.detail for r in mine}


@pytest.fixture(scope="module")
def january(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("jan") / "data", "2024-01-01", "2024-01-21")


@pytest.fixture(scope="module")
def holidays(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("dec") / "data", "2024-11-29", "2024-12-31")


def test_a_history_starting_january_1_has_returns_on_day_one(january: Path) -> None:
    """Before: none on day 1, a ramp over two weeks. Now the first days carry the returns of
    December's sales (gifts included), so they are at least the later level."""
    per_day = _returns_per_day(january)
    later = sum(per_day[date(2024, 1, d)] for d in range(15, 22)) / 7
    assert per_day[date(2024, 1, 1)] >= 0.8 * later > 0
    assert sum(per_day[date(2024, 1, d)] for d in range(1, 8)) / 7 >= 0.8 * later
    _new_checks_pass(january)


def test_the_black_friday_to_new_year_window_passes_the_december_checks(holidays: Path) -> None:
    per_day = _returns_per_day(holidays)
    assert date(2024, 12, 25) not in per_day or per_day[date(2024, 12, 25)] == 0
    normal = sorted(per_day[date(2024, 12, d)] for d in range(1, 21))
    assert per_day[date(2024, 12, 24)] < 2 * normal[10]  # no longer doubled by Dec 25's returns
    details = _new_checks_pass(holidays)
    assert any(
        name.startswith("returns: December 26") and "skipped" not in detail
        for name, detail in details.items()
    )


def test_dim_date_grows_when_facts_pass_its_end(january: Path, tmp_path: Path) -> None:
    """The appender extends dim_date to December 31 of the last fact day's year (streaming into
    a new year, or a history generated years after its start); facts stay."""
    root = tmp_path / "data"
    shutil.copytree(january, root)
    layout = DataLayout.of(root)
    cover_dates(layout, date(2026, 6, 1))  # inside: nothing changes
    before = pq.read_table(layout.dim_file("dim_date"))
    assert before["Date"][-1].as_py() == date(2026, 12, 31)
    cover_dates(layout, date(2027, 1, 3))
    after = pq.read_table(layout.dim_file("dim_date"))
    assert after["Date"][-1].as_py() == date(2027, 12, 31)
    assert after.slice(0, before.num_rows).equals(before)
    with open_store(root) as con:
        assert con.execute('SELECT max("Date") FROM dim_date').fetchone() == (date(2027, 12, 31),)
        assert con.execute("SELECT count(*) FROM fact_receipts").fetchone()[0] > 0
