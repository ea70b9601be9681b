"""Storage: where tables are kept — DuckDB, Parquet and CSV writers (atomic), the data folder's
layout, its continuation ``state``, integrity checks and exports. It knows tables by their schema,
not how they are made: nothing here imports generators or the engine."""
