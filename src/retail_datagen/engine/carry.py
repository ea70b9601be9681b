"""State carried from one run to the next: each store's pending returns after the last day.

One file per committed day (``engine_state/pending_returns_<day>.parquet``); the newest two are
kept, so a crash between writing the carried state and the state file still finds the state's
day. Later issues add stock and shipments here.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from retail_datagen.errors import DataStateError
from retail_datagen.generators.facts.returns import PENDING_SCHEMA
from retail_datagen.storage.atomic import write_parquet_atomic
from retail_datagen.storage.layout import DataLayout

__all__ = ["load_carry", "save_carry"]

_PREFIX = "pending_returns_"
_KEEP = 2


def save_carry(layout: DataLayout, carry: dict[int, pa.Table], through: date) -> None:
    """Write every store's carried state as of the end of ``through``."""
    parts = [
        table.append_column("Partition", pa.array([partition] * table.num_rows, pa.int32()))
        for partition, table in sorted(carry.items())
    ]
    schema = PENDING_SCHEMA.append(pa.field("Partition", pa.int32()))
    data = pa.concat_tables(parts) if parts else schema.empty_table()
    layout.engine_state_dir.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(data, layout.engine_state_dir / f"{_PREFIX}{through.isoformat()}.parquet")
    files = sorted(layout.engine_state_dir.glob(f"{_PREFIX}*.parquet"))
    for old in files[:-_KEEP]:
        old.unlink()


def load_carry(layout: DataLayout, through: date) -> dict[int, pa.Table]:
    """The carried state at the end of ``through`` (the last committed day)."""
    path = layout.engine_state_dir / f"{_PREFIX}{through.isoformat()}.parquet"
    if not path.exists():
        raise DataStateError(
            f"the carried simulation state for {through.isoformat()} is missing from "
            f"{layout.engine_state_dir}; run `retail-datagen clear --yes` and generate again"
        )
    data = pq.read_table(path)
    partitions = data.column("Partition")
    out: dict[int, pa.Table] = {}
    for partition in pc.unique(partitions).to_pylist():
        rows = data.filter(pc.equal(partitions, partition)).drop_columns(["Partition"])
        out[int(partition)] = rows.cast(PENDING_SCHEMA)
    return out
