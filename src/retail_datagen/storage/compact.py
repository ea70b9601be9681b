"""Merge the part files of a month into one month file (``retail-datagen compact``).

Continuing a month adds part files (see :meth:`DataLayout.fact_part_file`); compaction rewrites
a month's committed parts as one ``<table>_YYYY-MM`` file with the same rows in the same order.
The merged file is written under a temporary name; a small journal naming the parts it replaces
is written before the rename, so a crash at any point either leaves the parts as they were or
is finished by the next ``compact``/``generate`` (the journal says which parts to remove).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from retail_datagen.errors import DataStateError
from retail_datagen.schema import FACTS, get_table
from retail_datagen.storage.atomic import atomic_write_text, fsync_dir, temp_path_for
from retail_datagen.storage.fact_writer import ROW_GROUP_ROWS, new_file_writer
from retail_datagen.storage.layout import DataLayout

__all__ = [
    "CompactedMonth",
    "compact",
    "finish_interrupted_compactions",
    "interrupted_compactions",
    "read_fact_file",
]

BATCH_ROWS = 1 << 20


@dataclass(frozen=True)
class CompactedMonth:
    table: str
    month: str
    parts: int
    target: Path


def read_fact_file(table: str, path: Path, fmt: str) -> Iterator[pa.Table]:
    """A fact file's rows with the registry schema, in bounded batches (storage order)."""
    schema = get_table(table).arrow_schema
    batches: Iterator[pa.RecordBatch]
    if fmt == "parquet":
        batches = pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS)
    else:
        convert = pacsv.ConvertOptions(column_types=schema, strings_can_be_null=True)
        batches = iter(pacsv.open_csv(path, convert_options=convert))
    for batch in batches:
        yield pa.Table.from_batches([batch]).select(schema.names).cast(schema)


def _finish(journal: Path) -> None:
    """Roll an interrupted compaction forward (its merged file is in place) or back."""
    try:
        entry = json.loads(journal.read_text(encoding="utf-8"))
        target = journal.parent / str(entry["target"])
        merged_size = int(entry["size"])
        remove = [journal.parent / str(name) for name in entry["remove"]]
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)  # written atomically: a damaged one is not ours
        return
    if target.is_file() and target.stat().st_size == merged_size:
        for part in remove:  # the rename happened: the parts are in the merged file now
            part.unlink(missing_ok=True)
        fsync_dir(journal.parent)
    journal.unlink(missing_ok=True)


def finish_interrupted_compactions(layout: DataLayout) -> list[Path]:
    """Finish every interrupted compaction of the data folder; return the journals handled."""
    handled: list[Path] = []
    for decl in FACTS:
        for journal in layout.compaction_journals(decl.name):
            _finish(journal)
            handled.append(journal)
    return handled


def interrupted_compactions(layout: DataLayout) -> list[Path]:
    """Journals of compactions that did not finish (without touching them)."""
    return [journal for decl in FACTS for journal in layout.compaction_journals(decl.name)]


def _merge(table: str, parts: list[Path], fmt: str, target: Path, journal: Path) -> None:
    tmp = temp_path_for(target)
    try:
        writer = new_file_writer(table, tmp, fmt)
        try:
            for part in parts:
                for data in read_fact_file(table, part, fmt):
                    if isinstance(writer, pq.ParquetWriter):
                        writer.write_table(data, row_group_size=ROW_GROUP_ROWS)
                    else:
                        writer.write_table(data)
        finally:
            writer.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        remove = [p.name for p in parts if p != target]
        atomic_write_text(
            journal,
            json.dumps({"target": target.name, "size": tmp.stat().st_size, "remove": remove}),
        )
        os.replace(tmp, target)  # the commit point
        fsync_dir(target.parent)
        for name in remove:
            (target.parent / name).unlink(missing_ok=True)
        fsync_dir(target.parent)
        journal.unlink()
    except BaseException:
        if tmp.exists():  # not renamed: the parts are untouched, the journal is void
            tmp.unlink()
            journal.unlink(missing_ok=True)
        raise


def _committed_months(
    layout: DataLayout, table: str, last_day: date, months: set[str] | None
) -> dict[tuple[str, str], list[Path]]:
    """Committed monthly files grouped by (format, month), in name (= time) order."""
    grouped: dict[tuple[str, str], list[Path]] = defaultdict(list)
    found = layout.fact_files(table)
    for path in sorted(found["parquet"] + found["csv"]):
        name = layout.fact_file(table, path)
        if name is None or name.first_day > last_day:
            continue
        if months is None or name.month in months:
            grouped[(name.kind, name.month)].append(path)
    return grouped


def compact(data_dir: str | Path, months: list[str] | None = None) -> list[CompactedMonth]:
    """Merge each month's committed parts (all months, or ``months`` as ``YYYY-MM``) into one
    file; return what was merged. Run it while no generation or stream writes the folder."""
    from retail_datagen.storage.duckdb_store import refresh_fact_views
    from retail_datagen.storage.state import GenerationStateManager

    layout = DataLayout.of(data_dir)
    state = GenerationStateManager(layout.root).load()
    last = state.last_generated_timestamp
    if not state.has_fact_data or last is None:
        raise DataStateError(f"no facts in {layout.root}; nothing to compact")
    if state.output_format == "delta":  # merging files under a Delta log would corrupt it
        raise DataStateError(
            "the facts are Delta tables: compact them with delta-rs, e.g. "
            "DeltaTable(path).optimize.compact() (README: Delta tables)"
        )
    finish_interrupted_compactions(layout)
    wanted = set(months) if months else None
    done: list[CompactedMonth] = []
    for decl in FACTS:
        groups = _committed_months(layout, decl.name, last.date(), wanted)
        for (fmt, month), parts in sorted(groups.items()):
            if len(parts) < 2:
                continue
            year, mon = (int(x) for x in month.split("-"))
            target = layout.fact_month_file(decl.name, year, mon, fmt)
            _merge(decl.name, parts, fmt, target, layout.compaction_journal(target))
            done.append(CompactedMonth(decl.name, month, len(parts), target))
    if done and layout.duckdb_path.exists():
        refresh_fact_views(layout.root)
    return done
