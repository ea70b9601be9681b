"""One region's day — a DC and the stores it serves — with real stock (the recipe).

Night (00:10-00:40): every store asks its DC for what fell to its reorder point; the DC grants
what it has, packs it into truck legs and ships it that day; the DC asks its suppliers likewise.
Day: shoppers and online orders take stock first come first served — a shopper who finds a
shelf empty buys less or a substitute from the same category. Evening: cycle counts and damage.
Everything a node does is written to its ledger with the running balance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen.generators.facts.baskets import expected_daily_units
from retail_datagen.generators.facts.columns import lookup, timestamps, trace_ids
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.hours import open_window
from retail_datagen.generators.facts.inventory import (
    ADJUSTMENT,
    DAMAGED,
    INBOUND,
    OUTBOUND,
    RETURN,
    S_COUNT,
    S_DC,
    S_DISRUPTION,
    S_ONLINE,
    S_STORE,
    S_SUPPLIER,
    SALE,
    LedgerPart,
    allocate,
    build_ledger,
    stockouts_table,
)
from retail_datagen.generators.facts.logistics import (
    STATUSES,
    Legs,
    ScheduledLegs,
    pack_legs,
    schedule_legs,
    shipment_ids,
    truck_moves,
)
from retail_datagen.generators.facts.online_orders import online_orders_tables, plan_online_orders
from retail_datagen.generators.facts.returns import empty_pending, prehistory_returns
from retail_datagen.generators.facts.stock_policy import (
    PRIORITIES,
    dc_levels,
    delivery_day,
    peak_lift,
    store_levels,
    updated_velocity,
)
from retail_datagen.generators.facts.store_day import finish_store_day, plan_store_day
from retail_datagen.rng import stream
from retail_datagen.schema import TABLES, normalise
from retail_datagen.schema.tables import (
    FACT_DC_INVENTORY_TXN,
    FACT_REORDERS,
    FACT_STORE_INVENTORY_TXN,
)

__all__ = ["RegionCarry", "initial_carry", "region_partition", "simulate_region_day"]

PRELAUNCH_DAYS = 14  # a product is stocked at most this many days before its launch
NIGHT_RUN_S = (10 * 60, 40 * 60)
RESTOCK_SHARE = 0.8  # returned units fit to sell again
ADJUSTMENT_RATE = 0.002  # node-products with a cycle-count correction per day
DAMAGE_RATE = 0.001
ADJUSTMENT_UNITS = (1, 3)
DAMAGE_UNITS = (1, 5)
COUNT_TIME_S = 23 * 3600 + 45 * 60  # cycle counts and damage are booked at 23:45
SHORTAGE_PRODUCT_SHARE = 0.05
STORE_LOSS_TIME_S = 5.0  # shortages are found when the day starts
DC_LOSS_TIME_S = 45 * 60.0  # of a node's products hit by an inventory shortage
WEATHER_DELAY_HOURS = 6.0  # at severity 1
SUPPLIER_DELAY_HOURS = 8.0
REGION_PARTITION_BASE = 5000  # row-id partition of a region: 5000 + DC id (stores are ≤ 5000)


def region_partition(ctx: FactContext, region: int) -> int:
    return REGION_PARTITION_BASE + int(ctx.dc_id[region])


@dataclass
class RegionCarry:
    """What a region carries from one day to the next."""

    store_onhand: np.ndarray  # (stores of the region, products)
    store_velocity: np.ndarray
    dc_onhand: np.ndarray  # (products,)
    dc_velocity: np.ndarray
    pending: dict[int, pa.Table] = field(default_factory=dict)  # store index -> returns


def initial_carry(ctx: FactContext, region: int, day: date | None = None) -> RegionCarry:
    """The snapshot stock (where the simulation starts) and the expected sales velocity.

    On the dataset's first day the stores also carry the returns still pending from sales
    made before it, so returns start at their normal rate (never on any later day).
    """
    sc = ctx.supply
    stores = sc.region_stores[region]
    velocity = expected_daily_units(ctx, stores, ctx.history_start).astype(np.float32)
    pending = {}
    if day == ctx.history_start:
        pending = {int(s): prehistory_returns(ctx, int(s), day) for s in stores.tolist()}
    return RegionCarry(
        store_onhand=sc.store_initial[stores].copy(),
        store_velocity=velocity,
        dc_onhand=sc.dc_initial[region].copy(),
        dc_velocity=velocity.sum(axis=0).astype(np.float32),
        pending=pending,
    )


@dataclass(frozen=True)
class _Impact:
    """What today's disruptions do to a region."""

    dc_closed: bool = False
    broken_trucks: frozenset[int] = frozenset()
    delay_to_store: dict[int, float] = field(default_factory=dict)  # store index -> hours
    dc_delay: float = 0.0
    supplier_delay: float = 0.0
    supplier_stopped: bool = False
    shortages: tuple[tuple[str, int | None, float], ...] = ()  # (target_type, id, severity)


