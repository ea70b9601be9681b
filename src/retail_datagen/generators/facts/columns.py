"""Column builders shared by the fact generators: vocabulary lookups, timestamps, row ids."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen.generators.price_model import EPOCH_ORDINAL
from retail_datagen.ids import compose

__all__ = ["day_start_us", "lookup", "maybe_null", "timestamps", "trace_ids", "yyyymmdd"]

US_PER_SECOND = 1_000_000
US_PER_HOUR = 3_600 * US_PER_SECOND
US_PER_DAY = 86_400 * US_PER_SECOND

# two-letter table codes make TraceIds unique across tables as well as within them
TRACE_CODES: dict[str, str] = {
    "fact_receipts": "RC",
    "fact_receipt_lines": "RL",
    "fact_payments": "PM",
    "fact_store_inventory_txn": "SI",
    "fact_dc_inventory_txn": "DI",
    "fact_truck_moves": "TM",
    "fact_foot_traffic": "FT",
    "fact_ble_pings": "BP",
    "fact_customer_zone_changes": "ZC",
    "fact_marketing": "MK",
    "fact_online_orders": "OO",
    "fact_online_order_lines": "OL",
    "fact_promotions": "PR",
    "fact_stockouts": "SO",
    "fact_reorders": "RO",
    "fact_store_ops": "SP",
}


def yyyymmdd(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def day_start_us(day: date) -> int:
    """Microseconds from the epoch to local midnight of ``day``."""
    return (day.toordinal() - EPOCH_ORDINAL) * US_PER_DAY


def timestamps(day: date, seconds: np.ndarray) -> pa.Array:
    """Local timestamps from seconds (float) after midnight of ``day``, microsecond precision."""
    us = day_start_us(day) + np.round(np.asarray(seconds, dtype=np.float64) * US_PER_SECOND)
    return pa.array(us.astype(np.int64), type=pa.timestamp("us"))


def trace_ids(table: str, partition: int, day: date, n: int, first: int = 0) -> pa.StringArray:
    """``RC-0007-20240101-00000001``: table code, partition (store or 0), day, sequence."""
    return compose(
        n,
        [
            f"{TRACE_CODES[table]}-{partition:04d}-{yyyymmdd(day):08d}-",
            (range(first, first + n), 8),
        ],
    )


def lookup(vocabulary: tuple[str, ...] | pa.Array, codes: np.ndarray) -> pa.Array:
    """Strings by integer code as a dictionary array (no copying); negative codes are NULL.

    Category columns keep the dictionary (cheap to write, compact); string columns get it
    decoded when the table is normalised to its declaration.
    """
    vocab = vocabulary if isinstance(vocabulary, pa.Array) else pa.array(vocabulary, pa.string())
    codes = np.asarray(codes)
    null = codes < 0 if codes.size and codes.min() < 0 else None
    indices = pa.array(np.where(codes < 0, 0, codes).astype(np.int32), mask=null)
    return pa.DictionaryArray.from_arrays(indices, vocab)


def maybe_null(values: pa.Array, keep: np.ndarray) -> pa.Array:
    """``values`` where ``keep`` is true, NULL elsewhere."""
    return pc.if_else(pa.array(keep), values, pa.scalar(None, values.type))
