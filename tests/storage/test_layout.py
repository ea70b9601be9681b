"""DataLayout both builds and reads the data folder's file names: what it writes, it finds."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from retail_datagen.storage.layout import DataLayout, FactFileName

TABLE = "fact_receipts"


@pytest.fixture
def layout(tmp_path: Path) -> DataLayout:
    return DataLayout.of(tmp_path)


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_a_built_name_parses_back_to_its_kind_month_and_first_day(layout: DataLayout) -> None:
    cases = {
        layout.fact_month_file(TABLE, 2024, 3): FactFileName(
            "parquet", "2024-03", date(2024, 3, 1)
        ),
        layout.fact_part_file(TABLE, date(2024, 3, 17), "csv"): FactFileName(
            "csv", "2024-03", date(2024, 3, 17)
        ),
        layout.fact_day_file(TABLE, "2024-03-05"): FactFileName(
            "csv_daily", "2024-03", date(2024, 3, 5)
        ),
    }
    for path, expected in cases.items():
        assert layout.fact_file(TABLE, path) == expected
        assert expected.year_month == (2024, 3)


@pytest.mark.parametrize(
    "name",
    [
        "fact_receipts_in_flight.parquet",  # not a period file
        "fact_receipts_2024-13.parquet",  # no such month
        "fact_receipts_2024-02_30.parquet",  # no such day
        "fact_receipt_lines_2024-03.parquet",  # another table's file
        "fact_receipts_2024-03.json",
        ".fact_receipts_2024-03.parquet.compact.json",
    ],
)
def test_other_names_are_not_fact_files(layout: DataLayout, name: str) -> None:
    assert layout.fact_file(TABLE, layout.table_dir(TABLE) / name) is None


def test_discovery_finds_every_form_in_name_order_and_nothing_else(layout: DataLayout) -> None:
    later = _touch(layout.fact_part_file(TABLE, date(2024, 3, 17)))
    first = _touch(layout.fact_month_file(TABLE, 2024, 3))
    csv = _touch(layout.fact_month_file(TABLE, 2024, 4, "csv"))
    day = _touch(layout.fact_day_file(TABLE, "2024-03-05"))
    _touch(layout.in_flight_file(TABLE))
    _touch(layout.table_dir(TABLE) / "notes" / f"{TABLE}.csv")  # not a dt= folder
    (layout.table_dir(TABLE) / "dt=2024-03-06").mkdir()  # an empty day folder
    assert layout.fact_files(TABLE) == {
        "parquet": (first, later),
        "csv": (csv,),
        "csv_daily": (day,),
    }
    assert layout.day_dirs(TABLE) == [day.parent, layout.table_dir(TABLE) / "dt=2024-03-06"]
    assert layout.fact_files("fact_stockouts") == {"parquet": (), "csv": (), "csv_daily": ()}


def test_partition_folders_parse_to_their_day() -> None:
    assert DataLayout.partition_day(Path("x/dt=2024-02-29")) == date(2024, 2, 29)
    assert DataLayout.partition_day(Path("x/dt=2023-02-29")) is None
    assert DataLayout.partition_day(Path("x/day=2024-02-01")) is None


def test_carried_state_files_are_found_by_kind_and_day(layout: DataLayout) -> None:
    days = [date(2024, 3, 2), date(2024, 3, 1)]
    written = [_touch(layout.carry_file("onhand", d)) for d in days]
    _touch(layout.carry_file("pending_returns", days[0]))
    _touch(layout.engine_state_dir / "onhand_latest.parquet")
    assert layout.carry_files("onhand") == [(days[1], written[1]), (days[0], written[0])]
    assert layout.carry_files("in_flight") == []


def test_compaction_journals_sit_hidden_beside_their_target(layout: DataLayout) -> None:
    target = layout.fact_month_file(TABLE, 2024, 3)
    journal = _touch(layout.compaction_journal(target))
    assert journal.parent == target.parent and journal.name.startswith(".")
    assert layout.compaction_journals(TABLE) == [journal]
    assert layout.fact_files(TABLE)["parquet"] == ()
