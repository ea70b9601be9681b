"""Appending adds part files: committed files are never rewritten, the rows read back equal one
run's, compaction keeps them, and crashes or a lost state file lose nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.volumes import small_config

from retail_datagen.config.models import RetailConfig
from retail_datagen.engine.progress import ProgressUpdate
from retail_datagen.engine.repair import repair
from retail_datagen.errors import DataStateError
from retail_datagen.generators.fact_generator import FactDataGenerator, GenerationResult
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.storage import compact as compact_module
from retail_datagen.storage.compact import compact
from retail_datagen.storage.duckdb_store import open_store
from retail_datagen.validation.runner import validate

LAST = datetime(2024, 2, 2, 23, 59, 59, 999999)


def _config(root: Path) -> RetailConfig:
    return small_config(root, start="2024-01-28")


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Dimensions only, and the facts of 2024-01-28 → 2024-02-02 written by ONE run."""
    base = tmp_path_factory.mktemp("templates")
    dims = base / "dims"
    MasterDataGenerator(_config(dims)).generate_all_master_data()
    whole = base / "whole"
    shutil.copytree(dims, whole)
    FactDataGenerator(_config(whole), workers=1).generate_historical_data(
        "2024-01-28", "2024-02-02"
    )
    return {"dims": dims, "whole": whole}


def _copy(template: Path, tmp_path: Path, name: str = "data") -> RetailConfig:
    root = tmp_path / name
    shutil.copytree(template, root)
    return _config(root)


def _run(
    config: RetailConfig,
    end: str,
    start: str | None = None,
    progress: Callable[[ProgressUpdate], None] | None = None,
) -> GenerationResult:
    generator = FactDataGenerator(config, workers=1, progress=progress)
    return generator.generate_historical_data(start, end)


def _digests(root: Path) -> dict[str, str]:
    """A digest of every fact table's rows in storage order (files in name order)."""
    out: dict[str, str] = {}
    for folder in sorted((root / "export").glob("fact_*")):
        files = sorted(folder.glob("*.parquet"))
        if not files:
            continue
        table = pa.concat_tables(pq.read_table(f) for f in files)
        decoded = table.cast(
            pa.schema(
                f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
                for f in table.schema
            )
        )
        out[folder.name] = hashlib.sha256(repr(decoded.to_pylist()).encode()).hexdigest()
    return out


def _file_ids(root: Path) -> dict[Path, tuple[int, int, int]]:
    """Committed period files (the in-flight file is rewritten by design at every commit)."""
    return {
        p: (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size)
        for p in (root / "export").glob("fact_*/*")
        if p.is_file() and "_in_flight." not in p.name
    }


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_appending_adds_parts_and_never_rewrites_committed_files(
    templates: dict[str, Path], tmp_path: Path
) -> None:
    config = _copy(templates["dims"], tmp_path)
    root = Path(config.paths.data)
    _run(config, "2024-01-29", "2024-01-28")
    before = _file_ids(root)
    _run(config, "2024-01-31")
    _run(config, "2024-02-02")
    after = _file_ids(root)
    assert {p: after[p] for p in before} == before, "a committed file was rewritten"
    receipts = sorted(p.name for p in (root / "export/fact_receipts").iterdir())
    assert receipts == [  # each part is named by its first day; the 1st names the month
        "fact_receipts_2024-01_28.parquet",
        "fact_receipts_2024-01_30.parquet",
        "fact_receipts_2024-02.parquet",
    ]
    assert _digests(root) == _digests(templates["whole"])
    with open_store(root) as con:
        rows = con.execute("SELECT count(*), max(EventTS) FROM fact_receipts").fetchone()
    assert rows is not None and rows[1] <= LAST


def test_compact_merges_a_months_parts_into_one_file_with_the_same_rows(
    templates: dict[str, Path], tmp_path: Path
) -> None:
    config = _copy(templates["dims"], tmp_path)
    root = Path(config.paths.data)
    for end in ("2024-01-29", "2024-01-31", "2024-02-01", "2024-02-02"):
        _run(config, end)
    assert len(list((root / "export/fact_receipts").iterdir())) == 4
    done = compact(root)
    assert {(c.table, c.month) for c in done} >= {("fact_receipts", "2024-01")}
    assert sorted(p.name for p in (root / "export/fact_receipts").iterdir()) == [
        "fact_receipts_2024-01.parquet",
        "fact_receipts_2024-02.parquet",
    ]
    assert _digests(root) == _digests(templates["whole"])
    assert compact(root) == []
    _run(config, "2024-02-03")  # appending after a compaction continues as before
    assert (root / "export/fact_receipts/fact_receipts_2024-02_03.parquet").is_file()


