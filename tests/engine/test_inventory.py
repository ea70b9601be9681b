"""Inventory and logistics: stock is real, shipments are coherent, disruptions change the data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from tests.volumes import small_config

from retail_datagen.config.models import RetailConfig
from retail_datagen.disruptions import Disruption
from retail_datagen.engine.simulation import Simulation
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.facts.context import build_context
from retail_datagen.generators.facts.disruption_impact import Impact
from retail_datagen.generators.facts.inventory import LedgerPart
from retail_datagen.generators.facts.store_day import plan_store_day
from retail_datagen.generators.facts.store_stock import (
    StoreOrders,
    initial_store_carry,
    store_stock_day,
)
from retail_datagen.generators.master_generator import MasterDataGenerator, build_dimensions
from retail_datagen.validation.runner import validate

LOW_STOCK = {
    "stores": 4,
    "total_products": 300,
    "customers_per_day": 100,
    "online_orders_per_day": 150,
    "marketing_impressions_per_day": 1000,
    "store_initial_inventory_min": 2,
    "store_initial_inventory_max": 8,
    "dc_initial_inventory_min": 40,
    "dc_initial_inventory_max": 150,
    "truck_capacity": 600,
}


def _config(root: Path, **volume: int) -> RetailConfig:
    return small_config(root, seed=3, **{**LOW_STOCK, **volume})


@pytest.fixture(scope="module")
def low_stock_month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inventory") / "data"
    config = _config(root)
    MasterDataGenerator(config).generate_all_master_data()
    FactDataGenerator(config, workers=2).generate_historical_data("2024-03-01", "2024-03-31")
    return root


def _sql(root: Path, query: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(root / "retail.duckdb"), read_only=True) as con:
        return con.execute(query).fetchall()


def test_validator_passes_on_a_low_stock_month(low_stock_month: Path) -> None:
    report = validate(low_stock_month)
    assert report.passed, report.render(only_failures=True)


def test_stockouts_and_multi_leg_deliveries_really_occur(low_stock_month: Path) -> None:
    [(stockouts,)] = _sql(low_stock_month, "SELECT count(*) FROM fact_stockouts")
    assert stockouts > 0
    [(multi_leg_days,)] = _sql(
        low_stock_month,
        """SELECT count(*) FROM (
               SELECT "StoreID", CAST("EventTS" AS DATE), count(DISTINCT "SourceId") AS legs
               FROM fact_store_inventory_txn WHERE "Reason" = 'INBOUND_SHIPMENT'
               GROUP BY 1, 2 HAVING legs > 1)""",
    )
    assert multi_leg_days > 0
    [(full_legs,)] = _sql(
        low_stock_month,
        """SELECT count(*) FROM (
               SELECT "SourceId", sum("QtyDelta") AS units FROM fact_store_inventory_txn
               WHERE "Reason" = 'INBOUND_SHIPMENT' GROUP BY 1) WHERE units = 600""",
    )
    assert full_legs > 0, "capacity should bind on some legs"
    [(largest,)] = _sql(
        low_stock_month,
        """SELECT max(units) FROM (SELECT "SourceId", sum("QtyDelta") AS units
           FROM fact_store_inventory_txn WHERE "Reason" = 'INBOUND_SHIPMENT' GROUP BY 1)""",
    )
    assert largest <= 600


def test_refrigerated_goods_travel_on_refrigerated_trucks(low_stock_month: Path) -> None:
    [(bad,)] = _sql(
        low_stock_month,
        """SELECT count(*) FROM fact_store_inventory_txn i
           JOIN dim_products p ON p."ID" = i."ProductID"
           JOIN (SELECT DISTINCT "ShipmentId", "TruckId" FROM fact_truck_moves) m
             ON m."ShipmentId" = i."SourceId"
           JOIN dim_trucks t ON t."ID" = m."TruckId"
           WHERE i."Reason" = 'INBOUND_SHIPMENT' AND p."RequiresRefrigeration"
             AND NOT t."Refrigeration" """,
    )
    assert bad == 0


def test_suppliers_replenish_the_dcs(low_stock_month: Path) -> None:
    [(deliveries, units)] = _sql(
        low_stock_month,
        """SELECT count(*), sum("QtyDelta") FROM fact_dc_inventory_txn
           WHERE "Reason" = 'INBOUND_SHIPMENT' AND "Source" = 'SUPPLIER'""",
    )
    assert deliveries > 0 and units > 0
    [(supplier_trucks,)] = _sql(
        low_stock_month,
        """SELECT count(DISTINCT m."TruckId") FROM fact_truck_moves m
           JOIN dim_trucks t ON t."ID" = m."TruckId"
           WHERE m."StoreID" IS NULL AND t."TruckType" = 'SUPPLIER'""",
    )
    assert supplier_trucks > 0


def test_empty_shelves_show_as_urgent_reorders_and_stockouts(low_stock_month: Path) -> None:
    [(urgent,)] = _sql(
        low_stock_month, """SELECT count(*) FROM fact_reorders WHERE "Priority" = 'URGENT'"""
    )
    assert urgent > 0
    [(unmet_days,)] = _sql(
        low_stock_month,
        """SELECT count(*) FROM fact_stockouts WHERE "StoreID" IS NOT NULL
           AND "LastKnownQuantity" = 0""",
    )
    assert unmet_days > 0


def test_a_shopper_facing_an_empty_shelf_buys_a_substitute_of_the_same_category(
    tmp_path: Path,
) -> None:
    """One product per category on the shelves, every other shelf empty: each unit sold beyond
    what shoppers wanted of a stocked product replaced a wanted product of its category."""
    config = _config(tmp_path)
    day = config.historical.start_date + timedelta(days=1)  # no returns carried in yet
    ctx = build_context(config, build_dimensions(config), config.historical.start_date)
    launched = ctx.launched_mask(day)
    stocked = np.array([pool[launched[pool]][0] for pool in ctx.supply.category_products])
    carry = initial_store_carry(ctx, 0, day)
    carry.onhand[:] = 0
    carry.onhand[stocked] = 100_000
    demand = plan_store_day(ctx, 0, day, carry.pending)
    assert demand is not None
    nothing = LedgerPart(
        np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64), 0, 0, pa.array([], pa.string())
    )
    tables, _ = store_stock_day(ctx, 0, day, carry, StoreOrders(True, nothing, Impact()))

    index = {int(pid): k for k, pid in enumerate(ctx.product_id)}
    lines = tables["fact_receipt_lines"]
    sold_product = np.array([index[p] for p in lines["ProductID"].to_pylist()], np.int64)
    sold = np.bincount(sold_product, lines["Qty"].to_numpy(), ctx.product_id.size)
    wanted = np.bincount(demand.product, demand.qty, ctx.product_id.size)
    assert set(np.flatnonzero(sold)) <= set(stocked.tolist()), "only stocked shelves sell"
    category = ctx.product_category
    n_categories = len(ctx.supply.category_products)
    wanted_elsewhere = np.bincount(category, wanted, n_categories) - wanted[stocked]
    substituted = sold[stocked] - wanted[stocked]  # stocked shelves serve every wanted unit
    assert (substituted >= 0).all()
    assert (substituted <= wanted_elsewhere).all(), "substitutes come from the same category"
    assert substituted.sum() > 0
    assert substituted.sum() < wanted_elsewhere.sum()  # a substitute may be empty too: less
    empty_and_wanted = set(np.flatnonzero(wanted).tolist()) - set(stocked.tolist())
    stockouts = {index[p] for p in tables["fact_stockouts"]["ProductID"].to_pylist()}
    assert empty_and_wanted and empty_and_wanted <= stockouts


def _day_tables(
    config: RetailConfig, day: date, disruptions: list[Disruption]
) -> dict[str, object]:
    dims = build_dimensions(config)
    simulation = Simulation(config, dims, day, disruptions)
    tables, _ = simulation.run_day(day, {})
    return dict(tables)


def test_a_dc_outage_stops_its_shipments(tmp_path: Path) -> None:
    config = _config(tmp_path)
    day = date(2024, 3, 5)
    whole_day = (datetime(2024, 3, 5), datetime(2024, 3, 5, 23, 59))
    normal = _day_tables(config, day, [])
    dc1_outage = Disruption(
        kind="dc_outage", target_type="dc", target_id=1, start=whole_day[0], end=whole_day[1]
    )
    outage = _day_tables(config, day, [dc1_outage])
    moves_normal = normal["fact_truck_moves"]
    moves_outage = outage["fact_truck_moves"]
    from_dc1 = pc.and_(pc.equal(moves_normal["DCID"], 1), pc.is_valid(moves_normal["StoreID"]))
    assert moves_normal.filter(from_dc1).num_rows > 0
    out_dc1 = pc.and_(pc.equal(moves_outage["DCID"], 1), pc.is_valid(moves_outage["StoreID"]))
    assert moves_outage.filter(out_dc1).num_rows == 0


def test_weather_delays_show_as_delayed_trucks(tmp_path: Path) -> None:
    config = _config(tmp_path)
    day = date(2024, 3, 5)
    storm = Disruption(
        kind="weather_delay",
        target_type="network",
        start=datetime(2024, 3, 5),
        end=datetime(2024, 3, 6),
        severity=0.5,
    )
    moves = _day_tables(config, day, [storm])["fact_truck_moves"]
    assert moves.filter(pc.equal(moves["Status"], "DELAYED")).num_rows > 0
