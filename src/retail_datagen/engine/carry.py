"""State carried from one run to the next: every region's stock, velocity, pending returns and
online orders in flight.

Three files per committed day (``engine_state/onhand_<day>.parquet``,
``pending_returns_<day>.parquet`` and ``in_flight_<day>.parquet``, the orders with their planned
steps); the newest two days are kept, so a crash between writing the carried state and the
state file still finds the state's day. A folder written before orders were carried has no
in-flight file: nothing is in flight then.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from retail_datagen.errors import DataStateError
from retail_datagen.generators.facts.region_day import RegionCarry
from retail_datagen.generators.facts.returns import PENDING_SCHEMA
from retail_datagen.schema.tables import FACT_ONLINE_ORDERS
from retail_datagen.storage.atomic import write_parquet_atomic
from retail_datagen.storage.layout import DataLayout

__all__ = ["carried_days", "in_flight_orders", "load_carry", "save_carry"]

_KINDS = ("onhand", "pending_returns", "in_flight")
_KEEP = 2
STORE, DC = 0, 1


def _onhand_table(carry: dict[int, RegionCarry]) -> pa.Table:
    parts = []
    for region, state in sorted(carry.items()):
        k, products = state.store_onhand.shape
        nodes = np.concatenate([np.repeat(np.arange(k), products), np.zeros(products, np.int64)])
        parts.append(
            pa.table(
                {
                    "Region": pa.array(np.full(nodes.size, region, np.int32)),
                    "Kind": pa.array(
                        np.r_[np.full(k * products, STORE), np.full(products, DC)].astype(np.int8)
                    ),
                    "Node": pa.array(nodes.astype(np.int32)),
                    "OnHand": pa.array(
                        np.r_[state.store_onhand.ravel(), state.dc_onhand].astype(np.int32)
                    ),
                    "Velocity": pa.array(
                        np.r_[state.store_velocity.ravel(), state.dc_velocity].astype(np.float32)
                    ),
                }
            )
        )
    return pa.concat_tables(parts) if parts else pa.table({})


def _pending_table(carry: dict[int, RegionCarry]) -> pa.Table:
    schema = PENDING_SCHEMA.append(pa.field("Region", pa.int32())).append(
        pa.field("Store", pa.int32())
    )
    parts = [
        table.append_column(
            "Region", pa.array(np.full(table.num_rows, region, np.int32))
        ).append_column("Store", pa.array(np.full(table.num_rows, store, np.int32)))
        for region, state in sorted(carry.items())
        for store, table in sorted(state.pending.items())
    ]
    return pa.concat_tables(parts).cast(schema) if parts else schema.empty_table()


_IN_FLIGHT_SCHEMA = FACT_ONLINE_ORDERS.arrow_schema.append(pa.field("Region", pa.int32()))


def in_flight_orders(carry: dict[int, RegionCarry]) -> pa.Table:
    """Every region's orders in flight (planned steps included), regions in order."""
    return _in_flight_table(carry).drop_columns(["Region"])


def _in_flight_table(carry: dict[int, RegionCarry]) -> pa.Table:
    """The orders in flight with the region that carries them (the saved form)."""
    parts = [
        state.in_flight.append_column(
            "Region", pa.array(np.full(state.in_flight.num_rows, region, np.int32))
        ).cast(_IN_FLIGHT_SCHEMA)
        for region, state in sorted(carry.items())
        if state.in_flight is not None
    ]
    return pa.concat_tables(parts) if parts else _IN_FLIGHT_SCHEMA.empty_table()


def save_carry(layout: DataLayout, carry: dict[int, RegionCarry], through: date) -> None:
    """Write every region's carried state as of the end of ``through``."""
    layout.engine_state_dir.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(_onhand_table(carry), layout.carry_file("onhand", through))
    write_parquet_atomic(_pending_table(carry), layout.carry_file("pending_returns", through))
    write_parquet_atomic(_in_flight_table(carry), layout.carry_file("in_flight", through))
    for kind in _KINDS:
        for _, old in layout.carry_files(kind)[:-_KEEP]:
            old.unlink()


def carried_days(layout: DataLayout) -> list[date]:
    """The days whose carried state is complete (both files), oldest first."""
    return [
        day
        for day, _ in layout.carry_files("onhand")
        if layout.carry_file("pending_returns", day).is_file()
    ]


def load_carry(layout: DataLayout, through: date) -> dict[int, RegionCarry]:
    """The carried state at the end of ``through`` (the last committed day)."""
    onhand_path, pending_path, in_flight_path = (layout.carry_file(k, through) for k in _KINDS)
    if not onhand_path.exists() or not pending_path.exists():
        raise DataStateError(
            f"the carried simulation state for {through.isoformat()} is missing from "
            f"{layout.engine_state_dir}; run `retail-datagen clear --yes` and generate again"
        )
    onhand = pq.read_table(onhand_path)
    pending = pq.read_table(pending_path)
    in_flight = (
        pq.read_table(in_flight_path).cast(_IN_FLIGHT_SCHEMA)
        if in_flight_path.exists()
        else _IN_FLIGHT_SCHEMA.empty_table()
    )
    out: dict[int, RegionCarry] = {}
    regions = pc.unique(onhand["Region"]).to_pylist() if onhand.num_rows else []
    for region in regions:
        rows = onhand.filter(pc.equal(onhand["Region"], region))
        kind = rows["Kind"].to_numpy()
        qty, velocity = rows["OnHand"].to_numpy(), rows["Velocity"].to_numpy()
        store_rows = kind == STORE
        k = int(rows["Node"].to_numpy()[store_rows].max()) + 1 if store_rows.any() else 0
        n = int((~store_rows).sum())  # products: one DC row each (a region may have no store)
        mine = pending.filter(pc.equal(pending["Region"], region))
        stores = pc.unique(mine["Store"]).to_pylist()
        out[int(region)] = RegionCarry(
            store_onhand=qty[store_rows].reshape(k, n).astype(np.int32),
            store_velocity=velocity[store_rows].reshape(k, n).astype(np.float32),
            dc_onhand=qty[~store_rows].astype(np.int32),
            dc_velocity=velocity[~store_rows].astype(np.float32),
            pending={
                int(s): mine.filter(pc.equal(mine["Store"], s))
                .drop_columns(["Region", "Store"])
                .cast(PENDING_SCHEMA)
                for s in stores
            },
            in_flight=in_flight.filter(pc.equal(in_flight["Region"], region)).drop_columns(
                ["Region"]
            ),
        )
    return out
