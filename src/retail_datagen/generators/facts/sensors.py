"""In-store sensors from visits: foot-traffic counts, BLE pings and zone changes (SPEC §6.1).

Foot traffic counts every visitor present in a zone during a 15-minute interval, so each BLE
ping (which lies inside a zone stay) and each checkout falls in an interval that counts it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.columns import (
    lookup,
    maybe_null,
    timestamps,
    trace_ids,
    yyyymmdd,
)
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.visits import Visits
from retail_datagen.ids import compose
from retail_datagen.schema import normalise
from retail_datagen.schema.tables import (
    FACT_BLE_PINGS,
    FACT_CUSTOMER_ZONE_CHANGES,
    FACT_FOOT_TRAFFIC,
)

__all__ = ["ble_pings", "foot_traffic", "zone_vocabularies"]

_ZONES = pa.array(B.ZONES, pa.string())


def zone_vocabularies(store_id: int) -> tuple[pa.Array, pa.Array]:
    """Sensor and beacon ids of one store, indexed by zone code."""
    sensors = pa.array([f"S{store_id:04d}-{z}" for z in B.ZONES], pa.string())
    beacons = pa.array([f"B{store_id:04d}-{z}" for z in B.ZONES], pa.string())
    return sensors, beacons


def foot_traffic(ctx: FactContext, store: int, day: date, visits: Visits) -> pa.Table:
    """Visitors present per zone and interval, with their average dwell seconds."""
    interval = B.FOOT_TRAFFIC_INTERVAL_S
    n_int = 86_400 // interval
    i0 = (visits.stay_start // interval).astype(np.int64)
    i1 = (np.minimum(visits.stay_end, 86_399.999) // interval).astype(np.int64)
    zone = visits.stay_zone.astype(np.int64)
    dwell = visits.stay_end - visits.stay_start
    second = i1 != i0
    keys = np.concatenate([zone * n_int + i0, (zone * n_int + i1)[second]])
    dwells = np.concatenate([dwell, dwell[second]])
    size = len(B.ZONES) * n_int
    count = np.bincount(keys, minlength=size)
    dwell_sum = np.bincount(keys, weights=dwells, minlength=size)
    # time order: by interval, then zone
    grid = np.flatnonzero(count.reshape(len(B.ZONES), n_int).T.reshape(-1))
    key = (grid % len(B.ZONES)) * n_int + grid // len(B.ZONES)
    store_id = int(ctx.store_id[store])
    sensors, _ = zone_vocabularies(store_id)
    n = key.size
    return normalise(
        FACT_FOOT_TRAFFIC,
        pa.table(
            {
                "TraceId": trace_ids("fact_foot_traffic", store_id, day, n),
                "EventTS": timestamps(day, (key % n_int) * interval),
                "StoreID": pa.array(np.full(n, store_id, np.int32)),
                "SensorId": lookup(sensors, key // n_int),
                "Zone": lookup(_ZONES, key // n_int),
                "Dwell": pa.array(np.rint(dwell_sum[key] / count[key]).astype(np.int32)),
                "Count": pa.array(count[key].astype(np.int32)),
            }
        ),
    )


def _device_ids(ctx: FactContext, store_id: int, day: date, visits: Visits) -> pa.Array:
    """The customer's BLE id when resolved, else an anonymous id stable for the visit."""
    anon = compose(
        visits.n, [f"ANON-{store_id:04d}-{yyyymmdd(day):08d}-", (np.arange(visits.n), 7)]
    )
    known = ctx.customer_ble.take(pa.array(np.maximum(visits.customer, 0)))
    return pc.if_else(pa.array(visits.resolved), known, anon)


def ble_pings(
    ctx: FactContext, store: int, day: date, rng: np.random.Generator, visits: Visits
) -> tuple[pa.Table, pa.Table]:
    """BLE pings of detected visits and the zone changes between their consecutive stays."""
    store_id = int(ctx.store_id[store])
    _, beacons = zone_vocabularies(store_id)
    stays = np.flatnonzero(visits.detected[visits.stay_visit])
    s_visit = visits.stay_visit[stays]
    s_zone = visits.stay_zone[stays]
    start, end = visits.stay_start[stays], visits.stay_end[stays]
    lo, hi = B.BLE_PINGS_PER_ZONE
    pings = lo + (rng.random(stays.size) * (hi - lo + 1)).astype(np.int64)
    p_stay = np.repeat(np.arange(stays.size), pings)
    # stratified times: the j-th of k pings falls in the j-th k-th of the stay, so pings are in
    # time order within a stay without sorting; a checkout stay's last ping is the receipt time
    first = np.cumsum(pings) - pings
    j = np.arange(p_stay.size) - first[p_stay]
    k = pings[p_stay]
    frac = (j + rng.random(p_stay.size)) / k
    checkout = s_zone == B.CHECKOUT
    frac[(first + pings - 1)[checkout]] = 1.0
    t = start[p_stay] + frac * (end - start)[p_stay]
    p_visit = s_visit[p_stay]
    n = p_stay.size
    lo_rssi, hi_rssi = B.RSSI_RANGE
    rssi = rng.integers(lo_rssi, hi_rssi + 1, n).astype(np.int32)

    devices = _device_ids(ctx, store_id, day, visits)
    customer_ids = ctx.customer_ids(visits.customer)
    by_time = np.argsort(t)
    ping_visit = p_visit[by_time]
    pings_table = normalise(
        FACT_BLE_PINGS,
        pa.table(
            {
                "TraceId": trace_ids("fact_ble_pings", store_id, day, n),
                "EventTS": timestamps(day, t[by_time]),
                "StoreID": pa.array(np.full(n, store_id, np.int32)),
                "BeaconId": lookup(beacons, s_zone[p_stay][by_time]),
                "CustomerBLEId": devices.take(pa.array(ping_visit)),
                "RSSI": pa.array(rssi),
                "Zone": lookup(_ZONES, s_zone[p_stay][by_time]),
                "CustomerID": maybe_null(
                    customer_ids.take(pa.array(ping_visit)), visits.resolved[ping_visit]
                ),
            }
        ),
    )

    # a zone change happens at the first ping of every stay after the first of its visit
    first_ping = np.r_[True, p_stay[1:] != p_stay[:-1]]
    change = first_ping & np.r_[False, p_visit[1:] == p_visit[:-1]]
    idx = np.flatnonzero(change)
    idx = idx[np.argsort(t[idx], kind="stable")]
    prev_zone = s_zone[p_stay[idx] - 1]
    m = idx.size
    changes = normalise(
        FACT_CUSTOMER_ZONE_CHANGES,
        pa.table(
            {
                "TraceId": trace_ids("fact_customer_zone_changes", store_id, day, m),
                "EventTS": timestamps(day, t[idx]),
                "StoreID": pa.array(np.full(m, store_id, np.int32)),
                "CustomerBLEId": devices.take(pa.array(p_visit[idx])),
                "FromZone": lookup(_ZONES, prev_zone),
                "ToZone": lookup(_ZONES, s_zone[p_stay[idx]]),
            }
        ),
    )
    return pings_table, changes