def _impact(ctx: FactContext, region: int, day: date) -> _Impact:
    start = datetime.combine(day, datetime.min.time())
    end = datetime.combine(day, datetime.max.time())
    dc_id = int(ctx.dc_id[region])
    stores = ctx.supply.region_stores[region]
    store_by_id = {int(ctx.store_id[s]): int(s) for s in stores}
    fleet = ctx.supply.dc_fleet[region]
    dc_closed, broken, delays = False, set(), {}
    dc_delay = supplier_delay = 0.0
    supplier_stopped = False
    shortages: list[tuple[str, int | None, float]] = []
    for d in ctx.disruptions:
        if d.end < start or d.start > end:
            continue
        kind, target, target_id, severity = d.kind, d.target_type, d.target_id, d.severity
        here = target == "network" or (target == "dc" and target_id == dc_id)
        here = here or (target == "store" and target_id in store_by_id)
        if kind == "dc_outage" and target == "dc" and target_id == dc_id:
            dc_closed = True
        elif kind == "truck_breakdown":
            if target == "truck" and target_id in set(fleet.truck_id.tolist()):
                broken.add(int(target_id))
            elif here:
                count = int(np.ceil(severity * fleet.truck_id.size))
                broken.update(int(t) for t in fleet.truck_id[:count].tolist())
        elif kind == "weather_delay" and here:
            hours = severity * WEATHER_DELAY_HOURS
            if target == "store":
                delays[store_by_id[int(target_id)]] = hours
            else:
                dc_delay = max(dc_delay, hours)
        elif kind == "supplier_delay" and (here or target == "product"):
            supplier_delay = max(supplier_delay, severity * SUPPLIER_DELAY_HOURS)
            supplier_stopped = supplier_stopped or severity >= 1.0
        elif kind == "inventory_shortage" and (here or target == "product"):
            shortages.append((target, target_id, severity))
    return _Impact(
        dc_closed,
        frozenset(broken),
        delays,
        dc_delay,
        supplier_delay,
        supplier_stopped,
        tuple(shortages),
    )


def _shortage_loss(
    ctx: FactContext, impact: _Impact, node: str, node_id: int, onhand: np.ndarray, rng: Any
) -> np.ndarray:
    """Units lost at the start of the day to inventory-shortage disruptions (≤ on hand)."""
    loss = np.zeros(onhand.size, np.int64)
    for target, target_id, severity in impact.shortages:
        if target == "product" and target_id is not None:
            hit = ctx.product_id == target_id
        elif target in ("network", node) and (target == "network" or target_id == node_id):
            hit = rng.random(onhand.size) < SHORTAGE_PRODUCT_SHARE
        else:
            continue
        loss = np.maximum(loss, np.where(hit, np.floor(onhand * severity), 0).astype(np.int64))
    lost: np.ndarray = np.minimum(loss, onhand)
    return lost


def _counts(
    rng: np.random.Generator, balance: np.ndarray, close_s: float
) -> tuple[LedgerPart, LedgerPart]:
    """End-of-day cycle-count corrections (±) and damage write-offs, never below zero."""
    p = balance.size
    adjust = np.flatnonzero(rng.random(p) < ADJUSTMENT_RATE)
    units = rng.integers(ADJUSTMENT_UNITS[0], ADJUSTMENT_UNITS[1] + 1, adjust.size)
    sign = np.where(rng.random(adjust.size) < 0.5, -1, 1)
    adjust_delta = np.where(sign < 0, -np.minimum(units, balance[adjust]), units)
    after = balance.copy()
    np.add.at(after, adjust, adjust_delta)
    damage = np.flatnonzero(rng.random(p) < DAMAGE_RATE)
    damage_delta = -np.minimum(
        rng.integers(DAMAGE_UNITS[0], DAMAGE_UNITS[1] + 1, damage.size), after[damage]
    )
    nulls = pa.nulls
    return (
        LedgerPart(
            np.full(adjust.size, close_s),
            adjust,
            adjust_delta,
            ADJUSTMENT,
            S_COUNT,
            nulls(adjust.size, pa.string()),
        ),
        LedgerPart(
            np.full(damage.size, close_s + 60),
            damage,
            damage_delta,
            DAMAGED,
            S_COUNT,
            nulls(damage.size, pa.string()),
        ),
    )


