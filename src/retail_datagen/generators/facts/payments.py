"""Payment attempts: one builder for in-store sales, refunds and online orders (SPEC §6.1, §11).

Every sale or order ends with exactly one APPROVED payment equal to its amount. A share of
card/mobile attempts (``B.DECLINE_RATE`` × ``B.DECLINE_FACTOR``; cash and refunds never) is first
DECLINED and then retried with another tender of the same channel, so callers take the tender
they show on the receipt or order from the second return value.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.columns import lookup, timestamps, trace_ids, yyyymmdd
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.ids import compose
from retail_datagen.money import cents_to_decimal
from retail_datagen.schema import normalise
from retail_datagen.schema.tables import FACT_PAYMENTS

__all__ = ["PAYMENT_STATUSES", "build_payments", "payment_ids"]

PAYMENT_STATUSES = ("APPROVED", "DECLINED")
_APPROVED, _DECLINED = 0, 1

_DECLINE_P = np.array([B.DECLINE_RATE * B.DECLINE_FACTOR[t] for t in B.TENDERS])
_PROC_LO = np.array([B.PROCESSING_MS[t][0] for t in B.TENDERS], dtype=np.int64)
_PROC_HI = np.array([B.PROCESSING_MS[t][1] for t in B.TENDERS], dtype=np.int64)
_REASON_CDF = np.cumsum(B.DECLINE_REASON_P) / B.DECLINE_REASON_P.sum()


def _retry_cdf(channel_tenders: tuple[str, ...], channel_p: np.ndarray) -> np.ndarray:
    """Per declined tender: the CDF of the retry tender — the channel's mix without it."""
    p = np.zeros(len(B.TENDERS))
    p[[B.TENDERS.index(t) for t in channel_tenders]] = channel_p
    m = np.tile(p, (len(B.TENDERS), 1))
    np.fill_diagonal(m, 0.0)
    cdf = np.cumsum(m, axis=1)
    return cdf / cdf[:, -1:]  # last column exactly 1.0, so every uniform maps to a tender


# [channel (0 store, 1 online), declined tender] → CDF over B.TENDERS
_RETRY_CDF = np.stack(
    [_retry_cdf(B.STORE_TENDERS, B.STORE_TENDER_P), _retry_cdf(B.ONLINE_TENDERS, B.ONLINE_TENDER_P)]
)


def payment_ids(partition: int, day: date, n: int, first: int = 0) -> pa.StringArray:
    """``PAY-0007-20240101-0000123``: partition (store, or 0 for online), day, sequence."""
    prefix = f"PAY-{partition:04d}-{yyyymmdd(day):08d}-"
    return compose(n, [prefix, (np.arange(first, first + n), 7)])


def _uniform_ms(u: np.ndarray, tender: np.ndarray) -> np.ndarray:
    lo, hi = _PROC_LO[tender], _PROC_HI[tender]
    ms: np.ndarray = np.minimum(lo + np.floor(u * (hi - lo + 1)).astype(np.int64), hi)
    return ms


def _customer_column(customer_id: np.ndarray | pa.Array) -> pa.Array:
    """CustomerID per sale; an Arrow array may carry NULLs (anonymous shoppers)."""
    if isinstance(customer_id, pa.Array):
        return customer_id.cast(pa.int32())
    return pa.array(np.asarray(customer_id, dtype=np.int32))


