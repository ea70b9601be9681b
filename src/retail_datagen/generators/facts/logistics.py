"""Shipments: lines packed into truck legs by capacity, legs scheduled on trucks, truck moves.

Every leg leaves and is unloaded on the day it is planned (the nightly replenishment run), so no
shipment is in flight between days. A truck runs one leg at a time (never double-booked) and as
many legs as fit into the day, including the drive back; legs that do not fit wait for the next
night. Refrigerated goods travel on refrigerated trucks only; dry goods may ride a reefer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from retail_datagen.generators.facts.columns import (
    day_start_us,
    lookup,
    timestamps,
    trace_ids,
    yyyymmdd,
)
from retail_datagen.ids import compose
from retail_datagen.schema import normalise
from retail_datagen.schema.tables import FACT_TRUCK_MOVES

if TYPE_CHECKING:  # supply imports the policy, which reads this module's timings
    from retail_datagen.generators.facts.supply import Fleet

__all__ = ["Legs", "ScheduledLegs", "pack_legs", "schedule_legs", "shipment_ids", "truck_moves"]

STATUSES = ("SCHEDULED", "LOADING", "IN_TRANSIT", "DELAYED", "ARRIVED", "UNLOADING", "COMPLETED")
PLAN_START_S = 30 * 60  # the nightly replenishment run releases legs from 00:30
LATEST_COMPLETION_S = 86_400 - 120
LOAD_WAIT_MIN = (10, 40)  # scheduled -> loading
LOAD_MIN = (30, 60)  # loading -> departure
UNLOAD_WAIT_MIN = (5, 20)  # arrival -> unloading
UNLOAD_MIN = (30, 120)  # unloading -> completed (SPEC §11: 0.5-2 h)


@dataclass(frozen=True)
class Legs:
    """Lines packed into legs: each piece is (part of) one line on one leg."""

    piece_line: np.ndarray  # index of the request line each piece comes from
    piece_qty: np.ndarray
    piece_leg: np.ndarray
    leg_dest: np.ndarray  # destination key (store index, or -1 for the DC itself)
    leg_refrigerated: np.ndarray
    leg_units: np.ndarray
    leg_priority: np.ndarray  # 0 = most urgent

    @property
    def n(self) -> int:
        return int(self.leg_dest.size)


def pack_legs(
    dest: np.ndarray,
    refrigerated: np.ndarray,
    qty: np.ndarray,
    priority: np.ndarray,
    capacity: int,
) -> Legs:
    """Group lines by (destination, refrigeration) and cut each group into legs of at most
    ``capacity`` units, splitting a line across two legs where a boundary falls inside it."""
    n = dest.size
    order = np.lexsort((np.arange(n), refrigerated, dest))
    d, r, q = dest[order], refrigerated[order], qty[order].astype(np.int64)
    group_start = np.r_[True, (d[1:] != d[:-1]) | (r[1:] != r[:-1])] if n else np.zeros(0, bool)
    cum = np.cumsum(q)
    base = np.maximum.accumulate(np.where(group_start, cum - q, 0)) if n else cum
    lo, hi = cum - q - base, cum - base  # unit interval [lo, hi) inside the group
    first_leg, last_leg = lo // capacity, (hi - 1) // capacity
    pieces = (last_leg - first_leg + 1).astype(np.int64)
    line = np.repeat(np.arange(n), pieces)
    k = np.arange(line.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    leg_in_group = first_leg[line] + k
    start = np.maximum(lo[line], leg_in_group * capacity)
    end = np.minimum(hi[line], (leg_in_group + 1) * capacity)
    group = np.cumsum(group_start) - 1
    key = group[line] * (int(cum.max() // capacity + 2) if n else 1) + leg_in_group
    leg_keys, piece_leg = np.unique(key, return_inverse=True)
    leg_first_piece = np.searchsorted(key, leg_keys) if key.size else key
    leg_line = line[leg_first_piece]
    leg_priority = np.full(leg_keys.size, np.iinfo(np.int64).max)
    np.minimum.at(leg_priority, piece_leg, priority[order][line])
    return Legs(
        piece_line=order[line],
        piece_qty=end - start,
        piece_leg=piece_leg,
        leg_dest=d[leg_line],
        leg_refrigerated=r[leg_line],
        leg_units=np.bincount(piece_leg, end - start, leg_keys.size).astype(np.int64),
        leg_priority=leg_priority,
    )


@dataclass(frozen=True)
class ScheduledLegs:
    truck: np.ndarray  # truck ID, -1 when the leg could not be scheduled today
    times: np.ndarray  # (legs, 7) seconds per status; NaN where a status does not occur
    planned_departure: np.ndarray
    planned_arrival: np.ndarray

    @property
    def shipped(self) -> np.ndarray:
        return self.truck >= 0


def schedule_legs(
    legs: Legs,
    fleet: Fleet,
    travel_h: np.ndarray,
    delay_h: np.ndarray,
    unavailable: set[int],
    rng: np.random.Generator,
) -> ScheduledLegs:
    """Put legs on trucks, most urgent first; each truck is free again after its return trip.

    ``travel_h``/``delay_h`` are per leg (a delay adds a DELAYED status); trucks in
    ``unavailable`` (broken down) take no legs today.
    """
    n = legs.n
    u = rng.random((n, 4))
    times = np.full((n, len(STATUSES)), np.nan)
    truck = np.full(n, -1, dtype=np.int64)
    departure = np.full(n, np.nan)
    arrival = np.full(n, np.nan)
    free_at = {int(t): float(PLAN_START_S) for t in fleet.truck_id.tolist() if t not in unavailable}
    cold = {int(t) for t, r in zip(fleet.truck_id, fleet.refrigerated, strict=True) if r}
    cold_trucks = [t for t in free_at if t in cold]
    every = list(free_at)
    for leg in np.lexsort((np.arange(n), legs.leg_priority)).tolist():
        # refrigerated goods need a reefer; dry goods take whichever truck is free first
        # (a dry truck when both are)
        pool = cold_trucks if legs.leg_refrigerated[leg] else every
        if not pool:
            continue
        chosen = min(pool, key=lambda t: (free_at[t], t in cold, t))
        scheduled = free_at[chosen]
        loading = scheduled + 60 * (LOAD_WAIT_MIN[0] + u[leg, 0] * np.diff(LOAD_WAIT_MIN)[0])
        depart = loading + 60 * (LOAD_MIN[0] + u[leg, 1] * np.diff(LOAD_MIN)[0])
        planned = depart + 3600 * travel_h[leg]
        arrive = planned + 3600 * delay_h[leg]
        unloading = arrive + 60 * (UNLOAD_WAIT_MIN[0] + u[leg, 2] * np.diff(UNLOAD_WAIT_MIN)[0])
        completed = unloading + 60 * (UNLOAD_MIN[0] + u[leg, 3] * np.diff(UNLOAD_MIN)[0])
        if completed > LATEST_COMPLETION_S:
            continue  # does not fit today: the need is raised again next night
        delayed = depart + 3600 * travel_h[leg] * 0.5 if delay_h[leg] > 0 else np.nan
        times[leg] = (scheduled, loading, depart, delayed, arrive, unloading, completed)
        truck[leg] = chosen
        departure[leg], arrival[leg] = depart, planned
        free_at[chosen] = completed + 3600 * travel_h[leg]  # drive back empty
    return ScheduledLegs(truck, times, departure, arrival)


def shipment_ids(dc_id: int, day: date, n: int) -> pa.StringArray:
    """``SHP-0003-20240105-0007``: DC, day, leg number."""
    return compose(n, [f"SHP-{dc_id:04d}-{yyyymmdd(day):08d}-", (range(n), 4)])


def truck_moves(
    day: date,
    partition: int,
    dc_id: int,
    store_ids: np.ndarray,
    ids: pa.Array,
    scheduled: ScheduledLegs,
) -> pa.Table:
    """One row per status of every scheduled leg, in time order per leg."""
    legs = np.flatnonzero(scheduled.shipped)
    times = scheduled.times[legs]
    present = ~np.isnan(times)
    leg_of_row = np.repeat(legs, present.sum(axis=1))
    status = np.tile(np.arange(len(STATUSES)), legs.size).reshape(-1, len(STATUSES))[present]
    seconds = times[present]
    order = np.lexsort((status, seconds))
    leg_of_row, status, seconds = leg_of_row[order], status[order], seconds[order]
    n = seconds.size
    delayed_eta = scheduled.times[:, 4]  # actual arrival
    after_delay = status >= STATUSES.index("DELAYED")
    eta = np.where(after_delay, delayed_eta[leg_of_row], scheduled.planned_arrival[leg_of_row])
    base = day_start_us(day)
    store = store_ids[leg_of_row]
    return normalise(
        FACT_TRUCK_MOVES,
        pa.table(
            {
                "TraceId": trace_ids("fact_truck_moves", partition, day, n),
                "EventTS": timestamps(day, seconds),
                "TruckId": pa.array(scheduled.truck[leg_of_row].astype(np.int32)),
                "DCID": pa.array(np.full(n, dc_id, np.int32)),
                "StoreID": pa.array(store.astype(np.int32), mask=store < 0),
                "ShipmentId": ids.take(pa.array(leg_of_row)),
                "Status": lookup(STATUSES, status),
                "ETA": pa.array(base + np.round(eta * 1e6).astype(np.int64), pa.timestamp("us")),
                "ETD": pa.array(
                    base + np.round(scheduled.planned_departure[leg_of_row] * 1e6).astype(np.int64),
                    pa.timestamp("us"),
                ),
            }
        ),
    )
