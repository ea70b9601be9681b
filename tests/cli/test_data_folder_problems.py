"""`status` and `validate` name what is wrong with a damaged data folder in one line with its
fix; `repair` fixes what can be rebuilt; `compact` merges parts; a full disk is one line."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from tests.volumes import small_volume
from typer.testing import CliRunner

from retail_datagen.cli import app
from retail_datagen.storage import fact_writer

CONFIG = {
    "seed": 3,
    "volume": small_volume(
        stores=4,
        dcs=1,
        total_geographies=20,
        total_customers=800,
        total_products=200,
        customers_per_day=40,
        online_orders_per_day=40,
        marketing_impressions_per_day=400,
    ),
    "historical": {"start_date": "2024-01-30"},
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Facts 2024-01-30 → 2024-02-02 written by two runs (so January has two parts)."""
    base = tmp_path_factory.mktemp("problems")
    config = base / "config.json"
    config.write_text(json.dumps(CONFIG))
    data = base / "data"
    runner = CliRunner()
    for end in ("2024-01-30", "2024-02-02"):
        result = runner.invoke(
            app,
            ["generate", "-c", str(config), "-d", str(data), "--end", end, "--workers", "1"],
        )
        assert result.exit_code == 0, result.output
    return data


@pytest.fixture
def data(template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(template, root)
    return root


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _problems(data: Path) -> list[str]:
    code, out, _ = cli("status", "-d", str(data), "--json")
    assert code == 0, out
    return [p["message"] for p in json.loads(out)["problems"]]


def _truncate(path: Path, size: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(size)


def _state(data: Path, **changes: object) -> None:
    path = data / "generation_state.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing dimension export": (
        lambda d: (d / "export/dim_stores/dim_stores.parquet").unlink(),
        "dim_stores",
    ),
    "corrupt dimension export": (
        lambda d: _truncate(d / "export/dim_products/dim_products.parquet", 64),
        "dim_products",
    ),
    "truncated store": (lambda d: _truncate(d / "retail.duckdb", 16384), "retail.duckdb"),
    "tampered output format": (
        lambda d: _state(d, output_format="csv"),
        "says the facts are monthly CSV but the files are Parquet",
    ),
    "deleted state file": (
        lambda d: (d / "generation_state.json").unlink(),
        "found fact files through 2024-02-02",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_status_and_validate_name_the_damage_and_repair_fixes_it(data: Path, case: str) -> None:
    damage, words = DAMAGE[case]
    damage(data)

    problems = _problems(data)
    assert len(problems) == 1 and words in problems[0], problems
    assert "retail-datagen repair" in problems[0] and "\n" not in problems[0]
    code, out, err = cli("status", "-d", str(data))
    assert code == 0 and f"problem: {problems[0]}" in " ".join(err.split()), err
    code, out, _ = cli("validate", "-d", str(data), "--failures-only")
    assert code == 1 and words in out

    code, out, err = cli("repair", "-d", str(data))
    assert code == 0, err
    assert _problems(data) == []
    code, out, _ = cli("validate", "-d", str(data), "--failures-only")
    assert code == 0, out


def test_a_missing_month_is_reported_with_how_to_recover(data: Path) -> None:
    for path in (data / "export/fact_receipts").glob("fact_receipts_2024-01*"):
        path.unlink()
    problems = _problems(data)
    assert len(problems) == 1
    assert "fact files missing for 2024-01 (fact_receipts)" in problems[0]
    assert "restore them from a backup" in problems[0]
    code, out, _ = cli("validate", "-d", str(data), "--failures-only")
    assert code == 1 and "data folder: month files" in out


def test_a_sparse_table_without_a_month_is_not_a_gap(data: Path) -> None:
    for path in (data / "export/fact_stockouts").glob("*2024-01*"):
        path.unlink()
    assert _problems(data) == []


def test_compact_command_merges_parts(data: Path) -> None:
    before = sorted(p.name for p in (data / "export/fact_receipts").iterdir())
    assert before == [
        "fact_receipts_2024-01_30.parquet",
        "fact_receipts_2024-01_31.parquet",
        "fact_receipts_2024-02.parquet",
    ]
    code, out, err = cli("compact", "-d", str(data))
    assert code == 0, err
    assert "fact_receipts 2024-01" in out
    assert sorted(p.name for p in (data / "export/fact_receipts").iterdir()) == [
        "fact_receipts_2024-01.parquet",
        "fact_receipts_2024-02.parquet",
    ]
    code, out, _ = cli("compact", "-d", str(data))
    assert code == 0 and "nothing to compact" in out
    code, _, err = cli("compact", "-d", str(data), "--month", "2024-1")
    assert code == 2 and err.startswith("error: --month")


def test_a_full_disk_is_one_line_naming_it(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fact_writer.os, "replace", disk_full)
    code, _, err = cli("generate", "-d", str(data), "--end", "2024-02-04", "--workers", "1")
    monkeypatch.undo()
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(lines) == 1 and "no space left on device" in lines[0], err
    assert "Traceback" not in err
    assert _problems(data) == []  # nothing half-written stays behind


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 28 MiB file system (tmpfs; needs root, else the test is skipped): room for the
    template and two default days once the filler is gone (the price history takes ~1.5 MB)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=28m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_every_writing_command_says_no_space_left_on_a_full_disk(
    template: Path, tiny_disk: Path
) -> None:
    data = tiny_disk / "data"
    shutil.copytree(template, data)
    filler = tiny_disk / "filler"
    with open(filler, "wb", buffering=0) as f:  # fill the disk to the last block
        try:
            while True:
                f.write(b"\0" * (1 << 16))
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    for args in (
        ["generate", "--end", "2024-02-04", "--workers", "1"],
        ["export", "--format", "csv"],
        ["compact"],
    ):
        code, _, err = cli(*args, "-d", str(data))
        assert code == 2, (args, err)
        assert "error: no space left on device" in err, (args, err)
    filler.unlink()
    code, _, err = cli("generate", "-d", str(data), "--end", "2024-02-04", "--workers", "1")
    assert code == 0, err


def test_generate_refuses_fact_files_without_a_state_and_deletes_nothing(data: Path) -> None:
    (data / "generation_state.json").unlink()
    files = sorted((p, p.stat().st_mtime_ns) for p in (data / "export").rglob("*") if p.is_file())
    code, _, err = cli("generate", "-d", str(data), "--end", "2024-02-04", "--workers", "1")
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1, err
    assert "found fact files through 2024-02-02" in errors[0]
    assert "retail-datagen repair" in errors[0]
    after = sorted((p, p.stat().st_mtime_ns) for p in (data / "export").rglob("*") if p.is_file())
    assert after == files


def test_a_folder_from_an_older_version_names_the_missing_dimension(data: Path) -> None:
    """A folder made before dim_product_prices existed: one line naming the table and --force,
    and nothing deleted."""

    with duckdb.connect(str(data / "retail.duckdb")) as con:
        con.execute("DROP TABLE dim_product_prices")
    shutil.rmtree(data / "export" / "dim_product_prices")
    files = sorted(p for p in (data / "export").rglob("*.parquet"))
    code, _, err = cli("generate", "-d", str(data), "--end", "2024-02-04", "--workers", "1")
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1, err
    assert "lacks dim_product_prices" in errors[0] and "older version" in errors[0]
    assert "--force" in errors[0]
    assert sorted(p for p in (data / "export").rglob("*.parquet")) == files