def _shipment_part(
    legs: Legs,
    scheduled: ScheduledLegs,
    pieces: np.ndarray,
    status: str,
    products: np.ndarray,
    sign: int,
    reason: int,
    source: int,
    leg_number: np.ndarray,
    ids: pa.Array,
) -> LedgerPart:
    """Ledger rows of shipped pieces, at the time their leg reaches ``status``."""
    leg = legs.piece_leg[pieces]
    return LedgerPart(
        scheduled.times[leg, STATUSES.index(status)],
        products[legs.piece_line[pieces]],
        sign * legs.piece_qty[pieces],
        reason,
        source,
        ids.take(pa.array(leg_number[leg])),
    )


def _loss_part(loss: np.ndarray, seconds: float) -> LedgerPart:
    """Units lost to an inventory-shortage disruption, as ADJUSTMENT rows (zeros dropped)."""
    n = loss.size
    return LedgerPart(
        np.full(n, seconds), np.arange(n), -loss, ADJUSTMENT, S_DISRUPTION, pa.nulls(n, pa.string())
    )


def _end_balance(start: np.ndarray, parts: list[LedgerPart]) -> np.ndarray:
    end = start.astype(np.int64).copy()
    for part in parts:
        np.add.at(end, part.product, part.delta)
    return end


def _leg_ids(ids: pa.Array, leg_number: np.ndarray) -> pa.Array:
    """Each leg's shipment id (shipped legs only carry one; the others are never written)."""
    if not len(ids):  # nothing shipped today
        return pa.nulls(leg_number.size, pa.string())
    return ids.take(pa.array(np.maximum(leg_number, 0)))


def _stockable(ctx: FactContext, day: date) -> np.ndarray:
    """Products launched or launching within PRELAUNCH_DAYS: the only ones replenished."""
    stockable: np.ndarray = ctx.product_launch <= day.toordinal() + PRELAUNCH_DAYS
    return stockable


def _receiving(ctx: FactContext, stores: np.ndarray, day: date) -> np.ndarray:
    """Stores open today: a closed store orders nothing, so no truck comes to it."""
    return np.array([open_window(ctx, int(s), day) is not None for s in stores.tolist()], bool)


def _priority(onhand: np.ndarray, rop: np.ndarray, launched: np.ndarray) -> np.ndarray:
    """URGENT (0) for an empty launched slot, HIGH (1) at half the reorder point, else NORMAL;
    a pre-launch stocking is never urgent (nobody can buy the product yet)."""
    priority = np.where(onhand == 0, 0, np.where(onhand * 2 <= rop, 1, 2))
    out: np.ndarray = np.where(launched, priority, 2)
    return out


