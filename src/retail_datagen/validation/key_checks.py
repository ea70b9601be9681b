"""Checks derived from the registry: primary and unique keys of every table, every foreign key.

Nothing here names a table: adding a key to a declaration in ``schema/tables.py`` adds its
check. NULL foreign keys are not checked; a fact table without rows passes trivially.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from retail_datagen.schema import TABLES, ForeignKey, Table
from retail_datagen.storage.sql import fetch_one, fetch_scalar, ident
from retail_datagen.validation.report import CheckResult
from retail_datagen.validation.runner import CheckFn, register

__all__: list[str] = []


def _key_label(table: Table, key: Sequence[str]) -> str:
    return f"{table.name}({', '.join(key)})"


# Rows whose keys one GROUP BY pass holds within the connection's memory limit
# (duckdb_access.MEMORY_LIMIT): 100 M BLE pings (91 default days) ran out of memory in one pass
# and pass in 8 (each pass keeps the keys whose hash falls in its bucket).
KEY_ROWS_PER_PASS = 12_000_000


def _key_check(table: Table, key: tuple[str, ...], *, primary: bool) -> CheckFn:
    cols = ", ".join(ident(c) for c in key)
    not_null = " AND ".join(f"{ident(c)} IS NOT NULL" for c in key)
    any_null = " OR ".join(f"{ident(c)} IS NULL" for c in key)
    source = ident(table.name)

    def run(con: duckdb.DuckDBPyConnection) -> CheckResult:
        rows = int(fetch_scalar(con, f"SELECT count(*) FROM {source}") or 0)
        passes = max(1, -(-rows // KEY_ROWS_PER_PASS))
        duplicates, sample = 0, None
        for bucket in range(passes):
            where = not_null + (f" AND hash({cols}) % {passes} = {bucket}" if passes > 1 else "")
            found = int(
                fetch_scalar(
                    con,
                    f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {source} "
                    f"WHERE {where} GROUP BY {cols} HAVING count(*) > 1)",
                )
                or 0
            )
            if found and sample is None:
                sample = fetch_one(
                    con,
                    f"SELECT {cols}, count(*) FROM {source} WHERE {where} GROUP BY {cols} "
                    f"HAVING count(*) > 1 ORDER BY count(*) DESC LIMIT 1",
                )
            duplicates += found
        nulls = (
            int(fetch_scalar(con, f"SELECT count(*) FROM {source} WHERE {any_null}") or 0)
            if primary
            else 0
        )
        detail = ""
        if sample is not None:
            values = ", ".join(f"{c}={v!r}" for c, v in zip(key, sample, strict=False))
            detail = f"{duplicates} duplicate rows, e.g. {values} x{sample[-1]}"
        if nulls:
            detail = (detail + "; " if detail else "") + f"{nulls} rows with a NULL key"
        return CheckResult.hard("", duplicates + nulls, detail)

    return run


def _fk_check(table: Table, fk: ForeignKey) -> CheckFn:
    child, parent = ident(table.name), ident(fk.table)
    column, target = ident(fk.column), ident(fk.target)
    # a LEFT JOIN, not NOT EXISTS: over the Parquet views DuckDB plans it as a hash join (~30x
    # faster here); duplicate parent keys cannot inflate the count of unmatched rows
    orphans = (
        f"FROM {child} c LEFT JOIN {parent} p ON p.{target} = c.{column} "
        f"WHERE c.{column} IS NOT NULL AND p.{target} IS NULL"
    )

    def run(con: duckdb.DuckDBPyConnection) -> CheckResult:
        count = int(fetch_scalar(con, f"SELECT count(*) {orphans}") or 0)
        detail = ""
        if count:
            sample = fetch_scalar(con, f"SELECT c.{column} {orphans} LIMIT 1")
            detail = f"{count} rows point at a missing {fk.table}.{fk.target}, e.g. {sample!r}"
        return CheckResult.hard("", count, detail)

    return run


def _register_all() -> None:
    for table in TABLES.values():
        if table.primary_key:
            register(
                f"primary key {_key_label(table, table.primary_key)}",
                "hard",
                _key_check(table, table.primary_key, primary=True),
            )
        for key in table.unique:
            register(
                f"unique {_key_label(table, key)}", "hard", _key_check(table, key, primary=False)
            )
    for table in TABLES.values():
        for fk in table.foreign_keys:
            register(
                f"foreign key {table.name}.{fk.column} -> {fk.table}.{fk.target}",
                "hard",
                _fk_check(table, fk),
            )


_register_all()
