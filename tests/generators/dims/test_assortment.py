"""Products (mix, pricing, flags, launch), dim_date and the starting inventory snapshots."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from retail_datagen import calendar, money
from retail_datagen.config.models import RetailConfig
from retail_datagen.dictionaries.loader import DictionaryLoader
from retail_datagen.generators.dims.allocation import capped_allocation, largest_remainder
from retail_datagen.generators.dims.dates import date_range, generate_dates
from retail_datagen.generators.dims.products import (
    REDUCED_RATE_DEPARTMENTS,
    REFRIGERATED_CATEGORIES,
    TAXABLE_FOOD_CATEGORIES,
    generate_products,
)
from retail_datagen.generators.dims.profiles import DEPARTMENT_MIX
from retail_datagen.generators.master_generator import build_dimensions

LOADER = DictionaryLoader()
START = date(2024, 1, 1)


def config(products: int = 10_000, **volume: int) -> RetailConfig:
    return RetailConfig.from_mapping(
        {
            "seed": 5,
            "volume": {"total_products": products, "total_customers": 100, **volume},
            "historical": {"start_date": START.isoformat()},
        }
    )


@lru_cache(maxsize=8)
def products(n: int = 10_000) -> pa.Table:
    return generate_products(config(n), LOADER.products(), LOADER.product_brands())


def cents(table: pa.Table, column: str) -> np.ndarray:
    return money.decimal_to_cents(table[column])


@pytest.mark.parametrize("n", [1, 2, 50, 777, 10_000])
def test_price_invariants_hold(n: int) -> None:
    table = products(n)
    cost, msrp, sale = cents(table, "Cost"), cents(table, "MSRP"), cents(table, "SalePrice")
    assert ((cost >= 1) & (cost < sale) & (sale <= msrp)).all()
    ratio_low, ratio_high = (sale * 0.50 - 1), (sale * 0.85 + 1)
    assert ((cost >= ratio_low) & (cost <= ratio_high)).all()


def test_msrp_stays_within_fifteen_percent_of_the_base_price() -> None:
    table = products()
    base = {r["ProductName"]: r["BasePrice"] for r in LOADER.products().to_pylist()}
    brands = table["Brand"].to_pylist()
    names = table["ProductName"].to_pylist()
    msrp = cents(table, "MSRP")
    for name, brand, price in zip(names[:2000], brands, msrp, strict=False):
        base_cents = base[name[len(brand) + 1 :]] * 100
        assert base_cents * 0.85 - 1 <= price <= base_cents * 1.15 + 1


def test_about_forty_percent_are_discounted_by_five_to_thirty_five_percent() -> None:
    table = products()
    msrp, sale = cents(table, "MSRP"), cents(table, "SalePrice")
    discounted = sale < msrp
    assert discounted.mean() == pytest.approx(0.40, abs=0.03)
    off = 1 - sale[discounted] / msrp[discounted]
    assert off.min() >= 0.05 - 0.01 and off.max() <= 0.35 + 0.01


@pytest.mark.parametrize("n", [2, 10, 50, 500, 10_000])
def test_department_mix_resembles_a_supercenter(n: int) -> None:
    table = products(n)
    shares = Counter(table["Department"].to_pylist())
    assert max(shares.values()) / n <= 0.60
    assert shares.most_common(1)[0][0] == "Grocery"
    if n >= 500:
        for department, target in DEPARTMENT_MIX.items():
            assert shares[department] / n == pytest.approx(target, abs=0.01)


def test_skus_pair_products_with_brands_of_their_category_first() -> None:
    table = products(3_000)  # fits inside the category-matched pairs
    brand_category = {r["Brand"]: r["Category"] for r in LOADER.product_brands().to_pylist()}
    assert all(
        brand_category[b] == c
        for b, c in zip(table["Brand"].to_pylist(), table["Category"].to_pylist(), strict=True)
    )
    names = table["ProductName"].to_pylist()
    assert len(set(names)) == len(names)
    assert table["ProductName"][0].as_py().startswith(table["Brand"][0].as_py() + " ")


def test_every_base_product_appears_before_any_repeats() -> None:
    table = products(600)
    base_per_department = Counter(LOADER.products()["Department"].to_pylist())
    sku_per_department = Counter(table["Department"].to_pylist())
    base_names = Counter(
        name[len(brand) + 1 :]
        for name, brand in zip(
            table["ProductName"].to_pylist(), table["Brand"].to_pylist(), strict=True
        )
    )
    for department, skus in sku_per_department.items():
        if skus <= base_per_department[department]:
            in_department = [
                name[len(brand) + 1 :]
                for name, brand, dep in zip(
                    table["ProductName"].to_pylist(),
                    table["Brand"].to_pylist(),
                    table["Department"].to_pylist(),
                    strict=True,
                )
                if dep == department
            ]
            assert all(base_names[n] == 1 for n in in_department), department


def test_refrigeration_and_taxability_follow_category_and_department() -> None:
    for row in products(2_000).to_pylist():
        assert row["RequiresRefrigeration"] == (row["Category"] in REFRIGERATED_CATEGORIES)
        if row["Department"] == "Grocery":
            taxable = row["Category"] in TAXABLE_FOOD_CATEGORIES
            assert row["Taxability"] == ("TAXABLE" if taxable else "NON_TAXABLE")
        elif row["Department"] in REDUCED_RATE_DEPARTMENTS:
            assert row["Taxability"] == "REDUCED_RATE"
        else:
            assert row["Taxability"] == "TAXABLE"


def test_most_products_launch_before_the_start_and_some_after() -> None:
    launch = products()["LaunchDate"].to_pylist()
    before = [d for d in launch if d < START]
    after = [d for d in launch if d > START]
    assert len(before) / len(launch) == pytest.approx(0.90, abs=0.02)
    assert min(before) >= START - timedelta(days=3 * 365)
    assert max(after) <= START + timedelta(days=548)


def test_tags_are_short_semicolon_lists_or_null() -> None:
    tags = products()["Tags"]
    assert 0 < tags.null_count < len(tags)
    values = [t for t in tags.to_pylist() if t]
    assert all(1 <= len(t.split(";")) <= 4 for t in values)
    assert any("organic" in t for t in values)


def test_calendar_lift_categories_exist_in_the_shipped_products() -> None:
    categories = set(LOADER.products()["Category"].to_pylist())
    named = {c for lift in calendar.CATEGORY_LIFTS for c, _ in lift.lifts}
    assert named <= categories
    assert categories >= REFRIGERATED_CATEGORIES and categories >= TAXABLE_FOOD_CATEGORIES


def test_allocations_are_exact() -> None:
    assert largest_remainder([0.05, 0.15, 0.5, 0.25, 0.05], 10).tolist() == [1, 2, 5, 2, 0]
    assert largest_remainder([1, 1], 0).tolist() == [0, 0]
    assert capped_allocation([0.6, 0.2, 0.2], [3, 100, 100], 20).tolist() == [3, 9, 8]
    assert capped_allocation([0.5, 0.5], [2, 3], 99).tolist() == [2, 3]


def test_dim_date_spans_the_year_before_start_to_two_years_after_it() -> None:
    table = generate_dates(config())
    days = table["Date"].to_pylist()
    assert days[0] == date(2023, 1, 1) and days[-1] == date(2026, 12, 31)
    assert days == [days[0] + timedelta(days=i) for i in range(len(days))]
    by_day = {r["Date"]: r for r in table.to_pylist()}
    thanksgiving = by_day[date(2024, 11, 28)]
    assert thanksgiving["DateKey"] == 20241128 and thanksgiving["HolidayName"] == "Thanksgiving"
    assert thanksgiving["DayOfWeek"] == 4 and thanksgiving["DayName"] == "Thursday"
    assert thanksgiving["Quarter"] == 4 and thanksgiving["MonthName"] == "November"
    assert by_day[date(2024, 12, 29)]["WeekOfYear"] == 52
    assert by_day[date(2024, 12, 30)]["WeekOfYear"] == 1  # ISO week 1 of 2025
    assert by_day[date(2024, 1, 6)]["IsWeekend"] and not by_day[date(2024, 1, 5)]["IsWeekend"]
    holidays = sum(r["HolidayName"] is not None for r in table.to_pylist())
    assert holidays == 4 * len(calendar.HOLIDAY_RULES)  # 2023-2026


def test_inventory_snapshots_cover_every_node_and_product() -> None:
    cfg = config(300, stores=4, dcs=2)
    built = build_dimensions(cfg, LOADER)
    stores, dcs, product = (
        built["dim_store_inventory_snapshots"],
        built["dim_dc_inventory_snapshots"],
        built["dim_products"],
    )
    assert stores.num_rows == 4 * 300 and dcs.num_rows == 2 * 300
    launched_later = pc.greater(product["LaunchDate"], pa.scalar(START, pa.date32()))
    later_ids = set(pc.filter(product["ID"], launched_later).to_pylist())
    assert later_ids
    for row in stores.to_pylist():
        if row["ProductID"] in later_ids:
            assert row["CurrentQuantity"] == 0
        else:
            assert 20 <= row["CurrentQuantity"] <= 200
        assert row["ReorderPoint"] >= 2  # a tenth of the presentation stock (20) at least
    dc_quantity = dcs["CurrentQuantity"].to_numpy()
    assert dc_quantity.min() >= 500  # fast sellers may start above the maximum (policy level)
    stamps = {
        r.isoformat() for r in (*stores["LastUpdated"].to_pylist(), *dcs["LastUpdated"].to_pylist())
    }
    assert stamps == {"2024-01-01T00:00:00"}


def test_dim_date_does_not_follow_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same configuration gives the same dim_date next year (it used date.today())."""
    import retail_datagen.generators.dims.dates as dates_module

    today = generate_dates(config())

    class NextYear(date):
        @classmethod
        def today(cls) -> date:
            return date(2031, 7, 1)

    monkeypatch.setattr(dates_module, "date", NextYear)
    assert generate_dates(config()).equals(today)


def test_dim_date_reaches_the_year_of_the_last_fact_day() -> None:
    first, last = date_range(config(), through=date(2029, 3, 5))
    assert (first, last) == (date(2023, 1, 1), date(2029, 12, 31))
    assert date_range(config(), through=date(2024, 3, 5)) == date_range(config())
