"""The night's shipping: granted requests packed into truck legs, scheduled on a fleet and
numbered as shipments (fact_truck_moves; the SourceId of ledger rows and reorders).

Store legs are numbered first, then supplier legs, among shipped legs only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.disruption_impact import Impact
from retail_datagen.generators.facts.inventory import INBOUND, S_DC, LedgerPart
from retail_datagen.generators.facts.logistics import (
    STATUSES,
    Legs,
    ScheduledLegs,
    pack_legs,
    schedule_legs,
    shipment_ids,
    truck_moves,
)
from retail_datagen.generators.facts.replenishment import Requests
from retail_datagen.rng import stream

__all__ = ["Run", "deliveries", "number_runs", "store_run", "supplier_run", "truck_moves_table"]


@dataclass(frozen=True)
class Run:
    """One fleet's legs of the night: what they carry, when, and their shipment numbers."""

    requests: Requests
    granted: np.ndarray  # per request line
    legs: Legs
    scheduled: ScheduledLegs
    to_stores: bool  # store legs (destination: a store of the region) or supplier legs
    leg_number: np.ndarray  # shipment number per leg (-1: not shipped); set by number_runs

    @property
    def shipped_piece(self) -> np.ndarray:
        out: np.ndarray = self.scheduled.shipped[self.legs.piece_leg] & (self.legs.piece_qty > 0)
        return out

    def units(self, n_products: int) -> np.ndarray:
        """Units shipped per product."""
        shipped = self.shipped_piece
        return np.bincount(
            self.requests.product[self.legs.piece_line[shipped]],
            self.legs.piece_qty[shipped],
            n_products,
        ).astype(np.int64)

    def part(
        self, pieces: np.ndarray, status: str, sign: int, reason: int, source: int, ids: pa.Array
    ) -> LedgerPart:
        """Ledger rows of shipped ``pieces``, at the time their leg reaches ``status``."""
        leg = self.legs.piece_leg[pieces]
        return LedgerPart(
            self.scheduled.times[leg, STATUSES.index(status)],
            self.requests.product[self.legs.piece_line[pieces]],
            sign * self.legs.piece_qty[pieces],
            reason,
            source,
            ids.take(pa.array(self.leg_number[leg])),
        )


def deliveries(run: Run, n_stores: int, ids: pa.Array) -> list[LedgerPart]:
    """Each store's INBOUND rows (at unloading), in one pass over the shipped pieces."""
    pieces = np.flatnonzero(run.shipped_piece)
    dest = run.legs.leg_dest[run.legs.piece_leg[pieces]]
    order = np.argsort(dest, kind="stable")  # stable: each store keeps the pieces' order
    whole = run.part(pieces[order], "UNLOADING", 1, INBOUND, S_DC, ids)
    bounds = np.searchsorted(dest[order], np.arange(n_stores + 1))
    return [
        LedgerPart(
            whole.seconds[a:b],
            whole.product[a:b],
            whole.delta[a:b],
            INBOUND,
            S_DC,
            whole.source_id.slice(a, b - a),
        )
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
    ]


def _trucks_rng(ctx: FactContext, fleet: str, partition: int, day: date) -> np.random.Generator:
    return stream(ctx.seed, f"trucks.{fleet}", partition, day.toordinal())


def store_run(
    ctx: FactContext,
    region: int,
    partition: int,
    day: date,
    req: Requests,
    granted: np.ndarray,
    impact: Impact,
) -> Run:
    """The DC's trucks take granted store requests out, most urgent first."""
    sc = ctx.supply
    stores = sc.region_stores[region]
    legs = pack_legs(
        req.node, ctx.product_refrigerated[req.product], granted, req.priority, sc.capacity
    )
    travel = sc.store_travel_h[stores[legs.leg_dest]] if legs.n else np.zeros(0)
    delay = np.array(
        [impact.delay_to_store.get(int(d), impact.dc_delay) for d in legs.leg_dest.tolist()],
        np.float64,
    )
    scheduled = schedule_legs(
        legs,
        sc.dc_fleet[region],
        travel,
        delay,
        set(impact.broken_trucks),
        _trucks_rng(ctx, "store", partition, day),
    )
    if impact.dc_closed:
        scheduled.truck[:] = -1
    return Run(req, granted, legs, scheduled, True, np.full(legs.n, -1))


def supplier_run(
    ctx: FactContext, region: int, partition: int, day: date, req: Requests, impact: Impact
) -> Run:
    """Supplier trucks bring what the DC asked for (delayed or stopped by disruptions)."""
    sc = ctx.supply
    legs = pack_legs(
        req.node, ctx.product_refrigerated[req.product], req.qty, req.priority, sc.capacity
    )
    scheduled = schedule_legs(
        legs,
        sc.supplier_fleet[region],
        np.full(legs.n, float(sc.supplier_travel_h[region])),
        np.full(legs.n, impact.supplier_delay),
        set(),
        _trucks_rng(ctx, "supplier", partition, day),
    )
    return Run(req, req.qty, legs, scheduled, False, np.full(legs.n, -1))


def number_runs(dc_id: int, day: date, *runs: Run) -> tuple[pa.StringArray, list[Run]]:
    """Shipment ids of the day, numbered over the runs' shipped legs in order."""
    numbered, first = [], 0
    for run in runs:
        shipped = np.flatnonzero(run.scheduled.shipped)
        number = np.full(run.legs.n, -1)
        number[shipped] = first + np.arange(shipped.size)
        numbered.append(dataclasses.replace(run, leg_number=number))
        first += shipped.size
    return shipment_ids(dc_id, day, first), numbered


def _leg_ids(ids: pa.Array, leg_number: np.ndarray) -> pa.Array:
    """Each leg's shipment id (shipped legs only carry one; the others are never written)."""
    if not len(ids):  # nothing shipped today
        return pa.nulls(leg_number.size, pa.string())
    return ids.take(pa.array(np.maximum(leg_number, 0)))


def truck_moves_table(
    ctx: FactContext, region: int, partition: int, day: date, ids: pa.Array, runs: list[Run]
) -> pa.Table:
    """fact_truck_moves of the runs (store legs name their store; supplier legs none)."""
    dc_id = int(ctx.dc_id[region])
    store_ids = ctx.store_id[ctx.supply.region_stores[region]]
    parts = []
    for run in runs:
        dest = run.legs.leg_dest
        if run.to_stores and dest.size:
            dest_id = np.where(dest >= 0, store_ids[np.maximum(dest, 0)], -1)
        else:
            dest_id = np.full(dest.size, -1)
        parts.append(
            truck_moves(
                day, partition, dc_id, dest_id, _leg_ids(ids, run.leg_number), run.scheduled
            )
        )
    return pa.concat_tables(parts)
