from __future__ import annotations

import builtins
import logging
from pathlib import Path
from typing import Any, ClassVar

import pytest

from retail_datagen.config import secrets
from retail_datagen.config.models import RetailConfig
from retail_datagen.config.secrets import (
    ENV_VAR,
    RedactingFilter,
    redact,
    resolve_connection_string,
)
from retail_datagen.errors import UserError

KEY = "c2VjcmV0LWtleS12YWx1ZS1kby1ub3QtbGVhaw=="
CONN = (
    "Endpoint=sb://demo.servicebus.windows.net/;SharedAccessKeyName=send;"
    f"SharedAccessKey={KEY};EntityPath=retail-events"
)
VAULT_CONN = CONN.replace(KEY, "dmF1bHQta2V5LXZhbHVl")
ENV_CONN = CONN.replace(KEY, "ZW52LWtleS12YWx1ZQ==")
FILE_CONN = CONN.replace(KEY, "ZmlsZS1rZXktdmFsdWU=")


def _config(**realtime: Any) -> RetailConfig:
    # azure_connection_string is always given: config/models.py currently rejects a realtime
    # section without it (strict validation of the SecretStr default; reported to the lead)
    return RetailConfig.from_mapping({"realtime": {"azure_connection_string": "", **realtime}})


class _Secret:
    def __init__(self, value: str | None) -> None:
        self.value = value


class FakeSecretClient:
    """Stands in for azure.keyvault.secrets.SecretClient (the SDK boundary only)."""

    calls: ClassVar[list[tuple[str, str]]] = []
    value: ClassVar[str | None] = VAULT_CONN
    error: ClassVar[Exception | None] = None

    def __init__(self, vault_url: str, credential: object) -> None:
        self.vault_url = vault_url
        assert isinstance(credential, FakeCredential)

    def get_secret(self, name: str) -> _Secret:
        FakeSecretClient.calls.append((self.vault_url, name))
        if FakeSecretClient.error is not None:
            raise FakeSecretClient.error
        return _Secret(FakeSecretClient.value)


class FakeCredential:
    pass


@pytest.fixture
def vault(monkeypatch: pytest.MonkeyPatch) -> type[FakeSecretClient]:
    import azure.identity
    import azure.keyvault.secrets

    monkeypatch.setattr(azure.keyvault.secrets, "SecretClient", FakeSecretClient)
    monkeypatch.setattr(azure.identity, "DefaultAzureCredential", FakeCredential)
    FakeSecretClient.calls = []
    FakeSecretClient.value = VAULT_CONN
    FakeSecretClient.error = None
    return FakeSecretClient


def test_keyvault_wins_over_environment_and_file(
    vault: type[FakeSecretClient], tmp_path: Path
) -> None:
    cfg = _config(
        use_keyvault=True,
        keyvault_url="https://demo.vault.azure.net/",
        keyvault_secret_name="eh-conn",
        azure_connection_string=FILE_CONN,
    )
    got = resolve_connection_string(cfg, environ={ENV_VAR: ENV_CONN}, dotenv_path=tmp_path / "x")
    assert got is not None and got.get_secret_value() == VAULT_CONN
    assert vault.calls == [("https://demo.vault.azure.net/", "eh-conn")]


def test_environment_wins_over_dotenv_and_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f'{ENV_VAR}="{FILE_CONN}-dotenv"\n')
    cfg = _config(azure_connection_string=FILE_CONN)
    got = resolve_connection_string(cfg, environ={ENV_VAR: ENV_CONN}, dotenv_path=dotenv)
    assert got is not None and got.get_secret_value() == ENV_CONN


def test_dotenv_is_read_without_touching_os_environ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    dotenv = tmp_path / ".env"
    dotenv.write_text(f'# local secrets\n{ENV_VAR}="{ENV_CONN}"\n')
    got = resolve_connection_string(_config(), dotenv_path=dotenv)
    assert got is not None and got.get_secret_value() == ENV_CONN
    import os

    assert ENV_VAR not in os.environ


