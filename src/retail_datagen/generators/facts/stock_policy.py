"""The replenishment policy: reorder points, order-up-to levels, delivery days, starting stock
and the size of the DC and supplier fleets — one rule set, so the stock a node starts with, the
stock it reorders to and the trucks that carry the orders agree (SPEC §6.3 "a steady state").

Levels follow each node's sales velocity (units a day, an exponentially weighted average of
actual sales that starts from the expected sales). A store that sells too little to fill a
useful share of a truck every day gets deliveries every few days instead, and its levels cover
the days between deliveries; the fleet is sized for the legs this produces.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from retail_datagen import calendar
from retail_datagen.config.models import VolumeConfig
from retail_datagen.generators import store_formats as F
from retail_datagen.generators.allocation import deal
from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.logistics import (
    LATEST_COMPLETION_S,
    LOAD_MIN,
    LOAD_WAIT_MIN,
    PLAN_START_S,
    UNLOAD_MIN,
    UNLOAD_WAIT_MIN,
)

__all__ = [
    "DC_CASE_PACK",
    "PRIORITIES",
    "STORE_CASE_PACK",
    "VELOCITY_WEIGHT",
    "dc_levels",
    "delivery_day",
    "fleet_size",
    "peak_lift",
    "review_days",
    "starting_stock",
    "store_daily_units",
    "store_levels",
    "supplier_fleet_size",
    "supplier_split",
    "updated_velocity",
]

VELOCITY_WEIGHT = 0.2  # weight of today's sales in the velocity
STORE_ROP_DAYS = 0.75  # a store reorders at this many days of sales (+ days between deliveries)
STORE_UP_TO_DAYS = 4.0  # … and orders up to this many
# a shelf is filled to at least its presentation stock (volume.store_initial_inventory_min; a
# DC's racks: dc_initial_inventory_min) and reordered when this share of it is left
SHELF_ROP_SHARE = 0.1
DC_ROP_DAYS = 4.0  # the DC covers its suppliers' lead time and the stores' weekly swings
DC_UP_TO_DAYS = 10.0
STORE_CASE_PACK = 12  # a store orders at least a case above its reorder point
DC_CASE_PACK = 240  # a DC orders at least a pallet layer above its reorder point
PRIORITIES = ("URGENT", "HIGH", "NORMAL")

# known peaks (Black Friday, the Christmas run-up): levels rise by the coming week's expected
# traffic over the past week's (whole weeks, so the weekday cycle cancels), at most MAX_PEAK_LIFT
MAX_PEAK_LIFT = 4.0

# deliveries: a store gets a truck every day when a day's order fills at least this share of a
# truck, otherwise every few days (at most a week) so its legs are fuller
DELIVERY_FILL = 0.8
MAX_REVIEW_DAYS = 7
REFRIGERATED_UNIT_SHARE = 0.42  # of units sold, measured at the defaults: the reefers' share

# fleet: truck-hours the legs need on an ordinary day × FLEET_PEAK (Saturdays, winter), at most
# FLEET_BUSY of the hours a truck can work in a day
FLEET_PEAK = 1.5
FLEET_BUSY = 0.75
_HANDLING_H = sum(sum(band) / 2 for band in (LOAD_WAIT_MIN, LOAD_MIN, UNLOAD_WAIT_MIN, UNLOAD_MIN))
HANDLING_H = _HANDLING_H / 60  # scheduled -> completed without the drive
WORK_DAY_H = (LATEST_COMPLETION_S - PLAN_START_S) / 3600


def store_daily_units(volume: VolumeConfig, stores: pa.Table) -> np.ndarray:
    """Units each store (``dim_stores`` rows) sells on an ordinary day, before seasons."""
    codes = {name: i for i, name in enumerate(F.STORE_FORMATS)}
    fmt = np.array([codes[f] for f in stores.column("StoreFormat").to_pylist()], np.int64)
    traffic = stores.column("TrafficMultiplier").to_numpy()
    scale = volume.items_per_ticket_mean / B.REFERENCE_ITEMS_PER_TICKET
    units: np.ndarray = volume.customers_per_day * traffic * F.ITEMS_MEAN[fmt] * scale
    return units


def review_days(daily_units: np.ndarray, capacity: int) -> np.ndarray:
    """Days between a store's deliveries: 1, or enough days to fill DELIVERY_FILL of a truck."""
    days = np.ceil(DELIVERY_FILL * capacity / np.maximum(daily_units, 1e-9))
    out: np.ndarray = np.clip(days, 1, MAX_REVIEW_DAYS).astype(np.int64)
    return out


def delivery_day(store_id: np.ndarray, review: np.ndarray, day: date) -> np.ndarray:
    """Whether today is each store's delivery day (stores stagger their days by their ID)."""
    due: np.ndarray = (day.toordinal() + store_id.astype(np.int64)) % review == 0
    return due


def peak_lift(day: date) -> float:
    """How much more the coming week sells than the past one (≥ 1): velocity follows past
    sales, so without this a store meets Black Friday with an ordinary day's stock."""
    week = np.arange(7)
    ahead = calendar.day_multipliers([day + timedelta(days=int(d)) for d in week]).mean()
    past = calendar.day_multipliers([day - timedelta(days=int(d) + 1) for d in week]).mean()
    return float(np.clip(ahead / max(past, 1e-9), 1.0, MAX_PEAK_LIFT))


