"""``--output az://…`` / ``abfss://…``: fact tables written straight to Azure storage as Delta
tables (Blob end to end against Azurite; the DFS endpoint, which Azurite does not emulate, at
the SDK boundary), credentials from the environment and never shown."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from deltalake import DeltaTable
from tests.remote.conftest import ACCOUNT, KEY, Azurite
from tests.volumes import small_config
from typer.testing import CliRunner

from retail_datagen.cli import app
from retail_datagen.config.models import RetailConfig
from retail_datagen.errors import DataStateError, UserError
from retail_datagen.generators.fact_generator import FactDataGenerator
from retail_datagen.generators.master_generator import MasterDataGenerator
from retail_datagen.schema import FACTS
from retail_datagen.storage import remote
from retail_datagen.storage.digest import table_digests
from retail_datagen.storage.remote import azure_options, fact_location, parse_azure_url

_AZURE_VARS = (
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_TOKEN",
    "AZURE_STORAGE_ENDPOINT",
)


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets: no developer credentials, no identity probing."""
    for name in _AZURE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(remote, "_identity_token", lambda: None)


def _config(root: Path) -> RetailConfig:
    return small_config(root, start="2024-01-30")


@pytest.fixture(scope="module")
def dims(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("azure") / "dims"
    MasterDataGenerator(_config(root)).generate_all_master_data()
    return root


@pytest.fixture(scope="module")
def parquet_digests(dims: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("azure-parquet") / "data"
    shutil.copytree(dims, root)
    FactDataGenerator(_config(root), workers=1).generate_historical_data("2024-01-30", "2024-02-01")
    return table_digests(root)


@pytest.fixture
def container(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"lake-{uuid.uuid4().hex[:8]}"
    azurite.create_container(name)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    return name


def test_facts_go_to_blob_storage_as_delta_tables_and_read_back_as_the_parquet_output(
    dims: Path, parquet_digests: dict[str, str], container: str, tmp_path: Path
) -> None:
    root = tmp_path / "data"
    shutil.copytree(dims, root)
    url = f"az://{container}/retail"
    for first, last in (("2024-01-30", "2024-01-31"), (None, "2024-02-01")):
        FactDataGenerator(
            _config(root), workers=1, output_format="delta", output_url=url
        ).generate_historical_data(first, last)

    assert table_digests(root) == parquet_digests
    location = fact_location(root / "export", url)
    for decl in FACTS:
        table = DeltaTable(location.table_uri(decl.name), storage_options=location.delta_options())
        assert table.version() == 1, f"{decl.name}: one commit per run"
    # nothing but the rows in flight (and the dimension exports) is on local disk
    local = [p.name for p in (root / "export").rglob("fact_*") if p.is_file()]
    assert local == ["fact_online_orders_in_flight.parquet"]

    # another (fresh) data folder never appends to these tables
    fresh = tmp_path / "fresh"
    shutil.copytree(dims, fresh)
    with pytest.raises(DataStateError, match="already holds Delta tables"):
        FactDataGenerator(
            _config(fresh), workers=1, output_format="delta", output_url=url
        ).generate_historical_data("2024-01-30", "2024-01-30")


def test_the_cli_never_shows_the_key_and_refuses_bad_urls_in_one_line(
    dims: Path, container: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "data"
    shutil.copytree(dims, root)
    cfg = tmp_path / "config.json"
    cfg.write_text(_config(root).model_dump_json())
    runner = CliRunner()
    base = ["generate", "--config", str(cfg), "--start", "2024-01-30", "--days", "1"]

    ok = runner.invoke(app, [*base, "--output", f"az://{container}/cli"])
    assert ok.exit_code == 0, ok.output
    for url, expected in (
        ("s3://bucket/x", "not an Azure storage URL"),
        (f"az://{container}/x?sv=2024&sig=SECRETSIGNATURE", "not in the URL"),
        ("abfss://c@not a host/x", "abfss://CONTAINER@ACCOUNT"),
        (f"az://{container}/cli", None),  # continuing the same output is fine
    ):
        result = runner.invoke(app, [*base[:3], "--output", url, "--days", "1"])
        if expected is None:
            assert result.exit_code == 0, result.output
            continue
        assert result.exit_code == 2, result.output
        assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "SECRETSIGNATURE" not in result.output + result.stderr
    other = runner.invoke(app, [*base[:3], "--output", f"az://{container}/elsewhere"])
    assert other.exit_code == 2 and "existing facts are in az://" in other.stderr
    for result in (ok, other):
        assert KEY not in result.output + result.stderr


def test_missing_refused_and_unreachable_credentials_are_one_line_errors(
    azurite: Azurite, container: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    with pytest.raises(UserError, match="no storage account"):
        fact_location(tmp_path, f"az://{container}/x")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", ACCOUNT)
    with pytest.raises(UserError, match="no Azure credentials; set AZURE_STORAGE_CONNECTION"):
        fact_location(tmp_path, f"az://{container}/x")

    wrong = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", wrong)
    monkeypatch.setenv("AZURE_STORAGE_ENDPOINT", azurite.endpoint)
    with pytest.raises(UserError) as refused:
        fact_location(tmp_path, f"az://{container}/x").check()
    assert "credentials were refused" in str(refused.value) and wrong not in str(refused.value)

    monkeypatch.setenv("AZURE_STORAGE_ENDPOINT", "http://127.0.0.1:9/devstoreaccount1")
    with pytest.raises(UserError) as unreachable:
        fact_location(tmp_path, f"az://{container}/x").check()
    assert "cannot be reached" in str(unreachable.value) and wrong not in str(unreachable.value)
    assert "\n" not in str(unreachable.value)


def test_abfss_urls_wire_the_account_and_credentials_into_the_sdks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The DFS endpoint (ADLS Gen2, OneLake) is not emulated by Azurite: the URL forms and the
    options handed to obstore and delta-rs are checked here, without a network."""
    adls = parse_azure_url("abfss://raw@mylake.dfs.core.windows.net/retail/v1/")
    assert (adls.container, adls.account, adls.path, adls.fabric) == (
        "raw",
        "mylake",
        "retail/v1",
        False,
    )
    assert adls.display == "abfss://raw@mylake.dfs.core.windows.net/retail/v1"
    onelake = parse_azure_url("abfss://ws@onelake.dfs.fabric.microsoft.com/lh.Lakehouse/Files")
    assert onelake.fabric and onelake.account == "onelake"

    sas = "sv=2024-01-01&sig=abc%2Fdef"
    options = azure_options(adls, {"AZURE_STORAGE_SAS_TOKEN": f"?{sas}"})
    assert options == {"account_name": "mylake", "sas_key": sas}
    keyed = azure_options(onelake, {"AZURE_STORAGE_TOKEN": "tok-123"})
    assert keyed == {"account_name": "onelake", "use_fabric_endpoint": "true", "token": "tok-123"}

    monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", sas)
    location = fact_location(Path("/nonexistent"), "abfss://raw@mylake.dfs.core.windows.net/r")
    assert location.table_uri("fact_receipts") == (
        "abfss://raw@mylake.dfs.core.windows.net/r/fact_receipts"
    )
    assert "tok" not in repr(location) and "sig" not in repr(location)
    store = location.store
    assert store.config["account_name"] == "mylake" and store.prefix == "r"
    assert remote.scrub(f"failed: {sas} sig=abc%2Fdef", options).count("abc") == 0
