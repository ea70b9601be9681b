"""Stock, trucks and reorders per week of a generated dataset: the steady state at a glance.

    .venv/bin/python scripts/plot_steady_state.py DATA_DIR [--out docs/steady_state.png]

Reads the data folder's DuckDB store with the queries of ``validate``'s steady-state checks
(validation/steady_state_checks.py), prints the weekly figures and draws five panels: store
on-hand, units delivered vs sold, the zero-on-hand share, reorders shipped within two days, and
DC truck busy share and median leg fill. The warm-up weeks are shaded. Needs matplotlib (a dev
dependency).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from retail_datagen.storage.duckdb_store import open_store
from retail_datagen.validation.steady_state_checks import (
    DELIVERED_OVER_SOLD,
    FLEET_BUSY,
    MEDIAN_LEG_FILL,
    SHIPPED_IN_TWO_DAYS,
    STEADY_SQL,
    WARM_UP_DAYS,
    ZERO_ON_HAND,
)

WEEKLY = {
    "onhand": """
        SELECT w, sum(delta) OVER (ORDER BY w) + (SELECT sum("CurrentQuantity")
                                                   FROM dim_store_inventory_snapshots)
        FROM (SELECT date_diff('day', $first, CAST("EventTS" AS DATE)) // 7 AS w,
                     sum("QtyDelta") AS delta
              FROM fact_store_inventory_txn GROUP BY 1) ORDER BY 1""",
    "flow": f"""
        SELECT date_diff('day', $first, day) // 7 AS w, sum(delivered), sum(sold)
        FROM ({STEADY_SQL["flow"]}) GROUP BY 1 ORDER BY 1""",
    "reorders": f"""
        SELECT date_diff('day', $first, day) // 7 AS w, sum(in_two_days) / sum(reorders)
        FROM ({STEADY_SQL["reorders"]}) WHERE day < $last GROUP BY 1 ORDER BY 1""",
    "busy": f"""
        SELECT w, sum(hours) / sum(trucks * 24.0) FROM (
            SELECT date_diff('day', $first, day) // 7 AS w, hours, trucks
            FROM ({STEADY_SQL["busy"]})) GROUP BY 1 ORDER BY 1""",
    "fill": f"""
        SELECT date_diff('day', $first, day) // 7 AS w, median(fill)
        FROM ({STEADY_SQL["legs"]}) GROUP BY 1 ORDER BY 1""",
}


def weekly_figures(con: duckdb.DuckDBPyConnection) -> dict[str, dict[int, tuple[float, ...]]]:
    """Each series by week index (week 0 starts on the ledger's first day; whole weeks only)."""
    first, last = con.execute(
        'SELECT min(CAST("EventTS" AS DATE)), max(CAST("EventTS" AS DATE)) '
        "FROM fact_store_inventory_txn"
    ).fetchone() or (None, None)
    if first is None:
        raise SystemExit("no store ledger in this data folder; run `retail-datagen generate` first")
    weeks = ((last - first).days + 1) // 7
    bind = {"$first": f"DATE '{first.isoformat()}'", "$last": f"DATE '{last.isoformat()}'"}
    queries = dict(WEEKLY, zero=STEADY_SQL["zero"])
    bind_zero = {"$first_week": "0", "$weeks": str(weeks)}
    out: dict[str, dict[int, tuple[float, ...]]] = {}
    for name, query in queries.items():
        for key in ("$first_week", "$weeks"):
            query = query.replace(key, bind_zero[key])
        for key, value in bind.items():
            query = query.replace(key, value)
        rows = con.execute(query).fetchall()
        out[name] = {int(r[0]): tuple(float(x) for x in r[1:]) for r in rows if r[0] < weeks}
    return out


def plot(figures: dict[str, dict[int, tuple[float, ...]]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weeks = sorted(figures["flow"])
    x = [w + 1 for w in weeks]
    fig, axes = plt.subplots(5, 1, figsize=(9, 13), sharex=True)

    def series(name: str, i: int = 0) -> list[float]:
        return [figures[name].get(w, (float("nan"),) * 2)[i] for w in weeks]

    def band(ax: plt.Axes, low: float, high: float) -> None:
        ax.axhspan(low, high, color="tab:green", alpha=0.1, label="target")

    ax = axes[0]
    ax.plot(x, [v / 1e6 for v in series("onhand")], marker="o")
    ax.set_ylabel("store on-hand\n(M units, week end)")
    ax = axes[1]
    ax.plot(x, [v / 1e6 for v in series("flow", 0)], marker="o", label="delivered")
    ax.plot(x, [v / 1e6 for v in series("flow", 1)], marker="o", label="sold")
    ax.set_ylabel("units / week (M)")
    ax.legend()
    ax = axes[2]
    ax.plot(x, [100 * v for v in series("zero")], marker="o")
    band(ax, 100 * ZERO_ON_HAND[0], 100 * ZERO_ON_HAND[1])
    ax.set_ylabel("launched store-products\nat zero on hand (%)")
    ax = axes[3]
    ax.plot(x, [100 * v for v in series("reorders")], marker="o")
    band(ax, 100 * SHIPPED_IN_TWO_DAYS, 100)
    ax.set_ylabel("store reorders shipped\nwithin 2 days (%)")
    ax = axes[4]
    ax.plot(x, [100 * v for v in series("busy")], marker="o", label="DC fleet busy")
    ax.plot(x, [100 * v for v in series("fill")], marker="o", label="median DC leg fill")
    ax.axhline(100 * FLEET_BUSY, color="tab:red", lw=0.8, ls="--")
    ax.axhline(100 * MEDIAN_LEG_FILL, color="tab:green", lw=0.8, ls="--")
    ax.set_ylabel("trucks (%)")
    ax.legend()
    ax.set_xlabel("week")
    for ax in axes:
        ax.axvspan(0.5, WARM_UP_DAYS / 7 + 0.5, color="grey", alpha=0.12)
        ax.grid(alpha=0.3)
    axes[0].set_title(
        "Steady state per week (grey: warm-up; delivered/sold target "
        f"{DELIVERED_OVER_SOLD[0]}–{DELIVERED_OVER_SOLD[1]})"
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/steady_state.png"))
    args = parser.parse_args()
    with open_store(args.data_dir, ordered=False) as con:
        figures = weekly_figures(con)
    print("week  on-hand  delivered/sold  zero%  shipped<=2d%  busy%  fill%")
    for w in sorted(figures["flow"]):
        d, s = figures["flow"][w]

        def get(name: str, week: int = w) -> float:
            return figures[name].get(week, (float("nan"),))[0]

        print(
            f"{w + 1:4d} {get('onhand') / 1e6:7.2f}M {d / s:15.3f} {100 * get('zero'):6.2f}"
            f" {100 * get('reorders'):12.1f} {100 * get('busy'):6.1f} {100 * get('fill'):6.1f}"
        )
    plot(figures, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
