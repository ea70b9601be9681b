"""The stored price history follows the generated range: lines are charged the shelf price of
their day, dim_products.SalePrice is the price on the last day, and split runs store the same
history as one run."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from tests.volumes import small_config

from retail_datagen import money
from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.dims.price_model import initial_prices, price_plan, prices_on
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.storage.duckdb_store import load_dimensions, read_store
from retail_datagen.validation import validate
from retail_datagen.validation.runner import registered_checks

MODULES = ("retail_datagen.validation.key_checks", "retail_datagen.validation.price_checks")


def _config(root: Path) -> RetailConfig:
    return small_config(root, start="2024-01-01", marketing_impressions_per_day=500)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("prices") / "data"
    MasterDataGenerator(_config(root)).generate_all_master_data()
    return root


def _fresh(template: Path, tmp_path: Path, name: str) -> RetailConfig:
    root = tmp_path / name
    shutil.copytree(template, root)
    return _config(root)


def _prices(config: RetailConfig) -> dict[str, pa.Table]:
    dims = load_dimensions(config.paths.data)
    return {
        "dim_products": dims["dim_products"].sort_by("ID"),
        "dim_product_prices": dims["dim_product_prices"].sort_by(
            [("ProductID", "ascending"), ("ValidFrom", "ascending")]
        ),
    }


def test_split_runs_store_the_same_price_history_as_one_run(template: Path, tmp_path: Path) -> None:
    whole, split = _fresh(template, tmp_path, "whole"), _fresh(template, tmp_path, "split")
    FactDataGenerator(whole, workers=1).generate_historical_data("2024-01-20", "2024-02-10")
    FactDataGenerator(split, workers=1).generate_historical_data("2024-01-20", "2024-01-31")
    FactDataGenerator(split, workers=1).generate_historical_data(None, "2024-02-10")
    left, right = _prices(whole), _prices(split)
    for name in left:
        assert left[name].equals(right[name]), f"{name} differs"
    history = left["dim_product_prices"]
    assert history.num_rows > left["dim_products"].num_rows  # prices moved in three weeks


def test_lines_follow_the_shelf_price_and_products_show_the_last_days(
    template: Path, tmp_path: Path
) -> None:
    config = _fresh(template, tmp_path, "run")
    FactDataGenerator(config, workers=1).generate_historical_data("2024-02-01", "2024-02-21")
    report = validate(config.paths.data, checks=registered_checks(MODULES))
    assert report.passed, report.render(only_failures=True)
    share = report.result("prices: share of sale lines at a markdown or clearance price")
    assert share.measured is not None and share.measured > 0.02  # was 0: prices never moved

    tables = _prices(config)
    products = tables["dim_products"]
    plan = price_plan(
        config.seed,
        products,
        date(2024, 2, 1),
        initial_prices(products, tables["dim_product_prices"]),
    )
    current = money.decimal_to_cents(products.column("SalePrice"))
    assert (current == prices_on(plan, date(2024, 2, 21))).all()
    assert (current != plan.initial).any()  # SalePrice is the current price, not the first one

    off_initial = read_store(
        config.paths.data,
        lambda con: con.execute(
            "SELECT count(*) FROM fact_receipt_lines l JOIN dim_product_prices p "
            "ON p.ProductID = l.ProductID AND p.Reason = 'INITIAL' WHERE l.UnitPrice <> p.SalePrice"
            " AND l.Qty > 0"
        ).fetchone(),
    )
    assert off_initial is not None and off_initial[0] > 0
