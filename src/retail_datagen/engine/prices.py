"""Keep ``dim_product_prices`` and ``dim_products.SalePrice`` in step with the generated range.

The stored price history covers the dataset's first day through the last generated day, and
``dim_products.SalePrice`` is the price on that last day (the row with ValidTo NULL). The
history is a pure function of (seed, product, day), so it is rebuilt whole whenever the history
of facts grows (a fraction of a second) rather than patched: a run in pieces, or extended later,
stores the same rows as one run.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from retail_datagen.generators.dims.product_prices import price_history, with_current_prices
from retail_datagen.generators.price_model import initial_prices, price_plan
from retail_datagen.schema import TABLES, normalise
from retail_datagen.storage.atomic import fsync_dir, write_parquet_atomic
from retail_datagen.storage.layout import DataLayout
from retail_datagen.storage.sql import ident
from retail_datagen.storage.store_writer import (
    StoreBusyError,
    open_writer,
    repair_dimension_exports,
)

__all__ = ["PRICE_TABLES", "price_tables", "publish_prices"]

_log = logging.getLogger("retail_datagen")
PRICE_TABLES = ("dim_products", "dim_product_prices")


def _read(con: duckdb.DuckDBPyConnection, name: str) -> pa.Table:
    columns = ", ".join(ident(c) for c in TABLES[name].column_names)
    return normalise(TABLES[name], con.sql(f"SELECT {columns} FROM {ident(name)}").to_arrow_table())


def price_tables(
    seed: int, products: pa.Table, prices: pa.Table | None, first: date, through: date
) -> dict[str, pa.Table]:
    """``dim_products`` with current prices and ``dim_product_prices`` for ``first``..``through``
    (the INITIAL prices come from the stored history, so they never move)."""
    ordered = products.sort_by("ID")
    plan = price_plan(seed, ordered, first, initial_prices(ordered, prices))
    return {
        "dim_products": with_current_prices(ordered, plan, through),
        "dim_product_prices": price_history(plan, through),
    }


def _store(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> None:
    """Rewrite the history and update only the SalePrice values that changed, in one
    transaction: replacing dim_products whole would grow retail.duckdb by a copy each time."""
    history, products = tables["dim_product_prices"], tables["dim_products"]
    columns = ", ".join(ident(c) for c in TABLES["dim_product_prices"].column_names)
    con.register("__incoming_prices", history)
    con.register("__incoming_current", products.select(["ID", "SalePrice"]))
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM dim_product_prices")
            con.execute(
                f"INSERT INTO dim_product_prices ({columns}) SELECT {columns} "
                "FROM __incoming_prices"
            )
            con.execute(
                'UPDATE dim_products SET "SalePrice" = c."SalePrice" FROM __incoming_current c '
                'WHERE dim_products."ID" = c."ID" AND dim_products."SalePrice" <> c."SalePrice"'
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("__incoming_prices")
        con.unregister("__incoming_current")


def publish_prices(data_dir: str | Path, seed: int, first: date, through: date) -> bool:
    """Store the price history through ``through`` (DuckDB in one transaction, then the Parquet
    exports). When another process holds the store, one warning line says the prices catch up
    on the next commit, and the result is False: committed facts are never failed for it."""
    layout = DataLayout.of(data_dir)
    try:
        with open_writer(layout.root) as con:
            tables = price_tables(
                seed, _read(con, "dim_products"), _read(con, "dim_product_prices"), first, through
            )
            for name in PRICE_TABLES:  # missing, never stale, if a crash comes before the export
                file = layout.dim_file(name)
                if file.is_file():
                    file.unlink()
                    fsync_dir(file.parent)
            try:
                _store(con, tables)
            except BaseException:
                repair_dimension_exports(con, layout)
                raise
    except (StoreBusyError, duckdb.Error) as exc:
        _log.warning(
            "could not update the price history in %s (%s); it is brought up to date on the "
            "next commit",
            layout.duckdb_path,
            str(exc).splitlines()[0],
        )
        return False
    for name, data in tables.items():
        write_parquet_atomic(data, layout.dim_file(name))
    return True
