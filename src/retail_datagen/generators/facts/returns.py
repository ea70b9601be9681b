"""Returns: chosen when a sale happens, brought back 1-14 days later at the same store.

A sale picked for return becomes pending state carried from day to day (and between runs), so
a range generated in one run equals the same range generated in pieces. A return due on a day
its store is closed waits for the next open day (the pending state simply carries over).
December gift purchases add returns just after Christmas (about 6× normal on December 26).
A dataset's first day already has returns at the normal rate: :func:`prehistory_returns`
synthesises those of sales made in the 14 days before it.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_datagen import calendar
from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.baskets import (
    basket_line_counts,
    line_quantities,
    merge_repeats,
    sample_products,
)
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.hours import open_window
from retail_datagen.generators.facts.receipts import (
    LineItems,
    PricedLines,
    receipt_ids,
)
from retail_datagen.generators.facts.visits import expected_receipts
from retail_datagen.rng import stream, substream_seeds, uniform_from_seeds

__all__ = [
    "ANONYMOUS",
    "PENDING_SCHEMA",
    "DueReturns",
    "empty_pending",
    "prehistory_returns",
    "schedule_returns",
    "split_due",
]

ANONYMOUS = -1  # customer index of a return whose sale had no known customer

PENDING_SCHEMA = pa.schema(
    [
        ("ReturnKey", pa.int64()),  # original sale: day ordinal × 10^7 + receipt sequence
        ("DueOrdinal", pa.int32()),
        ("OriginalReceiptId", pa.string()),
        ("Customer", pa.int32()),  # customer index, ANONYMOUS (-1) for none
        ("Tender", pa.int8()),  # index into behaviour.TENDERS
        ("Product", pa.int32()),  # product index
        ("Qty", pa.int32()),  # units to bring back (positive)
        ("Unit", pa.int64()),  # cents
        ("Discount", pa.int64()),  # cents of discount on the returned units
        ("Promo", pa.int8()),
    ]
)


def empty_pending() -> pa.Table:
    return PENDING_SCHEMA.empty_table()


class DueReturns:
    """Pending returns due on a day, one entry per return receipt, lines grouped by it."""

    def __init__(self, rows: pa.Table) -> None:
        rows = rows.sort_by([("ReturnKey", "ascending")])
        keys = rows.column("ReturnKey").to_numpy()
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if keys.size else keys
        self.n = int(starts.size)
        self.key = keys[starts] if keys.size else np.empty(0, np.int64)
        self.original_ids = rows.column("OriginalReceiptId").take(pa.array(starts)).combine_chunks()
        self.customer = rows.column("Customer").to_numpy()[starts].astype(np.int64)
        self.tender = rows.column("Tender").to_numpy()[starts].astype(np.int64)
        receipt = np.cumsum(np.r_[True, keys[1:] != keys[:-1]]) - 1 if keys.size else keys
        qty = rows.column("Qty").to_numpy().astype(np.int64)
        self.lines = LineItems(
            receipt=receipt.astype(np.int64),
            product=rows.column("Product").to_numpy().astype(np.int64),
            qty=-qty,
            unit=rows.column("Unit").to_numpy(),
            discount=-rows.column("Discount").to_numpy(),
            promo=rows.column("Promo").to_numpy().astype(np.int64),
        )

    def arrival_seconds(self, seed: int, store_id: int, window: tuple[int, int]) -> np.ndarray:
        """When each returner arrives: keyed by the return itself, not by the day's other work."""
        u = uniform_from_seeds(
            substream_seeds(seed, f"return_arrival/{store_id}", self.key.astype(np.int64))
        )
        open_s, close_s = window
        return open_s + 600 + u * max(close_s - open_s - 2400, 1)


def split_due(pending: pa.Table, day: date) -> tuple[DueReturns, pa.Table]:
    """Returns due on or before ``day`` (brought back today) and those still pending."""
    due_mask = pc.less_equal(pending.column("DueOrdinal"), day.toordinal())
    return DueReturns(pending.filter(due_mask)), pending.filter(pc.invert(due_mask))


def _gift_due_ordinals(day: date, u: np.ndarray) -> np.ndarray:
    """Gift returns come back from December 26 on, within the 14-day return window."""
    lo, hi = B.RETURN_DELAY_DAYS
    first = max(date(day.year, 12, 26), day + timedelta(days=lo))
    window = [first + timedelta(days=k) for k in range((day + timedelta(days=hi) - first).days + 1)]
    weights = np.array([calendar.returns_multiplier(d) for d in window])
    cdf = np.cumsum(weights) / weights.sum()
    k = np.minimum(np.searchsorted(cdf, u, side="right"), len(window) - 1)
    return first.toordinal() + k


def _choose(u: np.ndarray, day: date) -> tuple[np.ndarray, np.ndarray]:
    """Which of a day's sales come back (``u``: 3 × sales uniforms) and the day each is due."""
    gift_start, gift_end = (date(day.year, *B.GIFT_SEASON[0]), date(day.year, *B.GIFT_SEASON[1]))
    normal = u[0] < B.RETURN_RATE
    gift = ~normal & (gift_start <= day <= gift_end) & (u[0] < B.RETURN_RATE + B.GIFT_RETURN_RATE)
    lo, hi = B.RETURN_DELAY_DAYS
    due = day.toordinal() + lo + (u[1] * (hi - lo + 1)).astype(np.int64)
    if gift.any():
        due = np.where(gift, _gift_due_ordinals(day, u[2]), due)
    return normal | gift, due


