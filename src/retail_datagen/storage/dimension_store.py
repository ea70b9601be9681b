"""Saving dimensions: the DuckDB tables (one transaction) and their Parquet exports (atomic).

Dimensions are the parents of every fact foreign key, so they are never replaced under existing
facts: that needs ``force``, which removes the facts first. No orphaned foreign key can exist.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from retail_datagen.errors import DataStateError
from retail_datagen.schema import DIMENSIONS, FACTS, get_table, normalise
from retail_datagen.storage.atomic import write_parquet_atomic
from retail_datagen.storage.duckdb_store import has_fact_data, missing_dimensions
from retail_datagen.storage.layout import DataLayout
from retail_datagen.storage.state import GenerationStateManager
from retail_datagen.storage.store_writer import (
    open_writer,
    remove_dimension_exports,
    repair_dimension_exports,
    replace_dimensions,
    sync_fact_views,
    sync_store,
)

__all__ = [
    "extend_dimensions",
    "facts_exist",
    "remove_facts",
    "save_dimensions",
    "validate_dimension_tables",
]


def validate_dimension_tables(tables: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """Every dimension present, each normalised to its registry schema with no NULL in a
    non-nullable column; anything else is a programming error (``ValueError``)."""
    expected = {t.name for t in DIMENSIONS}
    given = set(tables)
    if given != expected:
        raise ValueError(
            "save_dimensions needs exactly the registry dimensions "
            f"(missing {sorted(expected - given)}, unexpected {sorted(given - expected)})"
        )
    out: dict[str, pa.Table] = {}
    for table in DIMENSIONS:
        data = normalise(table, tables[table.name])
        for column in table.columns:
            if not column.nullable and data.column(column.name).null_count:
                raise ValueError(f"{table.name}.{column.name} contains NULL values")
        out[table.name] = data
    return out


def facts_exist(data_dir: str | Path) -> bool:
    """Facts in any form: files, carried engine state, or a state file that says so."""
    layout = DataLayout.of(data_dir)
    if has_fact_data(layout.root):
        return True
    engine = layout.engine_state_dir
    if engine.is_dir() and any(engine.iterdir()):
        return True
    return GenerationStateManager(layout.root).load().has_fact_data


def remove_facts(data_dir: str | Path) -> list[Path]:
    """Delete every fact file and the engine state, empty the fact views, reset fact state."""
    layout = DataLayout.of(data_dir)
    removed: list[Path] = []
    for table in FACTS:
        folder = layout.table_dir(table.name)
        if folder.is_symlink():
            folder.unlink()
            removed.append(folder)
        elif folder.is_dir() and layout.owns(folder):
            shutil.rmtree(folder)
            removed.append(folder)
    engine = layout.engine_state_dir
    if engine.is_symlink():
        engine.unlink()
        removed.append(engine)
    elif engine.is_dir() and layout.owns(engine):
        shutil.rmtree(engine)
        removed.append(engine)
    GenerationStateManager(layout.root).reset_facts()
    if layout.duckdb_path.exists():
        sync_store(layout.root)  # the views become typed empty selects
    return removed


def save_dimensions(
    data_dir: Path | str, tables: Mapping[str, pa.Table], *, force: bool = False
) -> None:
    """Validate and store all dimensions: DuckDB in one transaction, then Parquet files.

    The old exports are removed before the commit, so a crash in between leaves them missing
    (re-created from the tables by the next writer) rather than stale.

    Refuses (:class:`DataStateError`) while fact data exists unless ``force``, which removes the
    facts first so no fact row can point at a dimension row that no longer exists.
    """
    layout = DataLayout.of(data_dir)
    checked = validate_dimension_tables(tables)
    if facts_exist(layout.root) and not force:
        missing = missing_dimensions(layout.root) if layout.duckdb_path.exists() else []
        why = (
            f" (it lacks {', '.join(missing)}: it was made by an older version, whose facts do"
            " not follow the new tables)"
            if missing
            else ""
        )
        raise DataStateError(
            f"fact data exists in {layout.root}{why}; regenerating dimensions would orphan it. "
            "Re-run with --force to remove all fact data and regenerate the dimensions"
        )
    with open_writer(layout.root, create=True) as con:  # busy: refused before deleting anything
        if force and facts_exist(layout.root):
            remove_facts(layout.root)
        remove_dimension_exports(layout)
        try:
            replace_dimensions(con, checked)
        except BaseException:
            repair_dimension_exports(con, layout)  # the old tables stand: export them again
            raise
        sync_fact_views(con, layout)
    for name, data in checked.items():
        write_parquet_atomic(data, layout.dim_file(name))


def extend_dimensions(data_dir: Path | str, tables: Mapping[str, pa.Table]) -> None:
    """Replace dimensions by supersets of their rows (dim_date growing) while facts exist.

    No fact row can lose its reference, so unlike :func:`save_dimensions` facts may stay.
    """
    layout = DataLayout.of(data_dir)
    checked = {name: normalise(get_table(name), data) for name, data in tables.items()}
    with open_writer(layout.root) as con:
        for name in checked:
            layout.dim_file(name).unlink(missing_ok=True)
        try:
            replace_dimensions(con, checked)
        except BaseException:
            repair_dimension_exports(con, layout)
            raise
    for name, data in checked.items():
        write_parquet_atomic(data, layout.dim_file(name))