def store_levels(
    velocity: np.ndarray, review: np.ndarray, shelf: int
) -> tuple[np.ndarray, np.ndarray]:
    """(reorder point, order-up-to) of store-products (stores × products); ``review`` per store,
    ``shelf`` the presentation stock.

    A store orders only on its delivery days, so both levels also cover the days until the next
    delivery. Fast sellers follow their velocity (and sometimes run empty before the truck
    comes, as in real stores); slow ones are filled to the presentation stock.
    """
    extra = (review - 1)[:, None]
    rop = np.maximum(np.ceil((STORE_ROP_DAYS + extra) * velocity), SHELF_ROP_SHARE * shelf)
    up_to = np.maximum(np.ceil((STORE_UP_TO_DAYS + extra) * velocity), rop + STORE_CASE_PACK)
    up_to = np.maximum(up_to, shelf)
    return rop, up_to


def dc_levels(velocity: np.ndarray, shelf: int) -> tuple[np.ndarray, np.ndarray]:
    """(reorder point, order-up-to) of a DC's products from its velocity (all its stores);
    ``shelf`` is the least stock of a product it keeps in its racks."""
    rop = np.maximum(np.ceil(DC_ROP_DAYS * velocity), SHELF_ROP_SHARE * shelf)
    up_to = np.maximum(np.ceil(DC_UP_TO_DAYS * velocity), np.maximum(rop + DC_CASE_PACK, shelf))
    return rop, up_to


def starting_stock(rop: np.ndarray, up_to: np.ndarray, u: np.ndarray) -> np.ndarray:
    """What the steady state holds: somewhere between the reorder point and the order-up-to
    level (``u`` uniform in [0, 1)), so nothing drains or piles up after the first day."""
    out: np.ndarray = np.floor(rop + u * (up_to - rop + 1))
    return out


def updated_velocity(previous: np.ndarray, units: np.ndarray) -> np.ndarray:
    updated: np.ndarray = (1 - VELOCITY_WEIGHT) * previous + VELOCITY_WEIGHT * units
    return updated.astype(np.float32)


def fleet_size(
    daily_units: np.ndarray, travel_h: np.ndarray, region: np.ndarray, n_regions: int, capacity: int
) -> tuple[np.ndarray, np.ndarray]:
    """(refrigerated, dry) DC trucks per region for the legs its stores' orders make.

    A store's delivery brings ``review`` days of its sales, cut into truck legs per kind; each
    leg keeps a truck for the handling plus the drive there and back.
    """
    review = review_days(daily_units, capacity)
    per_delivery = daily_units * review
    trip_h = HANDLING_H + 2 * travel_h
    need = []
    for share in (REFRIGERATED_UNIT_SHARE, 1 - REFRIGERATED_UNIT_SHARE):
        legs_per_day = np.ceil(per_delivery * share * FLEET_PEAK / capacity) / review
        hours = np.bincount(region, legs_per_day * trip_h, n_regions)
        need.append(np.ceil(hours / (WORK_DAY_H * FLEET_BUSY)).astype(np.int64))
    cold, dry = need
    has_stores = np.bincount(region, minlength=n_regions) > 0
    return np.maximum(cold, has_stores), np.maximum(dry, 1)


def _supplier_legs_a_day(travel_h: np.ndarray) -> np.ndarray:
    """Whole legs one supplier truck brings a DC in a working day (``travel_h`` per DC): the
    first leg is handling and the drive there, each further one adds the drive back."""
    first_leg = HANDLING_H + travel_h
    legs: np.ndarray = 1 + np.floor(np.maximum(WORK_DAY_H - first_leg, 0) / (first_leg + travel_h))
    return legs


def supplier_fleet_size(
    dc_units: np.ndarray, travel_h: np.ndarray, capacity: int
) -> tuple[int, int]:
    """(refrigerated, dry) supplier trucks for the DCs' inbound (``dc_units``: their stores'
    ordinary daily sales; ``travel_h``: hours from their suppliers).

    Each DC needs its sales × FLEET_PEAK a day in full legs per kind; a truck brings
    ``_supplier_legs_a_day`` legs and is kept at most FLEET_BUSY of the day, as the DC fleet.
    """
    legs_a_day = _supplier_legs_a_day(travel_h)
    sized = []
    for share in (REFRIGERATED_UNIT_SHARE, 1 - REFRIGERATED_UNIT_SHARE):
        legs = np.ceil(dc_units * share * FLEET_PEAK / capacity)
        sized.append(int(np.ceil(legs / (legs_a_day * FLEET_BUSY)).sum()))
    return max(sized[0], 1), max(sized[1], 1)


def supplier_split(
    refrigerated: np.ndarray, dc_units: np.ndarray, travel_h: np.ndarray
) -> np.ndarray:
    """The DC (index) each supplier truck serves: the shared pool split per kind in proportion
    to the trucks each DC's inbound needs (its stores' sales over what one truck brings in a
    day: whole legs that fit the working day), one each while they last, so the biggest and
    farthest DCs are not starved of stock."""
    need = dc_units / _supplier_legs_a_day(travel_h) + 1e-9
    owner = np.zeros(refrigerated.size, np.int64)
    for kind in (True, False):
        trucks = np.flatnonzero(refrigerated == kind)
        counts = deal(trucks.size, need, np.zeros(need.size, np.int64))
        owner[trucks] = np.repeat(np.arange(need.size), counts)
    return owner
