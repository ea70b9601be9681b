"""Lost sales of a generated dataset: units shoppers wanted that the shelf could not give.

Usage: python bench/lost_sales.py DATA_DIR [--config FILE] [--every 7] [--from-day 28]

The data holds what was sold, not what was wanted; the wanted baskets are a keyed function of
(config, dims, store, day), so this replays them (``plan_store_day``) for every store on every
``--every``-th day from ``--from-day`` (the warm-up) and compares them with the in-store SALE
rows of the store ledger. A substitute bought instead counts as sold (the buyer left with it).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from retail_datagen.config.models import RetailConfig
from retail_datagen.generators.facts.context import build_context
from retail_datagen.generators.facts.returns import empty_pending
from retail_datagen.generators.facts.store_day import plan_store_day
from retail_datagen.storage.duckdb_store import load_dimensions, open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--every", type=int, default=7)
    parser.add_argument("--from-day", type=int, default=28)
    args = parser.parse_args()
    config = RetailConfig.from_file(args.config) if args.config else RetailConfig()
    with open_store(args.data_dir, ordered=False) as con:
        first, last = con.execute(
            'SELECT min(CAST("EventTS" AS DATE)), max(CAST("EventTS" AS DATE)) '
            "FROM fact_store_inventory_txn"
        ).fetchone() or (None, None)
        if first is None:
            raise SystemExit("no store ledger: generate facts first")
        days = [
            first + timedelta(days=d)
            for d in range(args.from_day, (last - first).days + 1, args.every)
        ]
        sold = dict(
            con.execute(
                """SELECT CAST("EventTS" AS DATE), -sum("QtyDelta")
                   FROM fact_store_inventory_txn
                   WHERE "Reason" = 'SALE' AND "Source" = 'STORE'
                     AND CAST("EventTS" AS DATE) IN (SELECT unnest(?)) GROUP BY 1""",
                [days],
            ).fetchall()
        )
    ctx = build_context(config, load_dimensions(args.data_dir), first)
    wanted_total = sold_total = 0
    for day in days:
        wanted = 0
        for store in range(ctx.store_id.size):
            demand = plan_store_day(ctx, store, day, empty_pending())
            wanted += 0 if demand is None else int(demand.qty.sum())
        got = int(sold.get(day, 0))
        wanted_total, sold_total = wanted_total + wanted, sold_total + got
        print(f"{day}  wanted {wanted:>10,}  sold {got:>10,}  lost {1 - got / max(wanted, 1):6.2%}")
    lost = wanted_total - sold_total
    print(f"lost sales: {lost:,} units = {lost / max(sold_total, 1):.2%} of units sold")


if __name__ == "__main__":
    main()