def build_payments(
    ctx: FactContext,
    day: date,
    rng: np.random.Generator,
    *,
    partition: int,
    receipt_id: pa.Array | None,
    order_id: pa.Array | None,
    store_id: np.ndarray,
    customer_id: np.ndarray | pa.Array,
    tender: np.ndarray,
    amount_cents: np.ndarray,
    event_seconds: np.ndarray,
    allow_decline: np.ndarray,
    first: int = 0,
) -> tuple[pa.Table, np.ndarray]:
    """fact_payments rows for ``n`` sales/orders/refunds, and each one's final tender code.

    Inputs are per sale: ``store_id`` (-1 = NULL), ``customer_id`` (NULL = anonymous),
    ``tender`` (codes into ``B.TENDERS``), signed ``amount_cents`` and ``event_seconds`` (after
    midnight) when the approved payment completes. A declined attempt comes first: it completed
    the retry's processing time plus a few seconds earlier (never before midnight). Rows whose
    ``order_id`` is set retry with online tenders, the others with store tenders. ``first``
    offsets the PaymentId/TraceId sequence for callers that build one partition-day in several
    calls. Every input gets the same draws whether or not it declines, so one sale's decline
    never shifts another sale's values.
    """
    n = int(np.asarray(amount_cents).size)
    tender = np.asarray(tender, dtype=np.int64)
    amount = np.asarray(amount_cents, dtype=np.int64)
    event_s = np.asarray(event_seconds, dtype=np.float64)
    u_decline, u_retry, u_reason, u_decl_ms, u_appr_ms, u_gap = rng.random((6, n))

    declined = np.asarray(allow_decline, dtype=bool) & (amount > 0)
    declined &= u_decline < _DECLINE_P[tender]
    online = np.zeros(n, dtype=np.int64)
    if order_id is not None:
        online = order_id.is_valid().to_numpy(zero_copy_only=False).astype(np.int64)
    retry_cdf = _RETRY_CDF[online, tender]  # (n, tenders)
    retry = (u_retry[:, None] >= retry_cdf).sum(axis=1)
    final = np.where(declined, retry, tender)

    approved_ms = _uniform_ms(u_appr_ms, final)
    declined_ms = _uniform_ms(u_decl_ms, tender)
    gap_lo, gap_hi = B.DECLINE_RETRY_GAP_S
    gap_s = gap_lo + u_gap * (gap_hi - gap_lo)
    declined_s = np.maximum(event_s - approved_ms / 1000.0 - gap_s, 0.0)
    reason = np.searchsorted(_REASON_CDF, u_reason, side="right")

    # rows: sale i gives [declined attempt,] approved attempt — in time order per sale
    row_sale = np.repeat(np.arange(n), 1 + declined.astype(np.int64))
    first_of_sale = np.ones(row_sale.size, dtype=bool)
    first_of_sale[1:] = row_sale[1:] != row_sale[:-1]
    is_declined = declined[row_sale] & first_of_sale
    m = row_sale.size
    take = pa.array(row_sale)
    store = np.asarray(store_id, dtype=np.int64)[row_sale]
    no_ids = pa.nulls(m, pa.string())
    table = pa.table(
        {
            "TraceId": trace_ids("fact_payments", partition, day, m, first),
            "EventTS": timestamps(
                day, np.where(is_declined, declined_s[row_sale], event_s[row_sale])
            ),
            "PaymentId": payment_ids(partition, day, m, first),
            "ReceiptId": receipt_id.take(take) if receipt_id is not None else no_ids,
            "OrderId": order_id.take(take) if order_id is not None else no_ids,
            "StoreID": pa.array(np.maximum(store, 0).astype(np.int32), mask=store < 0),
            "CustomerID": _customer_column(customer_id).take(take),
            "TenderType": lookup(
                B.TENDERS, np.where(is_declined, tender[row_sale], final[row_sale])
            ),
            "Amount": cents_to_decimal(amount[row_sale]),
            "Status": lookup(PAYMENT_STATUSES, np.where(is_declined, _DECLINED, _APPROVED)),
            "DeclineReason": lookup(B.DECLINE_REASONS, np.where(is_declined, reason[row_sale], -1)),
            "ProcessingTimeMs": pa.array(
                np.where(is_declined, declined_ms[row_sale], approved_ms[row_sale]).astype(np.int32)
            ),
        }
    )
    return normalise(FACT_PAYMENTS, table), final