def simulate_region_day(
    ctx: FactContext, region: int, day: date, carry: RegionCarry | None
) -> tuple[dict[str, pa.Table], RegionCarry]:
    """Every fact of a region's day, and the state it carries into the next day."""
    sc = ctx.supply
    carry = carry if carry is not None else initial_carry(ctx, region, day)
    stores = sc.region_stores[region]
    dc_id = int(ctx.dc_id[region])
    partition = region_partition(ctx, region)
    n_products = ctx.product_id.size

    def rng(domain: str) -> np.random.Generator:
        return stream(ctx.seed, domain, partition, day.toordinal())

    impact = _impact(ctx, region, day)
    night = rng("night")

    # ---------------------------------------------------------------- nightly replenishment
    onhand = carry.store_onhand
    volume = ctx.config.volume
    review = sc.store_review[stores]
    lift = peak_lift(day)
    rop, up_to = store_levels(
        carry.store_velocity * lift, review, volume.store_initial_inventory_min
    )
    open_today = _receiving(ctx, stores, day)
    ordering = open_today & delivery_day(ctx.store_id[stores], review, day)
    req_store, req_product = np.nonzero((onhand <= rop) & _stockable(ctx, day) & ordering[:, None])
    req_qty = (up_to - onhand)[req_store, req_product].astype(np.int64)
    req_onhand = onhand[req_store, req_product]
    req_rop = rop[req_store, req_product]
    launched = ctx.launched_mask(day)
    priority = _priority(req_onhand, req_rop, launched[req_product])
    req_s = NIGHT_RUN_S[0] + night.random(req_store.size) * np.diff(NIGHT_RUN_S)[0]
    dc_start = carry.dc_onhand
    granted = allocate(dc_start, req_product, req_qty, priority * 10_000 + req_store)
    if impact.dc_closed:
        granted[:] = 0

    legs = pack_legs(
        req_store, ctx.product_refrigerated[req_product], granted, priority, sc.capacity
    )
    travel = sc.store_travel_h[stores[legs.leg_dest]] if legs.n else np.zeros(0)
    delay = np.array(
        [impact.delay_to_store.get(int(d), impact.dc_delay) for d in legs.leg_dest.tolist()]
    )
    scheduled = schedule_legs(
        legs,
        sc.dc_fleet[region],
        travel,
        delay.reshape(-1),
        set(impact.broken_trucks),
        rng("trucks"),
    )
    if impact.dc_closed:
        scheduled.truck[:] = -1
    shipped_piece = scheduled.shipped[legs.piece_leg] & (legs.piece_qty > 0)

    # ---------------------------------------------------------------- supplier replenishment
    outbound_units = np.bincount(
        req_product[legs.piece_line[shipped_piece]],
        legs.piece_qty[shipped_piece],
        n_products,
    ).astype(np.int64)
    dc_after = dc_start.astype(np.int64) - outbound_units
    dc_rop, dc_up_to = dc_levels(carry.dc_velocity * lift, volume.dc_initial_inventory_min)
    sup_product = np.flatnonzero((dc_after <= dc_rop) & _stockable(ctx, day))
    sup_qty = (dc_up_to[sup_product] - dc_after[sup_product]).astype(np.int64)
    sup_priority = np.where((dc_after[sup_product] == 0) & launched[sup_product], 0, 2)
    sup_s = NIGHT_RUN_S[0] + night.random(sup_product.size) * np.diff(NIGHT_RUN_S)[0]
    if impact.supplier_stopped:
        sup_qty[:] = 0
    sup_legs = pack_legs(
        np.zeros(sup_product.size, np.int64),
        ctx.product_refrigerated[sup_product],
        sup_qty,
        sup_priority,
        sc.capacity,
    )
    sup_scheduled = schedule_legs(
        sup_legs,
        sc.supplier_fleet[region],
        np.full(sup_legs.n, float(sc.supplier_travel_h[region])),
        np.full(sup_legs.n, impact.supplier_delay),
        set(),
        rng("supplier_trucks"),
    )
    sup_shipped_piece = sup_scheduled.shipped[sup_legs.piece_leg] & (sup_legs.piece_qty > 0)

    # shipment ids: store legs first, then supplier legs, numbered among shipped legs only
    shipped_legs = np.flatnonzero(scheduled.shipped)
    sup_shipped_legs = np.flatnonzero(sup_scheduled.shipped)
    ids = shipment_ids(dc_id, day, shipped_legs.size + sup_shipped_legs.size)
    leg_number = np.full(legs.n, -1)
    leg_number[shipped_legs] = np.arange(shipped_legs.size)
    sup_leg_number = np.full(sup_legs.n, -1)
    sup_leg_number[sup_shipped_legs] = shipped_legs.size + np.arange(sup_shipped_legs.size)
    store_ids = ctx.store_id[stores]
    tables: dict[str, list[pa.Table]] = {}

    def put(name: str, table: pa.Table) -> None:
        tables.setdefault(name, []).append(table)

    put(
        "fact_truck_moves",
        truck_moves(
            day,
            partition,
            dc_id,
            np.where(legs.leg_dest >= 0, store_ids[np.maximum(legs.leg_dest, 0)], -1),
            _leg_ids(ids, leg_number),
            scheduled,
        ),
    )
    put(
        "fact_truck_moves",
        truck_moves(
            day,
            partition,
            dc_id,
            np.full(sup_legs.n, -1),
            _leg_ids(ids, sup_leg_number),
            sup_scheduled,
        ),
    )
    put(
        "fact_reorders",
        _reorders(
            ctx,
            day,
            partition,
            dc_id,
            req_s,
            store_ids[req_store],
            req_product,
            req_onhand,
            req_rop,
            req_qty,
            priority,
            legs,
            leg_number,
            ids,
        ),
    )
    put(
        "fact_reorders",
        _reorders(
            ctx,
            day,
            partition,
            dc_id,
            sup_s,
            np.full(sup_product.size, -1),
            sup_product,
            dc_start[sup_product],
            dc_rop[sup_product],
            sup_qty,
            sup_priority,
            sup_legs,
            sup_leg_number,
            ids,
        ),
    )

    # ---------------------------------------------------------------- online orders
    plan = plan_online_orders(ctx, day)
    orders = np.flatnonzero(plan.region == region)
    line_in_region = np.zeros(plan.line_order.size, bool)
    line_in_region[np.isin(plan.line_order, orders)] = True
    open_line = line_in_region & ~plan.cancelled[plan.line_order]
    line_store = plan.node_store[plan.line_order]
    line_s = plan.take_seconds[plan.line_order]  # when the fulfilling node takes the stock
    online_granted = np.zeros(plan.line_order.size, np.int64)
    dc_lines = np.flatnonzero(open_line & (line_store < 0))
    dc_available = np.maximum(dc_after, 0)
    if not impact.dc_closed:
        online_granted[dc_lines] = allocate(
            dc_available, plan.product[dc_lines], plan.qty[dc_lines], line_s[dc_lines]
        )

    # ---------------------------------------------------------------- stores
    stock_rows: list[pa.Table] = []
    out_store_onhand = onhand.copy()
    out_velocity = carry.store_velocity.copy()
    pending = dict(carry.pending)
    so_store: list[np.ndarray] = []
    so_product: list[np.ndarray] = []
    so_seconds: list[np.ndarray] = []
    so_last: list[np.ndarray] = []
    order_ids = plan.ids
    for k, store in enumerate(stores.tolist()):
        store_id = int(ctx.store_id[store])
        start = onhand[k].astype(np.int64)
        srng = stream(ctx.seed, "stock", store_id, day.toordinal())
        loss = _shortage_loss(ctx, impact, "store", store_id, start, srng)
        if not open_today[k]:  # a closed store books nothing: a shortage is found when it opens
            loss[:] = 0
        available = start - loss
        demand = plan_store_day(ctx, store, day, pending.get(store, empty_pending()))
        mine = np.flatnonzero(open_line & (line_store == store))
        if demand is not None:
            n_sale = demand.product.size
            product = np.concatenate([demand.product, plan.product[mine]])
            qty = np.concatenate([demand.qty, plan.qty[mine]])
            when = np.concatenate([demand.line_seconds, line_s[mine]])
        else:
            n_sale, product, qty, when = 0, plan.product[mine], plan.qty[mine], line_s[mine]
        got = allocate(available, product, qty, when)
        sale_product, sale_got = product[:n_sale].copy(), got[:n_sale].copy()
        # an empty shelf: a substitute from the same category, from what is left
        empty = np.flatnonzero(sale_got == 0)
        if empty.size:
            left = available - np.bincount(product, got, n_products).astype(np.int64)
            substitute = _substitutes(ctx, srng, sale_product[empty], day)
            ok = substitute >= 0
            take = np.zeros(empty.size, np.int64)
            take[ok] = allocate(left, substitute[ok], qty[empty][ok], when[empty][ok])
            sale_product[empty[ok & (take > 0)]] = substitute[ok & (take > 0)]
            sale_got[empty] = np.where(take > 0, take, 0)
        unmet = np.flatnonzero(got < qty)
        so_store.append(np.full(unmet.size, store_id))
        so_product.append(product[unmet])
        so_seconds.append(when[unmet])
        so_last.append(np.zeros(unmet.size, np.int64))
        online_granted[mine] = got[n_sale:]

        parts = [_loss_part(loss, STORE_LOSS_TIME_S)]
        day_units = np.zeros(n_products, np.int64)
        if demand is not None:
            result = finish_store_day(ctx, demand, sale_product, sale_got)
            for name, table in result.tables.items():
                put(name, table)
            pending[store] = result.pending_returns
            sold = result.sold
            parts.append(
                LedgerPart(sold.seconds, sold.product, -sold.qty, SALE, S_STORE, sold.receipt_id)
            )
            back = result.returned
            restock = srng.binomial(back.qty, RESTOCK_SHARE) if back.qty.size else back.qty
            parts.append(
                LedgerPart(back.seconds, back.product, restock, RETURN, S_STORE, back.receipt_id)
            )
            day_units += np.bincount(sold.product, sold.qty, n_products).astype(np.int64)
        online_units = got[n_sale:]
        parts.append(
            LedgerPart(
                line_s[mine],
                plan.product[mine],
                -online_units,
                SALE,
                S_ONLINE,
                order_ids.take(pa.array(plan.line_order[mine])),
            )
        )
        day_units += np.bincount(plan.product[mine], online_units, n_products).astype(np.int64)
        inbound = np.flatnonzero(shipped_piece & (legs.leg_dest[legs.piece_leg] == k))
        parts.append(
            _shipment_part(
                legs,
                scheduled,
                inbound,
                "UNLOADING",
                req_product,
                1,
                INBOUND,
                S_DC,
                leg_number,
                ids,
            )
        )
        if open_today[k]:  # nobody counts or writes off stock in a closed store
            parts.extend(_counts(srng, _end_balance(start, parts), COUNT_TIME_S))
        ledger = build_ledger(
            FACT_STORE_INVENTORY_TXN,
            "StoreID",
            store_id,
            store_id,
            day,
            start,
            parts,
            ctx.product_id,
        )
        stock_rows.append(ledger.table)
        so_store.append(np.full(ledger.zero_product.size, store_id))
        so_product.append(ledger.zero_product)
        so_seconds.append(ledger.zero_seconds)
        so_last.append(ledger.zero_last)
        out_store_onhand[k] = ledger.end_onhand
        out_velocity[k] = updated_velocity(carry.store_velocity[k], day_units)

    # ---------------------------------------------------------------- the DC
    drng = stream(ctx.seed, "stock", partition, day.toordinal())
    dc_loss = _shortage_loss(ctx, impact, "dc", dc_id, np.maximum(dc_after, 0), drng)
    dc_loss = np.minimum(
        dc_loss,
        np.maximum(
            dc_after - np.bincount(plan.product[dc_lines], online_granted[dc_lines], n_products), 0
        ),
    )
    dc_parts = [
        _shipment_part(
            legs,
            scheduled,
            np.flatnonzero(shipped_piece),
            "LOADING",
            req_product,
            -1,
            OUTBOUND,
            S_DC,
            leg_number,
            ids,
        ),
        LedgerPart(
            line_s[dc_lines],
            plan.product[dc_lines],
            -online_granted[dc_lines],
            SALE,
            S_ONLINE,
            order_ids.take(pa.array(plan.line_order[dc_lines])),
        ),
        _loss_part(dc_loss, DC_LOSS_TIME_S),
        _shipment_part(
            sup_legs,
            sup_scheduled,
            np.flatnonzero(sup_shipped_piece),
            "UNLOADING",
            sup_product,
            1,
            INBOUND,
            S_SUPPLIER,
            sup_leg_number,
            ids,
        ),
    ]
    dc_parts.extend(_counts(drng, _end_balance(dc_start, dc_parts), COUNT_TIME_S))
    dc_ledger = build_ledger(
        FACT_DC_INVENTORY_TXN, "DCID", dc_id, dc_id, day, dc_start, dc_parts, ctx.product_id
    )
    dc_unmet = dc_lines[online_granted[dc_lines] < plan.qty[dc_lines]]
    dc_units = outbound_units + np.bincount(
        plan.product[dc_lines], online_granted[dc_lines], n_products
    ).astype(np.int64)

    store_so = np.concatenate(so_store) if so_store else np.zeros(0, np.int64)
    put(
        "fact_stockouts",
        stockouts_table(
            day,
            partition,
            store_id=np.concatenate(
                [store_so, np.full(dc_ledger.zero_product.size + dc_unmet.size, -1)]
            ),
            dc_id=np.concatenate(
                [
                    np.full(store_so.size, -1),
                    np.full(dc_ledger.zero_product.size + dc_unmet.size, dc_id),
                ]
            ),
            product=np.concatenate([*so_product, dc_ledger.zero_product, plan.product[dc_unmet]]),
            seconds=np.concatenate([*so_seconds, dc_ledger.zero_seconds, line_s[dc_unmet]]),
            last_known=np.concatenate(
                [*so_last, dc_ledger.zero_last, np.zeros(dc_unmet.size, np.int64)]
            ),
            product_id=ctx.product_id,
        ),
    )
    for name, table in online_orders_tables(
        ctx, plan, orders, online_granted, partition=partition
    ).items():
        put(name, table)
    put(
        "fact_store_inventory_txn",
        pa.concat_tables(stock_rows)
        if stock_rows
        else FACT_STORE_INVENTORY_TXN.arrow_schema.empty_table(),
    )
    put("fact_dc_inventory_txn", dc_ledger.table)

    new_carry = RegionCarry(
        store_onhand=out_store_onhand.astype(np.int32),
        store_velocity=out_velocity,
        dc_onhand=dc_ledger.end_onhand,
        dc_velocity=updated_velocity(carry.dc_velocity, dc_units),
        pending=pending,
    )
    out = {name: pa.concat_tables(parts) for name, parts in tables.items()}
    for name in ("fact_truck_moves", "fact_reorders"):  # built in two parts: renumber the ids
        ids_column = trace_ids(name, partition, day, out[name].num_rows)
        out[name] = normalise(TABLES[name], out[name].set_column(0, "TraceId", ids_column))
    return out, new_carry


