"""The carried state between the units of a run, and the one serial way to run units.

:class:`EngineState` holds each DC's and each store's state and the orders a region's night
sent its stores, and hands every unit exactly what it reads. :class:`Persisted` joins
delivered parts into a region's persisted :class:`RegionCarry` when the region's day is
complete (in canonical order: its night, then its stores).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import date

import numpy as np

from retail_datagen.engine.partitions import (
    NETWORK,
    RegionInput,
    StoreInput,
    Unit,
    UnitResult,
    run_unit,
)
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.region_day import (
    DCCarry,
    RegionCarry,
    StoreCarry,
    StoreOrders,
    join_carry,
    split_carry,
)

__all__ = ["EngineState", "Persisted", "run_serial"]


class EngineState:
    """Each DC's and store's state after its last computed day, and pending nights' orders."""

    def __init__(
        self,
        region_stores: Sequence[np.ndarray],
        carry: Mapping[int, RegionCarry],
        store_ids: np.ndarray,  # by store index: splitting the carry hands each store its orders
    ) -> None:
        self.region_stores = region_stores
        self.dc: dict[int, DCCarry] = {}
        self.stores: dict[int, StoreCarry] = {}
        self.orders: dict[tuple[int, date], StoreOrders] = {}
        for region, state in carry.items():
            stores = region_stores[region]
            self.dc[region], parts = split_carry(state, stores, store_ids[stores])
            self.stores.update(zip(stores.tolist(), parts, strict=True))

    def inputs(self, unit: Unit) -> RegionInput | StoreInput | None:
        """What ``unit`` reads (its dependencies must have been absorbed)."""
        if unit.partition == NETWORK:
            return None
        if unit.store >= 0:
            orders = self.orders.pop((unit.store, unit.day))
            return StoreInput(self.stores.get(unit.store), orders)
        dc = self.dc.get(unit.partition)
        known = [self.stores.get(s) for s in self.region_stores[unit.partition].tolist()]
        parts = [p for p in known if p is not None]
        if len(parts) < len(known) or (dc is None and not known):
            return RegionInput(dc, None, None)  # the first day: the snapshot
        n = dc.onhand.size if dc is not None else parts[0].onhand.size
        onhand = np.array([p.onhand for p in parts], np.int32).reshape(len(parts), n)
        velocity = np.array([p.velocity for p in parts], np.float32).reshape(len(parts), n)
        return RegionInput(dc, onhand, velocity)

    def absorb(self, result: UnitResult, keep_orders: bool = True) -> None:
        unit = result.unit
        if isinstance(result.state, StoreCarry):
            self.stores[unit.store] = result.state
        elif isinstance(result.state, DCCarry):
            self.dc[unit.partition] = result.state
            if keep_orders:
                stores = self.region_stores[unit.partition].tolist()
                for store, orders in zip(stores, result.orders, strict=True):
                    self.orders[(store, unit.day)] = orders


class Persisted:
    """Turns delivered units into persisted region state at the end of each region's day."""

    def __init__(self, region_stores: Sequence[np.ndarray]) -> None:
        self.state = EngineState(region_stores, {}, np.zeros(0, np.int64))

    def delivered(self, result: UnitResult) -> UnitResult:
        """``result`` with ``carry`` set when it completes its region's day."""
        self.state.absorb(result, keep_orders=False)
        unit = result.unit
        if unit.partition == NETWORK:
            return result
        stores = self.state.region_stores[unit.partition]
        last = int(stores[-1]) if stores.size else -1
        if unit.store != last:
            return result
        region = unit.partition
        parts = [self.state.stores[s] for s in stores.tolist()]
        carry = join_carry(self.state.dc[region], stores, parts)
        return dataclasses.replace(result, carry={region: carry})


def run_serial(
    ctx: FactContext,
    units: Sequence[Unit],
    carry: Mapping[int, RegionCarry],
    deliver: Callable[[UnitResult], None],
    before_each: Callable[[], None] = lambda: None,
) -> None:
    """Run ``units`` (in canonical order) in this process and deliver each result."""
    state = EngineState(ctx.supply.region_stores, carry, ctx.store_id)
    persisted = Persisted(ctx.supply.region_stores)
    for unit in units:
        before_each()
        result = run_unit(ctx, unit, state.inputs(unit))
        state.absorb(result)
        deliver(persisted.delivered(result))
        del result  # its tables are written: free them before the next unit
