"""Orders in flight: an order as known at a moment, and the day an order is written."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen.generators.facts.columns import day_start_us
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.online_orders import generate_online_orders_day
from retail_datagen.generators.facts.order_lifecycle import as_of, end_of_day_us, settle

DAY = date(2024, 3, 7)
STEPS = ("PickedTS", "ShippedTS", "DeliveredTS")


def _orders(ctx: FactContext, day: date = DAY) -> pa.Table:
    return generate_online_orders_day(ctx, day)["fact_online_orders"]


def _us(table: pa.Table, name: str) -> np.ndarray:
    values: np.ndarray = pc.fill_null(table[name].cast(pa.int64()), -1).to_numpy()
    return values


def test_as_of_the_day_end_records_only_the_steps_that_happened(ctx: FactContext) -> None:
    orders = _orders(ctx)
    end = end_of_day_us(DAY)
    seen = as_of(orders, end)
    assert seen.schema == orders.schema and seen["OrderId"].equals(orders["OrderId"])
    for name in STEPS:
        before, after = _us(orders, name), _us(seen, name)
        assert ((after == before) | (after == -1)).all()
        assert (after <= end).all()
        assert ((before <= end) == (after == before)).all()  # a step that happened is kept
    status = np.asarray(seen["Status"].to_pylist())
    assert {"CREATED", "PICKED", "SHIPPED"} & set(status)  # late orders are in flight
    final = np.isin(status, ("DELIVERED", "PICKED_UP", "CANCELLED"))
    assert (status[final] == np.asarray(orders["Status"].to_pylist())[final]).all()


def test_settle_writes_an_order_on_the_day_it_becomes_final(ctx: FactContext) -> None:
    first, second = _orders(ctx), _orders(ctx, DAY + timedelta(days=1))
    done, carried = settle(None, first, DAY)
    assert done.num_rows + carried.num_rows == first.num_rows
    assert (_us(done, "DeliveredTS") <= end_of_day_us(DAY)).all()
    assert carried.num_rows and (_us(carried, "DeliveredTS") > end_of_day_us(DAY)).all()
    assert "CANCELLED" not in carried["Status"].to_pylist()
    later, still = settle(carried, second, DAY + timedelta(days=1))
    ids = later["OrderId"].to_pylist()
    assert set(carried["OrderId"].to_pylist()) - set(still["OrderId"].to_pylist()) <= set(ids)
    assert later.num_rows + still.num_rows == carried.num_rows + second.num_rows
    # carried orders come first, in their order: the result does not depend on run boundaries
    from_carry = [i for i in ids if i.startswith(f"ORD-{DAY:%Y%m%d}-")]
    assert ids[: len(from_carry)] == from_carry == sorted(from_carry)


def test_a_step_exactly_at_the_moment_is_recorded(ctx: FactContext) -> None:
    """What a streamed picked event shows: picked, nothing later."""
    orders = _orders(ctx)
    picked = _us(orders, "PickedTS")
    seen = as_of(orders, np.where(picked >= 0, picked, day_start_us(DAY)))
    status = np.asarray(seen["Status"].to_pylist())
    live = picked >= 0
    assert live.any() and (status[live] == "PICKED").all()
    assert (status[~live] == "CANCELLED").all()
    assert (_us(seen, "PickedTS") == picked).all()
    assert (_us(seen, "ShippedTS") == -1).all() and (_us(seen, "DeliveredTS") == -1).all()