def _substitutes(
    ctx: FactContext, rng: np.random.Generator, product: np.ndarray, day: date
) -> np.ndarray:
    """A random launched product of the same category for each product (-1 when none)."""
    out = np.full(product.size, -1, np.int64)
    category = ctx.product_category[product]
    u = rng.random(product.size)
    launched = ctx.launched_mask(day)
    for c in np.unique(category).tolist():
        pool = ctx.supply.category_products[c]
        pool = pool[launched[pool]]
        if pool.size == 0:
            continue
        sel = category == c
        out[sel] = pool[(u[sel] * pool.size).astype(np.int64)]
    same = out == product
    out[same] = -1  # the same product is no substitute
    return out


def _reorders(
    ctx: FactContext,
    day: date,
    partition: int,
    dc_id: int,
    seconds: np.ndarray,
    store_id: np.ndarray,
    product: np.ndarray,
    onhand: np.ndarray,
    rop: np.ndarray,
    qty: np.ndarray,
    priority: np.ndarray,
    legs: Any,
    leg_number: np.ndarray,
    ids: pa.Array,
) -> pa.Table:
    """fact_reorders rows; each names the shipment that carries (the first part of) it."""
    n = product.size
    first_piece = np.full(n, -1, np.int64)
    shipped = np.flatnonzero((leg_number[legs.piece_leg] >= 0) & (legs.piece_qty > 0))
    if shipped.size:
        lines = legs.piece_line[shipped]
        order = np.lexsort((shipped, lines))
        lines, pieces = lines[order], shipped[order]
        first = np.r_[True, lines[1:] != lines[:-1]]
        first_piece[lines[first]] = pieces[first]
    has = first_piece >= 0
    number = np.zeros(n, np.int64)
    number[has] = leg_number[legs.piece_leg[first_piece[has]]]
    order = np.lexsort((np.arange(n), seconds))
    return normalise(
        FACT_REORDERS,
        pa.table(
            {
                "TraceId": trace_ids("fact_reorders", partition, day, n),
                "EventTS": timestamps(day, seconds[order]),
                "StoreID": pa.array(store_id[order].astype(np.int32), mask=store_id[order] < 0),
                "DCID": pa.array(np.full(n, dc_id, np.int32)),
                "ProductID": pa.array(ctx.product_id[product[order]]),
                "CurrentQuantity": pa.array(onhand[order].astype(np.int32)),
                "ReorderPoint": pa.array(rop[order].astype(np.int32)),
                "ReorderQuantity": pa.array(qty[order].astype(np.int32)),
                "Priority": lookup(PRIORITIES, priority[order]),
                "ShipmentId": pc.if_else(
                    pa.array(has[order]),
                    ids.take(pa.array(number[order])) if len(ids) else pa.nulls(n, pa.string()),
                    pa.scalar(None, pa.string()),
                ),
            }
        ),
    )