def test_config_file_value_is_the_last_resort(tmp_path: Path) -> None:
    cfg = _config(azure_connection_string=FILE_CONN)
    got = resolve_connection_string(cfg, environ={}, dotenv_path=tmp_path / "missing")
    assert got is not None and got.get_secret_value() == FILE_CONN
    assert resolve_connection_string(_config(), environ={}, dotenv_path=tmp_path / "x") is None


def test_empty_environment_value_falls_through(tmp_path: Path) -> None:
    cfg = _config(azure_connection_string=FILE_CONN)
    got = resolve_connection_string(cfg, environ={ENV_VAR: "  "}, dotenv_path=tmp_path / "x")
    assert got is not None and got.get_secret_value() == FILE_CONN


def test_resolved_secret_never_shows_in_repr() -> None:
    got = resolve_connection_string(
        _config(azure_connection_string=FILE_CONN), environ={}, dotenv_path=Path("/nonexistent")
    )
    assert FILE_CONN not in repr(got) and FILE_CONN not in str(got)


def test_keyvault_sdk_error_is_a_user_error_without_secrets(
    vault: type[FakeSecretClient],
) -> None:
    vault.error = RuntimeError(f"authentication failed for {CONN}\nsecond line")
    cfg = _config(use_keyvault=True, keyvault_url="https://demo.vault.azure.net/")
    with pytest.raises(UserError) as err:
        resolve_connection_string(cfg, environ={ENV_VAR: ENV_CONN})
    message = str(err.value)
    assert "demo.vault.azure.net" in message and "RuntimeError" in message
    assert KEY not in message and "\n" not in message
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_empty_keyvault_secret_is_a_user_error(vault: type[FakeSecretClient]) -> None:
    vault.value = ""
    cfg = _config(use_keyvault=True, keyvault_url="https://demo.vault.azure.net/")
    with pytest.raises(UserError, match="is empty"):
        resolve_connection_string(cfg)


def test_missing_keyvault_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = builtins.__import__

    def no_azure(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("azure"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_azure)
    cfg = _config(use_keyvault=True, keyvault_url="https://demo.vault.azure.net/")
    with pytest.raises(UserError, match=r"pip install 'retail-datagen\[keyvault\]'"):
        secrets.resolve_connection_string(cfg)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (CONN, CONN.replace(KEY, "***")),
        ("SharedAccessKey=abc", "SharedAccessKey=***"),
        (
            "DefaultEndpointsProtocol=https;AccountKey=zz+/=;X=1",
            "DefaultEndpointsProtocol=https;AccountKey=***;X=1",
        ),
        ("host=db;password=hunter2;user=me", "host=db;password=***;user=me"),
        (
            "https://a.blob.core.windows.net/c?sv=1&sig=abc%2Fdef&se=2",
            "https://a.blob.core.windows.net/c?sv=1&sig=***&se=2",
        ),
        ("PASSWORD = s3cret and more", "PASSWORD = *** and more"),
        ("SharedAccessKeyName=send", "SharedAccessKeyName=send"),
    ],
)
def test_redact_masks_secret_values(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redact_masks_literal_extra_secrets() -> None:
    assert redact("token abc123 used", ["abc123"]) == "token *** used"


def test_no_secret_reaches_any_log_record(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("retail_datagen.test_secrets")
    redacting = RedactingFilter()
    logger.addFilter(redacting)
    try:
        with caplog.at_level(logging.DEBUG, logger=logger.name):
            logger.info("connecting with %s", CONN)
            logger.warning(f"raw {CONN}")
            logger.error("dict %(c)s", {"c": CONN})
            try:
                raise ValueError(f"bad {CONN}")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.removeFilter(redacting)
    assert len(caplog.records) == 4
    for record in caplog.records:
        assert KEY not in record.getMessage()
        assert "SharedAccessKey=***" in record.getMessage() or record.exc_text
        assert KEY not in (record.exc_text or "")
    assert KEY not in caplog.text
