"""Where everything lives inside a data folder (SPEC §2.4) — the only place paths are built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DataLayout"]


@dataclass(frozen=True)
class DataLayout:
    """Paths of one data folder::

    <root>/retail.duckdb
    <root>/generation_state.json
    <root>/engine_state/                     carried simulation state between runs
    <root>/export/dim_<name>/dim_<name>.parquet
    <root>/export/fact_<name>/fact_<name>_YYYY-MM.parquet   (or .csv)
    <root>/export/fact_<name>/dt=YYYY-MM-DD/fact_<name>.csv (Hive-style daily CSV)
    """

    root: Path

    @classmethod
    def of(cls, root: str | Path) -> DataLayout:
        return cls(Path(root).expanduser().resolve())

    @property
    def duckdb_path(self) -> Path:
        return self.root / "retail.duckdb"

    @property
    def streaming_db_path(self) -> Path:
        """Streaming's own DuckDB file, so the web server can read retail.duckdb meanwhile."""
        return self.root / "streaming.duckdb"

    @property
    def state_path(self) -> Path:
        return self.root / "generation_state.json"

    @property
    def engine_state_dir(self) -> Path:
        return self.root / "engine_state"

    @property
    def export_dir(self) -> Path:
        return self.root / "export"

    def table_dir(self, table: str) -> Path:
        return self.export_dir / table

    def dim_file(self, table: str, fmt: str = "parquet") -> Path:
        return self.table_dir(table) / f"{table}.{fmt}"

    def fact_month_file(self, table: str, year: int, month: int, fmt: str = "parquet") -> Path:
        return self.table_dir(table) / f"{table}_{year:04d}-{month:02d}.{fmt}"

    def fact_day_file(self, table: str, day: str) -> Path:
        """Hive-style daily CSV partition; ``day`` is an ISO date."""
        return self.table_dir(table) / f"dt={day}" / f"{table}.csv"

    def owns(self, path: Path) -> bool:
        """True when ``path`` is inside this data folder (deletes never leave it)."""
        try:
            path.resolve().relative_to(self.root)
        except ValueError:
            return False
        return True
