"""Receipts and receipt lines: the money of a basket, exact to the cent (SPEC §6.1).

Line ``ExtPrice = UnitPrice × Qty − Discount``; tax per line on the post-discount amount at the
store rate × taxability; receipt ``Subtotal = Σ UnitPrice × Qty``, ``Discount = Σ line discounts``,
``Tax = Σ line tax`` and ``Total = Subtotal − Discount + Tax``. Returns use the same rules with
negative quantities, so every identity holds for them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from retail_datagen.generators.facts.columns import lookup, timestamps, trace_ids, yyyymmdd
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.promotions import PROMO_NAMES
from retail_datagen.ids import compose
from retail_datagen.money import cents_to_decimal, tax_cents
from retail_datagen.schema import normalise
from retail_datagen.schema.tables import FACT_RECEIPT_LINES, FACT_RECEIPTS

__all__ = ["LineItems", "PricedLines", "price_lines", "receipt_ids", "receipt_tables"]


@dataclass(frozen=True)
class LineItems:
    """Lines of many receipts, grouped by receipt (``receipt`` is non-decreasing)."""

    receipt: np.ndarray  # receipt index
    product: np.ndarray  # product index
    qty: np.ndarray  # signed units
    unit: np.ndarray  # cents
    discount: np.ndarray  # cents, same sign as qty
    promo: np.ndarray  # index into PROMO_NAMES, -1 for none


@dataclass(frozen=True)
class PricedLines:
    lines: LineItems
    ext: np.ndarray  # per line
    tax: np.ndarray  # per line
    subtotal: np.ndarray  # per receipt
    discount: np.ndarray
    tax_total: np.ndarray
    total: np.ndarray
    items: np.ndarray  # units per receipt


def _per_receipt(values: np.ndarray, receipt: np.ndarray, n: int) -> np.ndarray:
    """Sum per receipt; exact, since cent sums stay far below 2**53."""
    return np.rint(np.bincount(receipt, weights=values, minlength=n)).astype(np.int64)


def price_lines(
    lines: LineItems, rate_micros: np.ndarray, tax_factor: np.ndarray, n: int
) -> PricedLines:
    """Line and receipt money from units, prices and discounts (integer cents)."""
    gross = lines.unit * lines.qty
    ext = gross - lines.discount
    tax = tax_cents(ext, rate_micros, tax_factor)
    subtotal = _per_receipt(gross, lines.receipt, n)
    discount = _per_receipt(lines.discount, lines.receipt, n)
    tax_total = _per_receipt(tax, lines.receipt, n)
    return PricedLines(
        lines=lines,
        ext=ext,
        tax=tax,
        subtotal=subtotal,
        discount=discount,
        tax_total=tax_total,
        total=subtotal - discount + tax_total,
        items=_per_receipt(lines.qty, lines.receipt, n),
    )


def receipt_ids(prefix: str, store_id: int, day: date, seq: np.ndarray) -> pa.StringArray:
    """``RCP-0007-20240101-0000123`` (sales) or ``RTN-…`` (returns)."""
    return compose(seq.size, [f"{prefix}-{store_id:04d}-{yyyymmdd(day):08d}-", (seq, 7)])


def receipt_tables(
    ctx: FactContext,
    store_id: int,
    day: date,
    *,
    ids: pa.Array,
    seconds: np.ndarray,
    customer: np.ndarray,
    tender: pa.Array,
    receipt_type: str,
    priced: PricedLines,
    original_ids: pa.Array | None = None,
    campaign_ids: pa.Array | None = None,
    impression_ids: pa.Array | None = None,
    first_receipt_seq: int = 0,
    first_line_seq: int = 0,
) -> tuple[pa.Table, pa.Table]:
    """fact_receipts and fact_receipt_lines rows for priced baskets."""
    n = len(ids)
    null_str = pa.nulls(n, pa.string())
    receipts = pa.table(
        {
            "TraceId": trace_ids("fact_receipts", store_id, day, n, first_receipt_seq),
            "EventTS": timestamps(day, seconds),
            "StoreID": pa.array(np.full(n, store_id, np.int32)),
            "CustomerID": ctx.customer_ids(customer),
            "ReceiptId": ids,
            "Subtotal": cents_to_decimal(priced.subtotal),
            "Tax": cents_to_decimal(priced.tax_total),
            "Total": cents_to_decimal(priced.total),
            "TenderType": tender,
            "Discount": cents_to_decimal(priced.discount),
            "ReceiptType": pa.array(np.full(n, receipt_type, object), pa.string()),
            "OriginalReceiptId": original_ids if original_ids is not None else null_str,
            "ItemCount": pa.array(priced.items.astype(np.int32)),
            "CampaignId": campaign_ids if campaign_ids is not None else null_str,
            "ImpressionId": impression_ids if impression_ids is not None else null_str,
        }
    )
    lines = priced.lines
    m = lines.receipt.size
    starts = np.searchsorted(lines.receipt, lines.receipt, side="left")
    line_no = (np.arange(m) - starts + 1).astype(np.int32)
    line_idx = pa.array(lines.receipt)
    line_table = pa.table(
        {
            "TraceId": trace_ids("fact_receipt_lines", store_id, day, m, first_line_seq),
            "EventTS": timestamps(day, seconds[lines.receipt]),
            "ReceiptId": ids.take(line_idx),
            "Line": pa.array(line_no),
            "ProductID": pa.array(ctx.product_id[lines.product]),
            "Qty": pa.array(lines.qty.astype(np.int32)),
            "UnitPrice": cents_to_decimal(lines.unit),
            "ExtPrice": cents_to_decimal(priced.ext),
            "PromoCode": lookup(PROMO_NAMES, lines.promo),
            "Discount": cents_to_decimal(lines.discount),
            "Tax": cents_to_decimal(priced.tax),
        }
    )
    return normalise(FACT_RECEIPTS, receipts), normalise(FACT_RECEIPT_LINES, line_table)