def test_an_interrupted_compaction_is_undone_or_finished(
    templates: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _copy(templates["dims"], tmp_path)
    root = Path(config.paths.data)
    _run(config, "2024-01-30")
    _run(config, "2024-02-02")
    parts = _file_ids(root)

    def no_rename(src: object, dst: object) -> None:
        raise OSError("killed before the rename")

    monkeypatch.setattr(compact_module.os, "replace", no_rename)
    with pytest.raises(OSError, match="before the rename"):
        compact(root)
    monkeypatch.undo()
    assert _file_ids(root) == parts, "parts changed although the merge never committed"
    assert not list((root / "export").rglob(".*")), "a temporary file or journal was left"

    calls = {"n": 0}
    real_fsync_dir = compact_module.fsync_dir

    def crash_after_rename(path: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 1:  # right after the merged file replaced the first part
            raise KeyboardInterrupt
        real_fsync_dir(path)

    monkeypatch.setattr(compact_module, "fsync_dir", crash_after_rename)
    with pytest.raises(KeyboardInterrupt):
        compact(root)
    monkeypatch.undo()
    report = validate(root)
    failed = [r.detail for r in report.failures]
    assert len(failed) == 1 and "interrupted run" in failed[0] and "rerun" in failed[0]

    _run(config, "2024-02-02")  # nothing to add: the rerun only repairs
    assert _digests(root) == _digests(templates["whole"])
    assert validate(root).passed


def test_a_crash_mid_run_keeps_committed_parts_and_the_rerun_repairs(
    templates: dict[str, Path], tmp_path: Path
) -> None:
    config = _copy(templates["dims"], tmp_path)
    root = Path(config.paths.data)
    _run(config, "2024-01-29", "2024-01-28")
    committed = _file_ids(root)

    def crash_in_february(update: ProgressUpdate) -> None:
        if update.message == "2024-02-02":
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        _run(config, "2024-02-02", progress=crash_in_february)
    after = _file_ids(root)
    assert {p: after[p] for p in committed} == committed
    state = GenerationStateManager(root).load()
    assert state.last_generated_timestamp == datetime(2024, 1, 31, 23, 59, 59, 999999)
    assert (root / "export/fact_receipts/fact_receipts_2024-01_30.parquet").is_file()
    assert not list((root / "export").rglob("*2024-02*")), "an uncommitted part was left"
    assert not list((root / "export").rglob("*.tmp-*"))

    _run(config, "2024-02-02")
    assert _digests(root) == _digests(templates["whole"])


def test_a_deleted_state_file_is_refused_and_repair_rebuilds_it(
    templates: dict[str, Path], tmp_path: Path
) -> None:
    config = _copy(templates["dims"], tmp_path)
    root = Path(config.paths.data)
    _run(config, "2024-01-31", "2024-01-28")
    files = _file_ids(root)
    (root / "generation_state.json").unlink()

    with pytest.raises(DataStateError) as err:
        _run(config, "2024-02-02")
    message = str(err.value)
    assert "through 2024-01-31" in message and "no generation_state.json" in message
    assert "retail-datagen repair" in message and "\n" not in message
    assert _file_ids(root) == files, "fact files were touched"

    actions = repair(root)
    assert any("rebuilt generation_state.json" in a for a in actions)
    state = GenerationStateManager(root).load()
    assert state.last_generated_timestamp == datetime(2024, 1, 31, 23, 59, 59, 999999)
    assert state.historical_start_date == datetime(2024, 1, 28)
    _run(config, "2024-02-02")
    assert _digests(root) == _digests(templates["whole"])


def test_leftovers_of_an_interrupted_run_are_reported_and_a_rerun_repairs_them(
    templates: dict[str, Path], tmp_path: Path
) -> None:
    config = _copy(templates["whole"], tmp_path)
    root = Path(config.paths.data)
    folder = root / "export/fact_receipts"
    # a part renamed into place by a run that died before its state was written, and a temp file
    shutil.copy(
        folder / "fact_receipts_2024-02.parquet", folder / "fact_receipts_2024-02_03.parquet"
    )
    (folder / f".fact_receipts_2024-02_04.parquet.tmp-{_dead_pid()}").write_bytes(b"partial")

    report = validate(root)
    assert [r.name for r in report.failures] == ["data folder: interrupted run"]
    detail = report.failures[0].detail
    assert "an interrupted run" in detail and "rerun `retail-datagen generate`" in detail
    assert "clear --yes" not in detail and "--force" not in detail
    assert len(report.results) == 6, "invariant checks ran on an interrupted folder"

    result = _run(config, "2024-02-02")
    assert "up to date" in result.message
    assert sorted(p.name for p in folder.iterdir()) == [
        "fact_receipts_2024-01_28.parquet",
        "fact_receipts_2024-02.parquet",
    ]
    assert validate(root).passed
    assert _digests(root) == _digests(templates["whole"])


def test_a_temporary_file_of_a_running_process_is_not_an_interrupted_run(
    templates: dict[str, Path], tmp_path: Path
) -> None:
    config = _copy(templates["whole"], tmp_path)
    root = Path(config.paths.data)
    temp = root / f"export/fact_receipts/.fact_receipts_2024-02_03.parquet.tmp-{os.getpid()}"
    temp.write_bytes(b"being written")
    assert validate(root).result("data folder: interrupted run").passed
