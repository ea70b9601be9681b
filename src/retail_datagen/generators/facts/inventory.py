"""Stock: first-come-first-served allocation, the ledger with running balances, stockouts.

Each node (store or DC) starts its day with the on-hand carried from the previous day. Every
decrement of the day (sales, online picks, outbound shipments, damage) is allocated against
that start-of-day stock, so the total taken never exceeds it; increments during the day
(deliveries, restocked returns) are recorded when they happen and sell from the next day on.
Hence a balance can never go negative, in whatever order the rows fall.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from retail_datagen.generators.facts.columns import lookup, timestamps, trace_ids
from retail_datagen.schema import normalise
from retail_datagen.schema.registry import Table
from retail_datagen.schema.tables import FACT_STOCKOUTS

__all__ = [
    "SOURCES",
    "TXN_REASONS",
    "LedgerPart",
    "allocate",
    "build_ledger",
    "stockouts_table",
]

TXN_REASONS = (
    "SALE",
    "RETURN",
    "INBOUND_SHIPMENT",
    "OUTBOUND_SHIPMENT",
    "ADJUSTMENT",
    "DAMAGED",
)
SALE, RETURN, INBOUND, OUTBOUND, ADJUSTMENT, DAMAGED = range(len(TXN_REASONS))
SOURCES = ("STORE", "ONLINE", "DC", "SUPPLIER", "COUNT", "DISRUPTION")
S_STORE, S_ONLINE, S_DC, S_SUPPLIER, S_COUNT, S_DISRUPTION = range(len(SOURCES))


def allocate(
    onhand: np.ndarray, product: np.ndarray, qty: np.ndarray, when: np.ndarray
) -> np.ndarray:
    """Units each request gets, first come first served per product (ties by position)."""
    n = product.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(n), when, product))
    p, q = product[order], qty[order].astype(np.int64)
    cum = np.cumsum(q)
    first = np.r_[True, p[1:] != p[:-1]]
    base = np.maximum.accumulate(np.where(first, cum - q, 0))
    before = cum - q - base
    granted = np.clip(onhand[p].astype(np.int64) - before, 0, q)
    out = np.empty(n, dtype=np.int64)
    out[order] = granted
    return out


@dataclass
class LedgerPart:
    """Movements of one kind at one node: seconds after midnight, product index, signed units."""

    seconds: np.ndarray
    product: np.ndarray
    delta: np.ndarray
    reason: int
    source: int
    source_id: pa.Array  # one id per movement (or nulls)

    def __post_init__(self) -> None:
        keep = self.delta != 0
        if not keep.all():
            self.seconds, self.product, self.delta = (
                self.seconds[keep],
                self.product[keep],
                self.delta[keep],
            )
            self.source_id = self.source_id.filter(pa.array(keep))


@dataclass
class Ledger:
    table: pa.Table
    end_onhand: np.ndarray
    # candidate stockouts: (product, seconds, last known quantity)
    zero_product: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    zero_seconds: np.ndarray = field(default_factory=lambda: np.zeros(0))
    zero_last: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def build_ledger(
    decl: Table,
    node_column: str,
    node_id: int,
    partition: int,
    day: date,
    start_onhand: np.ndarray,
    parts: list[LedgerPart],
    product_id: np.ndarray,
) -> Ledger:
    """The node's ledger rows in time order with running balances, and where stock hit zero."""
    parts = [p for p in parts if p.product.size]
    if not parts:
        return Ledger(decl.arrow_schema.empty_table(), start_onhand.copy())
    seconds = np.concatenate([p.seconds for p in parts])
    product = np.concatenate([p.product for p in parts]).astype(np.int64)
    delta = np.concatenate([p.delta for p in parts]).astype(np.int64)
    reason = np.concatenate([np.full(p.product.size, p.reason) for p in parts])
    source = np.concatenate([np.full(p.product.size, p.source) for p in parts])
    ids = pa.concat_arrays([p.source_id.cast(pa.string()) for p in parts])
    # chronological order; at the same instant the order of the parts, then their rows
    n = seconds.size
    chrono = np.lexsort((np.arange(n), seconds))
    seconds, product, delta = seconds[chrono], product[chrono], delta[chrono]
    reason, source, ids = reason[chrono], source[chrono], ids.take(pa.array(chrono))

    by_product = np.lexsort((np.arange(n), product))  # stable: keeps time order per product
    p_sorted, d_sorted = product[by_product], delta[by_product]
    cum = np.cumsum(d_sorted)
    first = np.r_[True, p_sorted[1:] != p_sorted[:-1]]
    base = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    running = cum - (cum[base] - d_sorted[base])
    balance = np.empty(n, dtype=np.int64)
    balance[by_product] = start_onhand[p_sorted].astype(np.int64) + running
    if (balance < 0).any():
        raise AssertionError(f"{decl.name}: negative balance at node {node_id}")

    hit_zero = (delta < 0) & (balance == 0)
    end = start_onhand.astype(np.int64) + np.bincount(product, delta, start_onhand.size).astype(
        np.int64
    )
    table = normalise(
        decl,
        pa.table(
            {
                "TraceId": trace_ids(decl.name, partition, day, n),
                "EventTS": timestamps(day, seconds),
                node_column: pa.array(np.full(n, node_id, np.int32)),
                "ProductID": pa.array(product_id[product]),
                "QtyDelta": pa.array(delta.astype(np.int32)),
                "Reason": lookup(TXN_REASONS, reason),
                "Source": lookup(SOURCES, source),
                "SourceId": ids,
                "Balance": pa.array(balance.astype(np.int32)),
            }
        ),
    )
    return Ledger(
        table,
        end.astype(np.int32),
        zero_product=product[hit_zero],
        zero_seconds=seconds[hit_zero],
        zero_last=(balance - delta)[hit_zero],
    )


def stockouts_table(
    day: date,
    partition: int,
    *,
    store_id: np.ndarray,
    dc_id: np.ndarray,
    product: np.ndarray,
    seconds: np.ndarray,
    last_known: np.ndarray,
    product_id: np.ndarray,
) -> pa.Table:
    """One row per node-product: the earliest candidate of the day (store_id/dc_id < 0: NULL)."""
    n = product.size
    if n:
        node = store_id.astype(np.int64) * 1_000_003 + dc_id.astype(np.int64)
        order = np.lexsort((seconds, product, node))
        key_node, key_product = node[order], product[order]
        first = np.r_[True, (key_node[1:] != key_node[:-1]) | (key_product[1:] != key_product[:-1])]
        keep = order[first]
        keep = keep[np.lexsort((keep, seconds[keep]))]
    else:
        keep = np.zeros(0, np.int64)
    m = keep.size
    return normalise(
        FACT_STOCKOUTS,
        pa.table(
            {
                "TraceId": trace_ids("fact_stockouts", partition, day, m),
                "EventTS": timestamps(day, seconds[keep]),
                "StoreID": pa.array(store_id[keep].astype(np.int32), mask=store_id[keep] < 0),
                "DCID": pa.array(dc_id[keep].astype(np.int32), mask=dc_id[keep] < 0),
                "ProductID": pa.array(product_id[product[keep]]),
                "LastKnownQuantity": pa.array(last_known[keep].astype(np.int32)),
            }
        ),
    )
