"""Payments: one approved payment per sale, declines and retries, refunds, ids and timing."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from retail_datagen.generators.facts import behaviour as B
from retail_datagen.generators.facts.columns import day_start_us
from retail_datagen.generators.facts.context import FactContext
from retail_datagen.generators.facts.payments import build_payments
from retail_datagen.ids import compose
from retail_datagen.money import decimal_to_cents
from retail_datagen.rng import stream
from retail_datagen.schema.tables import FACT_PAYMENTS

DAY = date(2024, 3, 7)
CREDIT, DEBIT, CASH, MOBILE, PAYPAL, OTHER = range(6)


def _pay(
    ctx: FactContext,
    tender: np.ndarray,
    amount: np.ndarray,
    *,
    online: bool = False,
    allow: np.ndarray | None = None,
    store: int = 3,
    key: int = 1,
) -> tuple[pa.Table, np.ndarray, pa.Array]:
    n = tender.size
    ids = compose(n, ["X-", (np.arange(n), 8)])
    seconds = stream(0, "tests.payments.seconds", key).uniform(30, 86_000, n)
    table, final = build_payments(
        ctx,
        DAY,
        stream(ctx.seed, "tests.payments", key),
        partition=0 if online else store,
        receipt_id=None if online else ids,
        order_id=ids if online else None,
        store_id=np.full(n, -1 if online else store, np.int64),
        customer_id=ctx.customer_id[np.arange(n) % ctx.customer_id.size],
        tender=tender,
        amount_cents=amount,
        event_seconds=seconds,
        allow_decline=np.ones(n, bool) if allow is None else allow,
    )
    return table, final, ids


def _mixed(n: int, p: np.ndarray, tenders: tuple[str, ...]) -> np.ndarray:
    codes = np.array([B.TENDERS.index(t) for t in tenders])
    return codes[stream(0, "tests.payments.tender").choice(len(tenders), n, p=p)]


def _col(table: pa.Table, name: str) -> np.ndarray:
    values: np.ndarray = table.column(name).to_numpy(zero_copy_only=False)
    return values


def test_payments_table_matches_registry(ctx: FactContext) -> None:
    table, _, _ = _pay(ctx, np.array([CREDIT, CASH]), np.array([1234, 99]))
    assert table.schema.equals(FACT_PAYMENTS.arrow_schema, check_metadata=False)


def test_every_sale_ends_with_one_approved_payment_equal_to_its_amount(ctx: FactContext) -> None:
    n = 20_000
    tender = _mixed(n, B.STORE_TENDER_P, B.STORE_TENDERS)
    amount = stream(0, "tests.amount").integers(1, 50_000, n)
    table, final, ids = _pay(ctx, tender, amount)
    approved = table.filter(pc.equal(table["Status"], "APPROVED"))
    assert approved.num_rows == n
    assert _col(approved, "ReceiptId").tolist() == ids.to_pylist()  # one each, in sale order
    assert (decimal_to_cents(approved["Amount"]) == amount).all()
    assert _col(approved, "TenderType").tolist() == [B.TENDERS[t] for t in final]
    assert set(_col(table, "Status")) == {"APPROVED", "DECLINED"}
    assert table["OrderId"].null_count == table.num_rows


def test_card_attempts_are_declined_about_two_and_a_half_percent(ctx: FactContext) -> None:
    n = 200_000
    table, _, _ = _pay(ctx, np.full(n, CREDIT), np.full(n, 2_500), key=2)
    declined = int(pc.sum(pc.equal(table["Status"], "DECLINED")).as_py())
    rate = declined / n
    sigma = np.sqrt(B.DECLINE_RATE * (1 - B.DECLINE_RATE) / n)
    assert abs(rate - B.DECLINE_RATE) < 5 * sigma


@pytest.mark.parametrize("tender", [DEBIT, MOBILE])
def test_decline_rate_follows_the_tender_factor(ctx: FactContext, tender: int) -> None:
    n = 100_000
    table, _, _ = _pay(ctx, np.full(n, tender), np.full(n, 2_500), key=3 + tender)
    expected = B.DECLINE_RATE * B.DECLINE_FACTOR[B.TENDERS[tender]]
    rate = pc.sum(pc.equal(table["Status"], "DECLINED")).as_py() / n
    assert abs(rate - expected) < 5 * np.sqrt(expected * (1 - expected) / n)


def test_cash_refunds_and_disallowed_sales_are_never_declined(ctx: FactContext) -> None:
    n = 30_000
    cash, _, _ = _pay(ctx, np.full(n, CASH), np.full(n, 1_000))
    refunds, _, _ = _pay(ctx, np.full(n, CREDIT), np.full(n, -1_000))
    held, _, _ = _pay(ctx, np.full(n, CREDIT), np.full(n, 1_000), allow=np.zeros(n, bool))
    for table in (cash, refunds, held):
        assert table.num_rows == n
        assert set(_col(table, "Status")) == {"APPROVED"}
        assert table["DeclineReason"].null_count == n
    assert (decimal_to_cents(refunds["Amount"]) == -1_000).all()


def test_declined_attempt_comes_first_and_is_retried_with_another_tender(
    ctx: FactContext,
) -> None:
    n = 50_000
    tender = _mixed(n, B.STORE_TENDER_P, B.STORE_TENDERS)
    table, final, ids = _pay(ctx, tender, np.full(n, 4_321), key=7)
    status = _col(table, "Status")
    receipt = _col(table, "ReceiptId")
    ts = table["EventTS"].cast(pa.int64()).to_numpy()
    decl = np.flatnonzero(status == "DECLINED")
    assert decl.size > 0
    # each decline is immediately followed by the approved retry of the same sale, later in time
    assert (status[decl + 1] == "APPROVED").all()
    assert (receipt[decl + 1] == receipt[decl]).all()
    assert (ts[decl] < ts[decl + 1]).all()
    tender_col = _col(table, "TenderType")
    assert (tender_col[decl] != tender_col[decl + 1]).all()
    assert set(tender_col[decl + 1]) <= set(B.STORE_TENDERS)
    assert table.filter(pc.equal(table["Status"], "DECLINED"))["DeclineReason"].null_count == 0
    assert set(_col(table, "DeclineReason")[decl]) <= set(B.DECLINE_REASONS)
    sale_of_decl = np.searchsorted(ids.to_numpy(zero_copy_only=False), receipt[decl])
    assert (final[sale_of_decl] != tender[sale_of_decl]).all()


def test_online_retries_use_online_tenders(ctx: FactContext) -> None:
    n = 50_000
    tender = _mixed(n, B.ONLINE_TENDER_P, B.ONLINE_TENDERS)
    table, final, _ = _pay(ctx, tender, np.full(n, 9_999), online=True, key=8)
    assert set(_col(table, "TenderType")) <= set(B.ONLINE_TENDERS)
    assert set(B.TENDERS[t] for t in final) <= set(B.ONLINE_TENDERS)
    assert table["StoreID"].null_count == table.num_rows
    assert table["ReceiptId"].null_count == table.num_rows


def test_processing_time_is_within_the_tender_band(ctx: FactContext) -> None:
    n = 20_000
    tender = _mixed(n, B.STORE_TENDER_P, B.STORE_TENDERS)
    table, _, _ = _pay(ctx, tender, np.full(n, 100))
    ms = _col(table, "ProcessingTimeMs")
    names = _col(table, "TenderType")
    for name, (lo, hi) in B.PROCESSING_MS.items():
        sel = names == name
        if sel.any():
            assert lo <= ms[sel].min() and ms[sel].max() <= hi


def test_payment_and_trace_ids_are_unique_and_keyed_by_partition_and_day(
    ctx: FactContext,
) -> None:
    n = 5_000
    table, _, _ = _pay(ctx, np.full(n, MOBILE), np.full(n, 100), store=42)
    pay_ids = _col(table, "PaymentId")
    assert len(set(pay_ids)) == table.num_rows
    assert len(set(_col(table, "TraceId"))) == table.num_rows
    assert pay_ids[0] == "PAY-0042-20240307-0000000"
    assert all(len(p) == len("PAY-0042-20240307-0000000") for p in pay_ids)


def test_payment_times_stay_on_the_day(ctx: FactContext) -> None:
    n = 20_000
    table, _, _ = _pay(ctx, np.full(n, MOBILE), np.full(n, 100), key=11)
    us = table["EventTS"].cast(pa.int64()).to_numpy() - day_start_us(DAY)
    assert us.min() >= 0 and us.max() < 86_400 * 1_000_000


def test_same_inputs_give_identical_payments(ctx: FactContext) -> None:
    tender = _mixed(3_000, B.STORE_TENDER_P, B.STORE_TENDERS)
    a, fa, _ = _pay(ctx, tender, np.full(3_000, 777), key=5)
    b, fb, _ = _pay(ctx, tender, np.full(3_000, 777), key=5)
    assert a.equals(b)
    assert (fa == fb).all()


def test_no_sales_give_an_empty_table(ctx: FactContext) -> None:
    table, final, _ = _pay(ctx, np.empty(0, np.int64), np.empty(0, np.int64))
    assert table.num_rows == 0 and final.size == 0
    assert table.schema.equals(FACT_PAYMENTS.arrow_schema, check_metadata=False)
