"""The command line through typer's CliRunner (in process); see test_cli_subprocess for the
installed console script."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.conftest import SMALL_CONFIG
from typer.testing import CliRunner

from retail_datagen.cli import app
from retail_datagen.generators.generation_state import GenerationStateManager
from retail_datagen.storage.atomic import write_parquet_atomic
from retail_datagen.storage.dimension_store import save_dimensions
from retail_datagen.storage.layout import DataLayout

COMMANDS = ["generate", "export", "validate", "status", "clear", "compact", "repair", "digest"]
FactFactory = Callable[..., pa.Table]

# (case id, change to the small config or raw file text) — every one must be refused up front
BAD_CONFIGS: list[tuple[str, Any]] = [
    ("zero_stores", {"volume": {"stores": 0}}),
    ("negative_customers", {"volume": {"total_customers": -5}}),
    ("negative_trucks", {"volume": {"refrigerated_trucks": -1}}),
    (
        "min_above_max",
        {"volume": {"store_initial_inventory_min": 300, "store_initial_inventory_max": 200}},
    ),
    ("too_many_products", {"volume": {"total_products": 10_001}}),
    ("too_many_geographies", {"volume": {"total_geographies": 1_001}}),
    ("future_start_date", {"historical": {"start_date": "2999-01-01"}}),
    ("unknown_key", {"volume": {"storez": 5}}),
    ("wrong_type", {"volume": {"stores": "ten"}}),
    ("malformed_json", '{"volume": {"stores": 6,,}}'),
]


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in change.items():
        out[key] = _merge(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


def write_bad_config(folder: Path, base: dict[str, Any], change: Any) -> Path:
    path = folder / "bad.json"
    text = change if isinstance(change, str) else json.dumps(_merge(base, change))
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def store(data_dir: Path, dims: dict[str, pa.Table]) -> Path:
    save_dimensions(data_dir, dims)
    return data_dir


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]])
def test_help_is_available_everywhere(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    if command:
        assert "--config" in result.output and "--data-dir" in result.output


@pytest.mark.parametrize(("case", "change"), BAD_CONFIGS, ids=[c for c, _ in BAD_CONFIGS])
@pytest.mark.parametrize(
    "command", ["generate", "validate", "status", "export", "clear", "compact", "repair"]
)
def test_bad_config_is_one_line_exit_2_and_writes_nothing(
    runner: CliRunner,
    tmp_path: Path,
    small_config_dict: dict[str, Any],
    case: str,
    change: Any,
    command: str,
) -> None:
    config = write_bad_config(tmp_path, small_config_dict, change)
    data = tmp_path / "data"
    extra = {"export": ["--format", "csv"], "clear": ["--yes"]}.get(command, [])
    result = runner.invoke(app, [command, "--config", str(config), "--data-dir", str(data), *extra])
    assert result.exit_code == 2, result.output
    line = _one_error_line(result.stderr)
    assert "bad.json" in line
    assert not data.exists()


def test_missing_config_file_is_a_one_line_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "--config", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "config file not found" in _one_error_line(result.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2024-13-01"], "not a date"),
        (["--start", (date.today() + timedelta(days=3)).isoformat()], "not in the past"),
        (["--end", date.today().isoformat()], "not in the past"),
        (["--start", "2024-02-01", "--end", "2024-01-01"], "after --end"),
        (["--start", "2024-01-01", "--end", "2024-01-05", "--days", "3"], "at most two"),
        (["--dims-only", "--days", "3"], "--dims-only"),
        (["--format", "parquet", "--csv-daily"], "--csv-daily"),
    ],
)
def test_contradictory_generate_options_are_user_errors(
    runner: CliRunner, data_dir: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["generate", "--data-dir", str(data_dir), *args])
    assert result.exit_code == 2, result.output
    assert message in _one_error_line(result.stderr)
    assert not data_dir.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "--format", "xml"],
        ["generate", "--days", "0"],
        ["generate", "--workers", "-1"],
        ["export", "--format", "json"],
        ["export"],
        ["generate", "--no-such-option"],
    ],
)
def test_wrong_option_values_are_usage_errors(
    runner: CliRunner, data_dir: Path, args: list[str]
) -> None:
    result = runner.invoke(app, [*args, "--data-dir", str(data_dir)])
    assert result.exit_code == 2
    assert "Usage" in result.output or "Usage" in result.stderr
    assert not data_dir.exists()


def test_status_of_an_empty_folder_creates_nothing(runner: CliRunner, data_dir: Path) -> None:
    result = runner.invoke(app, ["status", "--data-dir", str(data_dir)])
    assert result.exit_code == 0
    assert "no data" in result.stdout
    assert not data_dir.exists()


def test_status_lists_tables_and_state(runner: CliRunner, store: Path) -> None:
    result = runner.invoke(app, ["status", "--data-dir", str(store), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = {t["name"]: t["rows"] for t in data["tables"]}
    assert rows["dim_stores"] == 10 and rows["fact_receipts"] == 0
    assert data["state"]["has_fact_data"] is False
    text = runner.invoke(app, ["status", "--data-dir", str(store)])
    assert "dim_customers" in text.stdout and "facts: none yet" in text.stdout


def test_validate_passes_on_clean_data(runner: CliRunner, store: Path) -> None:
    result = runner.invoke(app, ["validate", "--data-dir", str(store)])
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.stdout


def test_validate_fails_with_exit_1_and_json(
    runner: CliRunner, store: Path, make_fact: FactFactory
) -> None:
    layout = DataLayout.of(store)
    write_parquet_atomic(
        make_fact("fact_store_ops", 3, StoreID=99),
        layout.fact_month_file("fact_store_ops", 2024, 1),
    )
    result = runner.invoke(app, ["validate", "--data-dir", str(store), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["passed"] is False
    failed = {r["name"]: r["violations"] for r in report["results"] if not r["passed"]}
    assert failed["foreign key fact_store_ops.StoreID -> dim_stores.ID"] == 3


def test_validate_without_data_names_the_fix(runner: CliRunner, data_dir: Path) -> None:
    result = runner.invoke(app, ["validate", "--data-dir", str(data_dir)])
    assert result.exit_code == 2
    assert "generate --dims-only" in _one_error_line(result.stderr)


def test_export_writes_csv_files(runner: CliRunner, store: Path) -> None:
    result = runner.invoke(app, ["export", "--format", "csv", "--data-dir", str(store)])
    assert result.exit_code == 0, result.output
    assert (store / "export" / "dim_stores" / "dim_stores.csv").is_file()
    assert "10 files written" in result.stdout  # the dimensions
    bad = runner.invoke(
        app, ["export", "--format", "csv", "--tables", "dim_nope", "--data-dir", str(store)]
    )
    assert bad.exit_code == 2 and "unknown table" in _one_error_line(bad.stderr)


def test_clear_needs_yes_and_then_removes_generated_data(runner: CliRunner, store: Path) -> None:
    refused = runner.invoke(app, ["clear", "--data-dir", str(store)])
    assert refused.exit_code == 2 and "--yes" in _one_error_line(refused.stderr)
    assert (store / "retail.duckdb").exists()
    (store / "dictionaries").mkdir()
    done = runner.invoke(app, ["clear", "--yes", "--data-dir", str(store)])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in store.iterdir()) == ["dictionaries"]


def test_unexpected_errors_are_one_line_unless_debug(
    runner: CliRunner, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import retail_datagen.validation as validation

    def boom(data_dir: Path) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(validation, "validate", boom)
    result = runner.invoke(app, ["validate", "--data-dir", str(store)])
    assert result.exit_code == 1
    line = _one_error_line(result.stderr)
    assert "RuntimeError: disk on fire" in line and "--debug" in line
    debug = runner.invoke(app, ["--debug", "validate", "--data-dir", str(store)])
    assert isinstance(debug.exception, RuntimeError)


def test_ctrl_c_exits_130_cleanly(
    runner: CliRunner, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import retail_datagen.validation as validation

    def interrupted(data_dir: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(validation, "validate", interrupted)
    result = runner.invoke(app, ["validate", "--data-dir", str(store)])
    assert result.exit_code == 130
    assert "interrupted" in result.stderr and "Traceback" not in result.stderr


def test_secrets_in_error_messages_are_redacted(
    runner: CliRunner, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import retail_datagen.validation as validation

    def leaky(data_dir: Path) -> None:
        raise RuntimeError("cannot connect: Endpoint=sb://x/;SharedAccessKey=TOPSECRET==")

    monkeypatch.setattr(validation, "validate", leaky)
    result = runner.invoke(app, ["validate", "--data-dir", str(store)])
    assert "TOPSECRET" not in result.stderr and "SharedAccessKey=***" in result.stderr


# ---------------------------------------------------------------- generate, for real
@dataclass(frozen=True)
class SmallFolder:
    config: Path
    data: Path
    output: str  # what `generate --dims-only` printed


@pytest.fixture(scope="module")
def small_dims(tmp_path_factory: pytest.TempPathFactory) -> SmallFolder:
    """The small configuration's dimensions, generated once by `generate --dims-only`."""
    folder = tmp_path_factory.mktemp("small")
    config = folder / "config.json"
    config.write_text(json.dumps(SMALL_CONFIG), encoding="utf-8")
    data = folder / "data"
    args = ["generate", "--dims-only", "--config", str(config), "--data-dir", str(data)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return SmallFolder(config, data, result.stdout)


@pytest.fixture
def small(small_dims: SmallFolder, tmp_path: Path) -> SmallFolder:
    """A copy of the generated folder that a test may change."""
    data = tmp_path / "data"
    shutil.copytree(small_dims.data, data)
    return SmallFolder(small_dims.config, data, small_dims.output)


def _generate_days(runner: CliRunner, folder: SmallFolder, *args: str) -> Any:
    base = ["generate", "--config", str(folder.config), "--data-dir", str(folder.data)]
    return runner.invoke(app, [*base, "--workers", "1", *args])


def test_generate_dims_only_prints_row_counts_and_makes_no_facts(small_dims: SmallFolder) -> None:
    assert f"Dimensions in {small_dims.data}" in small_dims.output
    assert "dim_customers" in small_dims.output and "2,000" in small_dims.output
    assert not GenerationStateManager(small_dims.data).load().has_fact_data
    assert not any(
        p.name.startswith("fact_") for p in DataLayout.of(small_dims.data).export_dir.iterdir()
    )


def test_generate_creates_missing_dims_then_facts_for_n_days(
    runner: CliRunner, tmp_path: Path, small_config_file: Path
) -> None:
    folder = SmallFolder(small_config_file, tmp_path / "data", "")
    result = _generate_days(runner, folder, "--days", "2")
    assert result.exit_code == 0, result.output
    assert "dim_stores" in result.stdout and "Facts 2024-01-01 → 2024-01-02" in result.stdout
    assert "fact_receipt_lines" in result.stdout
    state = GenerationStateManager(folder.data).load()
    assert state.last_generated_timestamp is not None
    assert state.last_generated_timestamp.date() == date(2024, 1, 2)
    assert state.output_format == "parquet"


def test_generate_continues_after_existing_facts_in_their_format(
    runner: CliRunner, small: SmallFolder
) -> None:
    first = _generate_days(runner, small, "--days", "1", "--format", "csv", "--csv-daily")
    assert first.exit_code == 0, first.output
    again = _generate_days(runner, small, "--days", "1")  # no format: the stored one
    assert again.exit_code == 0, again.output
    assert "Dimensions" not in again.stdout and "Facts 2024-01-02 → 2024-01-02" in again.stdout
    receipts = DataLayout.of(small.data).table_dir("fact_receipts")
    assert sorted(p.name for p in receipts.iterdir()) == ["dt=2024-01-01", "dt=2024-01-02"]
    state = GenerationStateManager(small.data).load()
    assert (state.output_format, state.csv_daily) == ("csv", True)


def test_generate_force_regenerates_dims_and_removes_facts(
    runner: CliRunner, small: SmallFolder, make_fact: FactFactory
) -> None:
    layout = DataLayout.of(small.data)
    write_parquet_atomic(
        make_fact("fact_store_ops", 2), layout.fact_month_file("fact_store_ops", 2024, 1)
    )
    base = ["generate", "--dims-only", "--config", str(small.config), "--data-dir", str(small.data)]
    refused = runner.invoke(app, base)
    assert refused.exit_code == 2 and "--force" in _one_error_line(refused.stderr)
    assert layout.table_dir("fact_store_ops").exists()
    forced = runner.invoke(app, [*base, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "dim_stores" in forced.stdout
    assert not layout.table_dir("fact_store_ops").exists()


def test_generate_notes_when_stored_dimensions_differ_from_the_config(
    runner: CliRunner, small: SmallFolder, small_config_dict: dict[str, Any], tmp_path: Path
) -> None:
    other = tmp_path / "five_stores.json"
    other.write_text(json.dumps(_merge(small_config_dict, {"volume": {"stores": 5}})))
    result = _generate_days(runner, SmallFolder(other, small.data, ""), "--days", "1")
    assert result.exit_code == 0, result.output
    assert "have 6 stores but the configuration asks for 5" in result.stderr
    assert "Dimensions" not in result.stdout and "fact_receipts" in result.stdout


def test_generated_dimensions_pass_validation(runner: CliRunner, small_dims: SmallFolder) -> None:
    checked = runner.invoke(app, ["validate", "--data-dir", str(small_dims.data), "--json"])
    assert checked.exit_code == 0, checked.stdout[-3000:]
    report = json.loads(checked.stdout)
    assert report["passed"] and report["failures"] == 0
    assert all(r["violations"] in (None, 0) for r in report["results"])


def test_geographies_beyond_the_dictionary_are_refused_before_writing(
    runner: CliRunner, tmp_path: Path, small_config_dict: dict[str, Any]
) -> None:
    from retail_datagen.dictionaries.loader import DictionaryLoader

    available = DictionaryLoader().geographies().num_rows
    if available >= 1000:
        pytest.skip("the shipped geography dictionary has the configurable maximum of rows")
    change = {"volume": {"total_geographies": available + 1}}
    config = write_bad_config(tmp_path, small_config_dict, change)
    data = tmp_path / "data"
    args = ["generate", "--dims-only", "--config", str(config), "--data-dir", str(data)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "total_geographies" in _one_error_line(result.stderr)
    assert not data.exists()


def test_output_url_on_the_spark_engine_is_refused_not_ignored(
    runner: CliRunner, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    result = runner.invoke(
        app, ["generate", "--data-dir", str(data), "--engine", "spark", "--output", "az://c/p"]
    )
    assert result.exit_code == 2, result.output
    assert "--output is for the local engine" in _one_error_line(result.stderr)
    assert not data.exists()
