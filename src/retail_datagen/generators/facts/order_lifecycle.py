"""Online orders in flight: what is known of an order at a moment (SPEC §6.4, the horizon).

An order is planned whole when it is placed (picked, shipped and delivered times), but a step
that has not happened by the end of the generated range is not recorded yet. So an order's row
is written on the day it becomes final (delivered, collected or cancelled); until then the
region carries it, and readers see it :func:`as_of` the end of the range with an in-flight
status (CREATED, PICKED or SHIPPED) and no timestamps after that moment. Streamed lifecycle
events use the same view of the row at the step's own time.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen.generators.facts.columns import day_start_us, lookup
from retail_datagen.schema import normalise
from retail_datagen.schema.tables import FACT_ONLINE_ORDERS

__all__ = ["IN_FLIGHT_STATUSES", "STEP_COLUMNS", "as_of", "end_of_day_us", "settle"]

IN_FLIGHT_STATUSES = ("CREATED", "PICKED", "SHIPPED")
STEP_COLUMNS = ("PickedTS", "ShippedTS", "DeliveredTS")
_FINAL = ("DELIVERED", "PICKED_UP", "CANCELLED")
_VOCAB = (*_FINAL, *IN_FLIGHT_STATUSES)
_CANCELLED = _VOCAB.index("CANCELLED")
_CREATED, _PICKED, _SHIPPED = (_VOCAB.index(s) for s in IN_FLIGHT_STATUSES)


def end_of_day_us(day: date) -> int:
    """The last microsecond of ``day`` (µs since the epoch)."""
    return day_start_us(day + timedelta(days=1)) - 1


def _micros(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Microseconds and validity of a timestamp column."""
    valid = np.asarray(pc.is_valid(column).to_numpy(zero_copy_only=False), dtype=bool)
    us = pc.fill_null(pc.cast(column, pa.int64()), 0).to_numpy()
    return np.asarray(us, dtype=np.int64), valid


def _status_codes(orders: pa.Table) -> np.ndarray:
    status = orders.column("Status")
    if pa.types.is_dictionary(status.type):
        status = status.cast(pa.string())
    codes = pc.index_in(status, value_set=pa.array(_VOCAB)).to_numpy(zero_copy_only=False)
    return np.asarray(np.nan_to_num(codes, nan=-1), dtype=np.int64)


def as_of(orders: pa.Table, moment_us: int | np.ndarray) -> pa.Table:
    """``orders`` (fact_online_orders rows) as known at ``moment_us`` (one moment, or one per
    row): steps after it are not recorded and the status is the last step reached."""
    t = np.broadcast_to(np.asarray(moment_us, dtype=np.int64), (orders.num_rows,))
    reached = {}
    for name in STEP_COLUMNS:
        us, valid = _micros(orders.column(name))
        reached[name] = (valid & (us <= t), us)
    status = _status_codes(orders)
    final = (status == _CANCELLED) | reached["DeliveredTS"][0]
    status = np.where(
        final,
        status,
        np.where(
            reached["ShippedTS"][0], _SHIPPED, np.where(reached["PickedTS"][0], _PICKED, _CREATED)
        ),
    )
    out = orders.set_column(
        orders.schema.get_field_index("Status"), "Status", lookup(_VOCAB, status)
    )
    for name, (hit, us) in reached.items():
        out = out.set_column(
            out.schema.get_field_index(name), name, pa.array(us, pa.timestamp("us"), mask=~hit)
        )
    return normalise(FACT_ONLINE_ORDERS, out)


def settle(carried: pa.Table | None, placed: pa.Table, day: date) -> tuple[pa.Table, pa.Table]:
    """Split the orders still in flight before ``day`` plus the orders placed on it into those
    final by the end of ``day`` (written with the day) and those still in flight (carried).
    Row order is kept, so the split does not depend on how a range is cut into runs."""
    placed = normalise(FACT_ONLINE_ORDERS, placed)
    rows = placed
    if carried is not None and carried.num_rows:
        rows = pa.concat_tables([normalise(FACT_ONLINE_ORDERS, carried), placed])
    status = _status_codes(rows)
    us, valid = _micros(rows.column("DeliveredTS"))
    done = (status == _CANCELLED) | (valid & (us <= end_of_day_us(day)))
    return rows.filter(pa.array(done)), rows.filter(pa.array(~done))