def _pending_rows(
    rng: np.random.Generator,
    keys: np.ndarray,
    lines: LineItems,
    chosen: np.ndarray,
    all_lines_u: np.ndarray,
    due: np.ndarray,
    receipt_ids: pa.Array,
    customer: np.ndarray,
    tender: np.ndarray,
) -> pa.Table:
    """The lines and units the chosen receipts bring back.

    Per receipt: ``keys`` (sale day ordinal × 10^7 + receipt sequence), due day, who, tender.
    """
    idx = np.flatnonzero(chosen[lines.receipt])
    r = lines.receipt[idx]
    lu = rng.random((2, idx.size))
    first_line = np.r_[True, r[1:] != r[:-1]]  # every return brings back at least one line
    keep = (all_lines_u[r] < B.RETURN_ALL_LINES_P) | (lu[0] < 0.5) | first_line
    idx, r, lu = idx[keep], r[keep], lu[:, keep]
    qty = lines.qty[idx]
    ret_qty = np.where((qty >= 2) & (lu[1] < 0.3), qty - 1, qty)
    # the discount that went with the returned units, rounded half up (sales discounts ≥ 0)
    discount = (2 * lines.discount[idx] * ret_qty + qty) // (2 * qty)
    return pa.table(
        {
            "ReturnKey": pa.array(keys[r].astype(np.int64)),
            "DueOrdinal": pa.array(due[r].astype(np.int32)),
            "OriginalReceiptId": receipt_ids.take(pa.array(r)),
            "Customer": pa.array(customer[r].astype(np.int32)),
            "Tender": pa.array(tender[r].astype(np.int8)),
            "Product": pa.array(lines.product[idx].astype(np.int32)),
            "Qty": pa.array(ret_qty.astype(np.int32)),
            "Unit": pa.array(lines.unit[idx].astype(np.int64)),
            "Discount": pa.array(discount.astype(np.int64)),
            "Promo": pa.array(lines.promo[idx].astype(np.int8)),
        },
        schema=PENDING_SCHEMA,
    )


def schedule_returns(
    rng: np.random.Generator,
    day: date,
    receipt_ids: pa.Array,
    customer: np.ndarray,
    tender: np.ndarray,
    priced: PricedLines,
) -> pa.Table:
    """Pick today's sales that will come back, with the lines and units returned."""
    n = customer.size
    u = rng.random((4, n))
    chosen, due = _choose(u[:3], day)
    if not chosen.any():
        return empty_pending()
    keys = _return_keys(day, np.arange(n))
    return _pending_rows(rng, keys, priced.lines, chosen, u[3], due, receipt_ids, customer, tender)


def _return_keys(day: date, seq: np.ndarray) -> np.ndarray:
    keys: np.ndarray = day.toordinal() * 10_000_000 + seq.astype(np.int64)
    return keys


def prehistory_returns(ctx: FactContext, store: int, start: date) -> pa.Table:
    """Returns still pending on the dataset's first day, of sales made in the 14 days before.

    Those sales are not in the dataset, so they are drawn here: each day's sale count and which
    of them come back when (as :func:`schedule_returns` would), keyed by store and day; then,
    for the returned ones only, baskets at the shelf prices of the day before the start (one
    draw per store, keyed by store and start), an anonymous returner and a store tender.
    Nothing depends on workers or on how a range is split.
    """
    store_id = int(ctx.store_id[store])
    keys, due, all_lines_u, ids = [], [], [], []
    for back in range(1, B.RETURN_DELAY_DAYS[1] + 1):
        day = start - timedelta(days=back)
        if open_window(ctx, store, day) is None:
            continue
        rng = stream(ctx.seed, "prehistory_returns", store_id, day.toordinal())
        _, weather = calendar.weather(ctx.seed, np.array([store_id]), day)
        n_sales = int(rng.poisson(expected_receipts(ctx, store, day, float(weather[0]))))
        u = rng.random((4, n_sales))
        chosen, day_due = _choose(u[:3], day)
        seq = np.flatnonzero(chosen & (day_due >= start.toordinal()))  # others came back before
        keys.append(_return_keys(day, seq))
        due.append(day_due[seq])
        all_lines_u.append(u[3][seq])
        ids.append(receipt_ids("RCP", store_id, day, seq))
    k = sum(part.size for part in keys)
    if k == 0:
        return empty_pending()
    rng = stream(ctx.seed, "prehistory_baskets", store_id, start.toordinal())
    fmt = int(ctx.store_format[store])
    segment = rng.integers(0, len(B.SEGMENTS), k)
    n_lines = basket_line_counts(ctx, rng, fmt, segment, np.ones(k))
    product = sample_products(ctx, start - timedelta(days=1), rng, fmt, np.repeat(segment, n_lines))
    receipt, product, qty = merge_repeats(
        np.repeat(np.arange(k), n_lines), product, line_quantities(rng, product.size)
    )
    lines = LineItems(
        receipt=receipt,
        product=product,
        qty=qty,
        unit=ctx.product_price[product].astype(np.int64),
        discount=np.zeros(product.size, np.int64),
        promo=np.full(product.size, -1, np.int64),
    )
    tender_cdf = np.cumsum(B.STORE_TENDER_P)
    tender = np.searchsorted(tender_cdf, rng.random(k) * tender_cdf[-1], side="right")
    return _pending_rows(
        rng,
        np.concatenate(keys),
        lines,
        np.ones(k, bool),
        np.concatenate(all_lines_u),
        np.concatenate(due),
        pa.concat_arrays(ids),
        np.full(k, ANONYMOUS),
        tender,
    )
