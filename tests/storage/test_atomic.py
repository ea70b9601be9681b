from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retail_datagen.storage import atomic
from retail_datagen.storage.atomic import (
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    write_parquet_atomic,
)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_atomic_write_replaces_the_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "state.json"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert _leftovers(target.parent) == ["state.json"]


def test_temp_path_is_hidden_and_in_the_same_folder(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "x.bin") as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".x.bin.tmp-")
        tmp.write_bytes(b"1")


def test_failure_mid_write_leaves_neither_partial_final_nor_temp(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise RuntimeError("crash while writing")
    assert _leftovers(tmp_path) == []


def test_failure_keeps_the_previous_version_intact(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    atomic_write_bytes(target, b"good")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"good"
    assert _leftovers(tmp_path) == ["data.bin"]


def test_writing_nothing_is_an_error_not_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), atomic_path(tmp_path / "never.bin"):
        pass
    assert _leftovers(tmp_path) == []


def test_parquet_write_failure_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_writer(table: pa.Table, where: Path, **kwargs: object) -> None:
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(atomic.pq, "write_table", broken_writer)
    with pytest.raises(OSError, match="disk full"):
        write_parquet_atomic(pa.table({"a": [1, 2]}), tmp_path / "t" / "t.parquet")
    assert _leftovers(tmp_path / "t") == []


def test_parquet_is_zstd_compressed_and_round_trips(tmp_path: Path) -> None:
    table = pa.table({"a": pa.array([1, 2, 3], pa.int32()), "s": ["x", "y", None]})
    path = tmp_path / "t.parquet"
    write_parquet_atomic(table, path)
    assert pq.read_table(path).equals(table)
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
